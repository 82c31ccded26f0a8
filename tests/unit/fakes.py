"""A fake unit of work: the services' ports held in memory, for fast use-case tests.

The fake keeps the two promises a use case relies on:
- **all or nothing**: a unit of work works on a copy of the fake database and only ``commit``
  makes it the database's state; leaving the block without it (or with an exception) loses
  every change, entries included;
- **entries make the state**: ``uow.ledger.record`` appends to a real ``triage.ledger.Log`` (in
  memory) and hands each entry to the fake repositories that project its type, as the SQL
  projector does for the tables. A fake repository never changes on a use case's say-so
  except for what the real one keeps beside the projections (token secrets, used nonces).

Each area's fake repository lives in its own module (``fake_*.py``) and declares the entry types
it projects; ``test_fakes.py`` checks that together they project every type the SQL projector
does, so a new entry type without a fake projection fails there, not in a confusing use-case
test.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

from triage.adapters.packaged_data import PackagedFiles
from triage.config import Settings
from triage.errors import RecordDisagrees
from triage.ledger.entry import Entry
from triage.ledger.log import Log, LogStorage, StoredCheckpoint
from triage.ledger.memory import MemoryLogStorage
from triage.ledger.tiles import TileCache
from triage.services.ports import UnitOfWork, WitnessClient, WitnessUnreachable
from triage.services.throttle import Throttles

if TYPE_CHECKING:
    from tests.unit.fake_assessments import FakeAssessmentRepository
    from tests.unit.fake_asset_owners import FakeAssetOwnerRepository
    from tests.unit.fake_assurance import FakeAssuranceRepository
    from tests.unit.fake_consignments import FakeConsignmentRepository
    from tests.unit.fake_credentials import FakeCredentialRepository
    from tests.unit.fake_custody import FakeCustodyRepository
    from tests.unit.fake_devices import FakeDeviceRepository
    from tests.unit.fake_dispatches import FakeDispatchRepository
    from tests.unit.fake_disposals import FakeDisposalRepository
    from tests.unit.fake_duis_requests import FakeDuisRequestRepository
    from tests.unit.fake_exceptions import FakeExceptionRepository
    from tests.unit.fake_facilities import FakeFacilityRepository
    from tests.unit.fake_hub_returns import FakeHubReturnRepository
    from tests.unit.fake_incidents import FakeIncidentRepository
    from tests.unit.fake_inventory import FakeInventoryRepository
    from tests.unit.fake_jobs import FakeJobRepository
    from tests.unit.fake_operators import FakeOperatorRepository
    from tests.unit.fake_policies import FakePolicyRepository
    from tests.unit.fake_retention import FakeRetentionRepository
    from tests.unit.fake_seals import FakeSealRepository
    from tests.unit.fake_security import FakeSecurityRepository
    from tests.unit.fake_security_logs import FakeSecurityLogRepository
    from tests.unit.fake_tokens import FakeTokenRepository
    from tests.unit.fake_tools import FakeToolRepository
    from tests.unit.fake_witnessing import FakeCosignatureRepository
    from tests.unit.fake_work_orders import FakeWorkOrderRepository

FACILITY_ID = "unit"
T = TypeVar("T")
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class FakeClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, at: datetime = START) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, by: timedelta) -> datetime:
        """Move the clock forward by ``by``; returns the new time."""
        self.at += by
        return self.at


class FakePasswords:
    """A password hasher that is cheap and still refuses a wrong password (not Argon2: the
    adapter's own tests cover that)."""

    PREFIX = "fake$"

    def hash(self, password: str) -> str:
        return self.PREFIX + password[::-1]

    def verify(self, stored_hash: str | None, password: str) -> bool:
        return stored_hash is not None and stored_hash == self.hash(password)

    def needs_rehash(self, stored_hash: str) -> bool:
        return not stored_hash.startswith(self.PREFIX)


class FakeTotp:
    """TOTP codes a test can predict: the code of a step is the step's last six digits mixed
    with the secret's length."""

    def __init__(self) -> None:
        self._made = 0

    def new_secret(self) -> str:
        self._made += 1
        return f"FAKESECRET{self._made:06d}"

    def provisioning_uri(self, secret: str, operator_id: str, issuer: str) -> str:
        return f"otpauth://totp/{issuer}:{operator_id}?secret={secret}&issuer={issuer}"

    def code(self, secret: str, step: int) -> str:
        return f"{(step + len(secret)) % 1_000_000:06d}"


ProjectionMethod = Callable[[Any, Entry, int], None]


def projects(*entry_types: str) -> Callable[[ProjectionMethod], ProjectionMethod]:
    """Mark a fake repository's method as the projection of ``entry_types``: it is called with
    the entry and its log index, in the order the entries are recorded."""

    def mark(method: ProjectionMethod) -> ProjectionMethod:
        method._projects = entry_types  # type: ignore[attr-defined]
        return method

    return mark


class FakeTables:
    """Base of the fake repositories: what ``@projects`` marks, ``apply`` runs.

    ``handles`` is every entry type a class (with its bases and mixins) projects."""

    handles: ClassVar[frozenset[str]] = frozenset()
    _projections: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        marked: dict[str, tuple[str, ...]] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if hasattr(value, "_projects"):
                    marked[name] = value._projects
        by_type: dict[str, list[str]] = {}
        for name, entry_types in marked.items():
            for entry_type in entry_types:
                by_type.setdefault(entry_type, []).append(name)
        cls._projections = {t: tuple(names) for t, names in by_type.items()}
        cls.handles = frozenset(by_type)

    def apply(self, entry: Entry, index: int) -> None:
        """Change the fake tables as the SQL projector does for ``entry`` at log ``index``."""
        for name in self._projections.get(entry.type, ()):
            getattr(self, name)(entry, index)


@dataclass
class Subject:
    """One row of the subject index: which entry is about what."""

    index: int
    entry_type: str
    kind: str
    id: str


class ClockedLogStorage(MemoryLogStorage):
    """The in-memory log storage, noting when each checkpoint was stored by the factory's clock
    (the SQL table's ``issued_at``). The clock is the factory's, shared by every copy."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.issued_at: dict[int, datetime] = {}

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        if checkpoint.size not in self.checkpoints:
            self.issued_at[checkpoint.size] = self.clock.now()
        super().add_checkpoint(checkpoint)

    def __deepcopy__(self, memo: dict[int, Any]) -> ClockedLogStorage:
        copied = copy.copy(self)
        for name, value in vars(self).items():
            if name != "clock":
                setattr(copied, name, copy.deepcopy(value, memo))
        return copied


@dataclass
class FakeDatabase:
    """Everything the fake holds: the log, the subject index and the fake repositories (one
    an area, made by the factories registered with ``area``)."""

    storage: MemoryLogStorage = field(default_factory=MemoryLogStorage)
    subjects: list[Subject] = field(default_factory=list)
    areas: dict[str, FakeTables] = field(default_factory=dict)

    def repository(self, name: str, kind: type[T]) -> T:
        """The fake repository of area ``name`` (``uow.<name>``), for another area's fake that
        reads its records where the SQL repositories join its tables."""
        found = self.areas[name]
        assert isinstance(found, kind), (name, found)
        return found


class FakeLedger:
    """``LedgerRecorder`` over a real ``Log`` in memory, with a tile cache of its own: a
    rolled-back copy may hold tiles the committed log never will."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.storage: LogStorage = database.storage
        self.log = Log(database.storage, TileCache())

    def create(self) -> None:
        """The memory storage starts empty: nothing to create."""

    def record(self, entries: Sequence[Entry]) -> int:
        first = self.log.append([entry.to_bytes() for entry in entries])
        for offset, entry in enumerate(entries):
            index = first + offset
            self._database.subjects.append(
                Subject(index, entry.type, entry.subject.kind, entry.subject.id)
            )
            for area in self._database.areas.values():
                if entry.type in area.handles:
                    area.apply(entry, index)
        return first

    def indexes_for(self, subject_kind: str, subject_id: str) -> list[int]:
        return [
            s.index for s in self._database.subjects if (s.kind, s.id) == (subject_kind, subject_id)
        ]

    def latest_about(
        self, subject_kind: str, subject_id: str, limit: int, before: int | None = None
    ) -> list[tuple[int, bytes | None]]:
        found = [
            i for i in self.indexes_for(subject_kind, subject_id) if before is None or i < before
        ]
        newest = sorted(found, reverse=True)[:limit]
        return [(i, self._database.storage.entries.get(i)) for i in newest]

    def entries(self) -> list[Entry]:
        """Every entry recorded so far, oldest first (for tests' assertions)."""
        size = self.log.head().size
        return [Entry.from_bytes(self.log.entry(i)) for i in range(size)]


# One factory per area: ``name -> (database) -> repository``. Area modules register here.
AreaFactory = Callable[[FakeDatabase], FakeTables]
AREAS: dict[str, AreaFactory] = {}


def area(name: str) -> Callable[[AreaFactory], AreaFactory]:
    """Register the fake repository of one area (``uow.<name>``)."""

    def register(factory: AreaFactory) -> AreaFactory:
        AREAS[name] = factory
        return factory

    return register


def _load_areas() -> None:
    # The area modules register themselves on import; imported here, not at the top, because
    # they import this module.
    from tests.unit import fake_areas  # noqa: F401


class FakeUnitOfWork:
    """One transaction over a copy of the fake database."""

    # Bound to the working copy's repositories on entering (see ``_rebind``).
    ledger: FakeLedger
    facilities: FakeFacilityRepository
    operators: FakeOperatorRepository
    tokens: FakeTokenRepository
    tools: FakeToolRepository
    policies: FakePolicyRepository
    consignments: FakeConsignmentRepository
    devices: FakeDeviceRepository
    jobs: FakeJobRepository
    work_orders: FakeWorkOrderRepository
    security_logs: FakeSecurityLogRepository
    exceptions: FakeExceptionRepository
    credentials: FakeCredentialRepository
    security: FakeSecurityRepository
    seals: FakeSealRepository
    assurance: FakeAssuranceRepository
    assessments: FakeAssessmentRepository
    asset_owners: FakeAssetOwnerRepository
    dispatches: FakeDispatchRepository
    disposals: FakeDisposalRepository
    custody: FakeCustodyRepository
    retention: FakeRetentionRepository
    inventory: FakeInventoryRepository
    duis_requests: FakeDuisRequestRepository
    hub_returns: FakeHubReturnRepository
    incidents: FakeIncidentRepository
    cosignatures: FakeCosignatureRepository

    def __init__(self, factory: FakeUnitOfWorkFactory, write: bool) -> None:
        self._factory = factory
        self.write = write
        self.facility_id = factory.facility_id
        self.packaged = factory.packaged
        self._working: FakeDatabase | None = None
        self._kept: FakeDatabase | None = None  # what the first step wrote (first_write)

    @property
    def clock(self) -> FakeClock:
        return self._factory.clock

    @property
    def settings(self) -> Settings:
        return self._factory.settings

    def __enter__(self) -> Self:
        self._working = copy.deepcopy(self._factory.database)
        self._rebind()
        first = self._factory.take_first_write() if self.write else None
        if first is not None:
            try:
                first(self)
            except BaseException:
                self._working = None
                raise
            self._kept = copy.deepcopy(self._working)
        return self

    def commit(self) -> None:
        if self._working is None:
            raise RuntimeError("unit of work is not open")
        if not self.write:
            raise AssertionError("a read-only unit of work was committed")
        self._kept = None
        self._factory.database = self._working
        # Go on in a copy, as a database transaction goes on after a commit.
        self._working = copy.deepcopy(self._working)
        self._rebind()
        self._factory.commits += 1

    def _rebind(self) -> None:
        assert self._working is not None
        self.ledger = FakeLedger(self._working)
        for name, repository in self._working.areas.items():
            setattr(self, name, repository)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._working = None
        if self._kept is not None:  # not committed: what the first step wrote, alone
            self._factory.database, self._kept = self._kept, None
        if isinstance(exc, RecordDisagrees) and exc.record is not None:
            # As the SQL unit of work does: the refused step rolled back, the refusal (an
            # alert) is recorded in a unit of work of its own.
            record, exc.record = exc.record, None
            with self._factory(write=True) as again:
                record(again)
                again.commit()


class FakeCheckpointKeeper:
    """The checkpoint kept outside the database, in memory."""

    def __init__(self, path: Path = Path("/fake/checkpoint")) -> None:
        self.path = path
        self.note: str | None = None
        self.hashes = b""
        self.started = True

    def tracked(self) -> bool:
        return self.started

    @contextmanager
    def _held(self) -> Iterator[None]:
        yield

    def lock(self) -> AbstractContextManager[None]:
        return self._held()

    def read(self) -> str | None:
        return self.note

    def read_hashes(self, count: int) -> bytes:
        return self.hashes[: count * 32]

    def hashes_count(self) -> int:
        return len(self.hashes) // 32

    def keep(self, signed_note: str, size: int, first: int, hashes: Sequence[bytes]) -> bool:
        self.hashes = self.hashes[: first * 32] + b"".join(hashes)
        self.note = signed_note
        return True


class MemoryOpener:
    """``StorageOpener`` of the fake's committed log."""

    def __init__(self, factory: FakeUnitOfWorkFactory) -> None:
        self._factory = factory

    @contextmanager
    def _open(self) -> Iterator[LogStorage]:
        yield self._factory.database.storage

    def __call__(self) -> AbstractContextManager[LogStorage]:
        return self._open()


class NoWitnesses:
    """``WitnessClient`` of a unit test that set none: every witness is unreachable."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def add_checkpoint(self, url: str, body: bytes, timeout: float) -> tuple[int, str, bytes]:
        self.asked.append(url)
        raise WitnessUnreachable(f"{url}: no witness answers in a unit test")


class FakeUnitOfWorkFactory:
    """Opens fake units of work on one fake database for one facility."""

    def __init__(
        self,
        *,
        facility_id: str = FACILITY_ID,
        clock: FakeClock | None = None,
        settings: Settings | None = None,
        keeper: FakeCheckpointKeeper | None = None,
    ) -> None:
        _load_areas()
        self.facility_id = facility_id
        self.clock = clock or FakeClock()
        self.settings = settings or Settings(
            data_dir=Path("/fake/data"), database_url="fake://memory"
        )
        self.passwords = FakePasswords()
        self.totp = FakeTotp()
        self.packaged = PackagedFiles()
        self.throttles = Throttles()
        self.keeper = keeper
        self.database = FakeDatabase(storage=ClockedLogStorage(self.clock))
        self.witnesses: WitnessClient = NoWitnesses()
        self.database.areas = {name: make(self.database) for name, make in AREAS.items()}
        self.commits = 0
        self.opened: list[FakeUnitOfWork] = []
        self._first: Callable[[UnitOfWork], None] | None = None

    def __call__(self, *, write: bool) -> FakeUnitOfWork:
        uow = FakeUnitOfWork(self, write)
        self.opened.append(uow)
        return uow

    def first_write(self, step: Callable[[UnitOfWork], None]) -> FakeUnitOfWorkFactory:
        """As the SQL factory's: the next writing unit of work runs ``step`` first and keeps
        what it wrote even when it is not committed (this fake's one database, so the factory
        itself rather than a copy)."""
        self._first = step
        return self

    def take_first_write(self) -> Callable[[UnitOfWork], None] | None:
        step, self._first = self._first, None
        return step

    def tile_cache(self) -> TileCache:
        return TileCache()

    def log_opener(self) -> MemoryOpener:
        """Opens the committed fake log (in this process only: workers cannot use it)."""
        return MemoryOpener(self)

    def checkpoint_keeper(self) -> FakeCheckpointKeeper | None:
        return self.keeper

    def witness_client(self) -> WitnessClient:
        return self.witnesses

    # -- for assertions ----------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        """Every committed entry, oldest first."""
        return FakeLedger(self.database).entries()

    def entry_types(self) -> list[str]:
        return [entry.type for entry in self.entries()]
