"""The SQL unit of work: one connection, one transaction, the facility's ledger on it."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

from sqlalchemy import Connection, RootTransaction
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.sql.expression import RollbackToSavepointClause, SavepointClause

from triage.adapters.changes import ChangeHub, keys_of
from triage.adapters.checkpoint_file import CheckpointFile
from triage.adapters.clock import SystemClock
from triage.adapters.database import Database
from triage.adapters.fastsql import Statement
from triage.adapters.ledger_store import SqlLedger, SqlLogOpener, SqlLogStorage, tile_cache
from triage.adapters.packaged_data import PackagedFiles
from triage.adapters.passwords import Argon2Passwords
from triage.adapters.totp import PyotpCodes
from triage.adapters.witness_client import HttpWitnessClient
from triage.config import Settings
from triage.errors import Conflict, DatabaseUnavailable, RecordDisagrees
from triage.ledger.entry import Entry
from triage.ledger.tiles import TileCache
from triage.services.ports import Clock, UnitOfWork
from triage.services.throttle import Throttles

if TYPE_CHECKING:
    from triage.adapters.assessment_repository import SqlAssessmentRepository
    from triage.adapters.asset_owner_repository import SqlAssetOwnerRepository
    from triage.adapters.assurance_repository import SqlAssuranceRepository
    from triage.adapters.consignment_repository import SqlConsignmentRepository
    from triage.adapters.cosignature_repository import SqlCosignatureRepository
    from triage.adapters.credential_repository import SqlCredentialRepository
    from triage.adapters.custody_repository import SqlCustodyRepository
    from triage.adapters.device_repository import SqlDeviceRepository
    from triage.adapters.dispatch_repository import SqlDispatchRepository
    from triage.adapters.disposal_repository import SqlDisposalRepository
    from triage.adapters.duis_request_repository import SqlDuisRequestRepository
    from triage.adapters.exception_repository import SqlExceptionRepository
    from triage.adapters.facilities import SqlFacilityRepository
    from triage.adapters.hub_return_repository import SqlHubReturnRepository
    from triage.adapters.incident_repository import SqlIncidentRepository
    from triage.adapters.inventory_repository import SqlInventoryRepository
    from triage.adapters.job_repository import SqlJobRepository
    from triage.adapters.operator_repository import SqlOperatorRepository
    from triage.adapters.policy_repository import SqlPolicyRepository
    from triage.adapters.retention_repository import SqlRetentionRepository
    from triage.adapters.seal_repository import SqlSealRepository
    from triage.adapters.security_log_repository import SqlSecurityLogRepository
    from triage.adapters.security_repository import SqlSecurityRepository
    from triage.adapters.token_repository import SqlTokenRepository
    from triage.adapters.tool_repository import SqlToolRepository
    from triage.adapters.work_order_repository import SqlWorkOrderRepository


# The savepoint after a transaction's first step (``first_write``), as ``fastsql`` statements:
# SQLAlchemy's own (``Connection.begin_nested``) compiles its SAVEPOINT and RELEASE anew each
# time (they are not cached), which cost more than the step itself, on every signed request of a
# tool. The commit keeps the savepoint's work with the rest; no RELEASE is needed.
_FIRST_WRITE = "first_write"
_KEEP_FIRST_WRITE = Statement(SavepointClause(_FIRST_WRITE))  # type: ignore[no-untyped-call]
_UNDO_AFTER_FIRST_WRITE = Statement(
    RollbackToSavepointClause(_FIRST_WRITE)  # type: ignore[no-untyped-call]
)


class SqlUnitOfWork:
    """Rolls back on leaving unless ``commit`` was called.

    A writing unit of work holds the facility's writer lock from its start (SQLite: the
    database's write lock; PostgreSQL: an advisory lock), so what it reads to check a step
    cannot change before the step is recorded: of two identical requests at once, the second
    sees the first's result and is refused. A unique key the checks missed is a Conflict too,
    never a database error.
    """

    def __init__(self, factory: SqlUnitOfWorkFactory, write: bool) -> None:
        # What a unit of work reads or is handed is its factory's: one clock, one Settings,
        # one tile cache, one set of packaged data for every unit of work of the facility.
        self._factory = factory
        self._database = factory.database
        self.facility_id = factory.facility_id
        self.packaged = factory.packaged
        self.clock = factory.clock
        self.settings = factory.settings
        self._write = write
        self._cache = factory.tile_cache()
        self._conn: Connection | None = None
        self._locked = False
        self._tx: RootTransaction | None = None
        self._open: Connection | None = None
        # The entries recorded in this transaction: after the commit, whoever waits on what
        # they are about is woken (``ChangeHub``).
        self._recorded: list[Entry] = []
        self._indexes: list[int] = []  # and their indexes in the ledger
        # Whether what this transaction's first step wrote (``first_write``) is kept by a
        # savepoint: it is committed even when the rest of the transaction is not.
        self._kept = False

    def __enter__(self) -> Self:
        if self._write and self._database.dialect == "sqlite":
            # SQLite admits one writer at a time; writers of this process queue here instead of
            # sleeping and polling in SQLite's busy handler.
            self._database.write_lock.acquire()
            self._locked = True
        try:
            conn = self._database.engine.connect()
            self._conn = conn
            if self._write:
                conn = self._database.write_options(conn)
            elif self._database.dialect == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            self._tx = conn.begin()
            if self._write:
                self._database.lock_writers(conn, self.facility_id)
            self._open = conn
            first = self._factory.take_first_write() if self._write else None
            if first is not None:
                first(self)
                _KEEP_FIRST_WRITE.run(conn)
                self._kept = True
        except BaseException as exc:
            self.__exit__(None, None, None)
            if isinstance(exc, _UNAVAILABLE):
                raise database_unavailable(exc) from exc
            raise
        return self

    # The repositories, each made when first used: a unit of work uses a few of them, and
    # making all 27 cost a read of one row more than the read itself.
    def _conn_in_use(self) -> Connection:
        if self._open is None:
            raise RuntimeError("unit of work is not open")
        return self._open

    @cached_property
    def ledger(self) -> SqlLedger:
        return _NotingLedger(
            self._conn_in_use(), self.facility_id, self._cache, self._recorded, self._indexes
        )

    @cached_property
    def facilities(self) -> SqlFacilityRepository:
        from triage.adapters.facilities import SqlFacilityRepository

        return SqlFacilityRepository(self._conn_in_use(), self.facility_id)

    @cached_property
    def operators(self) -> SqlOperatorRepository:
        from triage.adapters.operator_repository import SqlOperatorRepository

        return SqlOperatorRepository(self._conn_in_use())

    @cached_property
    def tokens(self) -> SqlTokenRepository:
        from triage.adapters.token_repository import SqlTokenRepository

        return SqlTokenRepository(self._conn_in_use())

    @cached_property
    def tools(self) -> SqlToolRepository:
        from triage.adapters.tool_repository import SqlToolRepository

        return SqlToolRepository(self._conn_in_use())

    @cached_property
    def policies(self) -> SqlPolicyRepository:
        from triage.adapters.policy_repository import SqlPolicyRepository

        return SqlPolicyRepository(self._conn_in_use())

    @cached_property
    def consignments(self) -> SqlConsignmentRepository:
        from triage.adapters.consignment_repository import SqlConsignmentRepository

        return SqlConsignmentRepository(self._conn_in_use())

    @cached_property
    def devices(self) -> SqlDeviceRepository:
        from triage.adapters.device_repository import SqlDeviceRepository

        return SqlDeviceRepository(self._conn_in_use())

    @cached_property
    def jobs(self) -> SqlJobRepository:
        from triage.adapters.job_repository import SqlJobRepository

        return SqlJobRepository(self._conn_in_use())

    @cached_property
    def work_orders(self) -> SqlWorkOrderRepository:
        from triage.adapters.work_order_repository import SqlWorkOrderRepository

        return SqlWorkOrderRepository(self._conn_in_use())

    @cached_property
    def security_logs(self) -> SqlSecurityLogRepository:
        from triage.adapters.security_log_repository import SqlSecurityLogRepository

        return SqlSecurityLogRepository(self._conn_in_use())

    @cached_property
    def exceptions(self) -> SqlExceptionRepository:
        from triage.adapters.exception_repository import SqlExceptionRepository

        return SqlExceptionRepository(self._conn_in_use())

    @cached_property
    def credentials(self) -> SqlCredentialRepository:
        from triage.adapters.credential_repository import SqlCredentialRepository

        return SqlCredentialRepository(self._conn_in_use())

    @cached_property
    def security(self) -> SqlSecurityRepository:
        from triage.adapters.security_repository import SqlSecurityRepository

        return SqlSecurityRepository(self._conn_in_use())

    @cached_property
    def seals(self) -> SqlSealRepository:
        from triage.adapters.seal_repository import SqlSealRepository

        return SqlSealRepository(self._conn_in_use())

    @cached_property
    def assurance(self) -> SqlAssuranceRepository:
        from triage.adapters.assurance_repository import SqlAssuranceRepository

        return SqlAssuranceRepository(self._conn_in_use())

    @cached_property
    def assessments(self) -> SqlAssessmentRepository:
        from triage.adapters.assessment_repository import SqlAssessmentRepository

        return SqlAssessmentRepository(self._conn_in_use())

    @cached_property
    def asset_owners(self) -> SqlAssetOwnerRepository:
        from triage.adapters.asset_owner_repository import SqlAssetOwnerRepository

        return SqlAssetOwnerRepository(self._conn_in_use())

    @cached_property
    def dispatches(self) -> SqlDispatchRepository:
        from triage.adapters.dispatch_repository import SqlDispatchRepository

        return SqlDispatchRepository(self._conn_in_use())

    @cached_property
    def disposals(self) -> SqlDisposalRepository:
        from triage.adapters.disposal_repository import SqlDisposalRepository

        return SqlDisposalRepository(self._conn_in_use())

    @cached_property
    def custody(self) -> SqlCustodyRepository:
        from triage.adapters.custody_repository import SqlCustodyRepository

        return SqlCustodyRepository(self._conn_in_use())

    @cached_property
    def retention(self) -> SqlRetentionRepository:
        from triage.adapters.retention_repository import SqlRetentionRepository

        return SqlRetentionRepository(self._conn_in_use())

    @cached_property
    def inventory(self) -> SqlInventoryRepository:
        from triage.adapters.inventory_repository import SqlInventoryRepository

        return SqlInventoryRepository(self._conn_in_use())

    @cached_property
    def duis_requests(self) -> SqlDuisRequestRepository:
        from triage.adapters.duis_request_repository import SqlDuisRequestRepository

        return SqlDuisRequestRepository(self._conn_in_use())

    @cached_property
    def hub_returns(self) -> SqlHubReturnRepository:
        from triage.adapters.hub_return_repository import SqlHubReturnRepository

        return SqlHubReturnRepository(self._conn_in_use())

    @cached_property
    def incidents(self) -> SqlIncidentRepository:
        from triage.adapters.incident_repository import SqlIncidentRepository

        return SqlIncidentRepository(self._conn_in_use())

    @cached_property
    def cosignatures(self) -> SqlCosignatureRepository:
        from triage.adapters.cosignature_repository import SqlCosignatureRepository

        return SqlCosignatureRepository(self._conn_in_use(), self.facility_id)

    def commit(self) -> None:
        if self._tx is None:
            raise RuntimeError("unit of work is not open")
        try:
            self._kept = False  # the commit keeps it with the rest
            self._tx.commit()
        except IntegrityError as exc:
            raise integrity_conflict(exc) from exc
        except _UNAVAILABLE as exc:
            raise database_unavailable(exc) from exc
        if self._recorded:
            changes = self._factory.changes
            changes.committed(self._indexes)
            if changes.waiting:  # else nobody to wake (a waiter registers before it reads)
                changes.publish(keys_of(self._recorded))
            self._recorded.clear()
            self._indexes.clear()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._tx is not None and self._tx.is_active:
                self._roll_back()
        finally:
            if self._conn is not None:
                self._conn.close()
            self._conn = self._tx = self._open = None
            self._kept = False
            self._recorded.clear()
            self._indexes.clear()
            for name in _REPOSITORIES:  # none outlives its connection
                self.__dict__.pop(name, None)
            if self._locked:
                self._locked = False
                self._database.write_lock.release()
        if isinstance(exc, IntegrityError):
            raise integrity_conflict(exc) from exc
        if isinstance(exc, _UNAVAILABLE):
            raise database_unavailable(exc) from exc
        if isinstance(exc, RecordDisagrees) and exc.record is not None:
            # The refused step has rolled back; the refusal (an alert) is recorded on its own.
            record, exc.record = exc.record, None
            with self._factory(write=True) as again:
                record(again)
                again.commit()

    def _roll_back(self) -> None:
        """Undo the transaction, all but what its first step wrote (``first_write``), which
        is committed alone."""
        assert self._tx is not None
        assert self._open is not None
        kept, self._kept = self._kept, False
        if not kept:
            self._tx.rollback()
            return
        try:
            _UNDO_AFTER_FIRST_WRITE.run(self._open)
            self._tx.commit()
        except BaseException:
            if self._tx.is_active:
                self._tx.rollback()
            raise


class _NotingLedger(SqlLedger):
    """The ledger of one unit of work, which notes the entries it records (``recorded``), so
    that the unit of work can say what changed once they are committed."""

    def __init__(
        self,
        conn: Connection,
        log_id: str,
        cache: TileCache,
        recorded: list[Entry],
        indexes: list[int],
    ) -> None:
        super().__init__(conn, log_id, cache)
        self._noted = recorded
        self._indexes = indexes

    def record(self, entries: Sequence[Entry]) -> int:
        first = super().record(entries)
        self._noted.extend(entries)
        self._indexes.extend(range(first, first + len(entries)))
        return first


class ChangeReader:
    """The ledger's size, read every few milliseconds by a ``changes.ChangeWatcher`` on a
    connection of its own (the head's one indexed read, no transaction kept open), and the
    entries after a size, read in a unit of work when someone may wait on them."""

    def __init__(self, factory: SqlUnitOfWorkFactory) -> None:
        self._factory = factory
        self._conn: Connection | None = None

    def __call__(
        self, size: int | None, most: int, skip: Callable[[int, int], bool]
    ) -> tuple[int, list[tuple[int, bytes]] | None]:
        """The ledger's size now, and the entries recorded from index ``size`` on as (index,
        stored bytes): None for them when there are more than ``most``; none read when ``size``
        is None or ``skip(size, now)``."""
        now = self._size()
        if size is None or now <= size or skip(size, now):
            return now, []
        if now - size > most:
            return now, None
        with self._factory(write=False) as uow:
            storage = uow.ledger.storage
            return now, [found for batch in storage.read_entries(size, now) for found in batch]

    def _size(self) -> int:
        if self._conn is None:
            self._conn = self._factory.database.engine.connect()
        try:
            size = SqlLogStorage(self._conn, self._factory.facility_id).read_head().size
            self._conn.rollback()  # no transaction left open between two reads
        except BaseException:
            self.close()
            raise
        return size

    def close(self) -> None:
        """Give the connection back (the watcher stops)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()


def default_settings(database: Database) -> Settings:
    """The settings of a factory given none: today's intervals and limits on ``database``,
    no data directory of its own (the current directory)."""
    return Settings(data_dir=Path("."), database_url=database.url)


# The unit of work's repositories (its cached properties), forgotten when it closes.
_REPOSITORIES = tuple(
    name for name, value in vars(SqlUnitOfWork).items() if isinstance(value, cached_property)
)

# What the database driver raises when the database cannot be used at all.
_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)


def database_unavailable(exc: Exception) -> DatabaseUnavailable:
    """The database down, unreachable or out of disk, as the error entrypoints answer 503."""
    text = str(getattr(exc, "orig", None) or exc)
    full = "disk is full" in text.lower() or "no space left" in text.lower()
    return DatabaseUnavailable(text.strip().splitlines()[0] if text.strip() else "", full)


def integrity_conflict(exc: IntegrityError) -> Conflict:
    """A unique key or other constraint the database refused, as a Conflict saying which."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)  # psycopg names the constraint and the clashing key
    if diag is not None and (diag.constraint_name or diag.message_detail):
        what = "; ".join(p for p in (diag.constraint_name, diag.message_detail) if p)
    else:
        what = str(orig).strip().splitlines()[0] if orig is not None else "a constraint"
    return Conflict(
        f"this change clashes with what is already recorded ({what[:300]}); nothing was "
        "changed: reload and try again"
    )


class SqlUnitOfWorkFactory:
    """Opens units of work on one database for one facility."""

    def __init__(
        self,
        database: Database,
        facility_id: str,
        keeper: CheckpointFile | None = None,
        *,
        passwords: Argon2Passwords | None = None,
        totp: PyotpCodes | None = None,
        packaged: PackagedFiles | None = None,
        clock: Clock | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.database = database
        self.facility_id = facility_id
        self._keeper = keeper
        # The crypto, file and time adapters the use cases reach through the factory; a
        # process that only reads the ledger (a worker, a test's writer) takes the defaults.
        self.passwords = passwords or Argon2Passwords()
        self.totp = totp or PyotpCodes()
        self.packaged = packaged or PackagedFiles()
        self.clock: Clock = clock or SystemClock()
        self.settings = settings or default_settings(database)
        self.throttles = Throttles()
        # Who waits in this process for what the facility records (the API's waiting reads).
        self.changes = ChangeHub()
        self._witnesses = HttpWitnessClient()
        url = database.engine.url.render_as_string(hide_password=True)
        self._cache = tile_cache(url, facility_id)
        self._first: Callable[[UnitOfWork], None] | None = None

    def __call__(self, *, write: bool) -> SqlUnitOfWork:
        return SqlUnitOfWork(self, write)

    def first_write(self, step: Callable[[UnitOfWork], None]) -> SqlUnitOfWorkFactory:
        """This factory, but the first writing unit of work it opens runs ``step`` first
        (after taking the writer lock) and commits what ``step`` wrote even when the rest of
        its transaction is rolled back; an error ``step`` raises rolls back and is raised
        from the ``with``. The step is run once, by that unit of work alone."""
        taken = copy.copy(self)
        taken._first = step
        return taken

    def take_first_write(self) -> Callable[[UnitOfWork], None] | None:
        """The step ``first_write`` set, once; None after that, or when none was set."""
        step, self._first = self._first, None
        return step

    def tile_cache(self) -> TileCache:
        """This process's memory of the facility log's tiles."""
        return self._cache

    def checkpoint_keeper(self) -> CheckpointFile | None:
        """The facility's checkpoint kept in its data directory (None: none is kept)."""
        return self._keeper

    def witness_client(self) -> HttpWitnessClient:
        """The facility's HTTP client of its witnesses (one, shared by its threads)."""
        return self._witnesses

    def change_reader(self) -> ChangeReader:
        """What a ``changes.ChangeWatcher`` reads the ledger with."""
        return ChangeReader(self)

    def log_opener(self) -> SqlLogOpener:
        """A picklable way for another process to read this facility's log."""
        return SqlLogOpener(self.database.url, self.facility_id)
