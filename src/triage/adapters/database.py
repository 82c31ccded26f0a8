"""Database engines and transactions for SQLite (the embedded default) and PostgreSQL.

SQLite runs in WAL mode with ``synchronous=FULL`` and foreign keys on; a writing transaction
starts with ``BEGIN IMMEDIATE`` so that two writers queue for the lock instead of one failing
half-way. PostgreSQL writers are serialised per facility by a transaction-scoped advisory lock
taken first thing in every writing transaction (``lock_writers``), before anything is read: a
write checks the state it changes (a job's, a seal's) and appends its entries as one step that
no other writer of the facility interleaves with.

SQLite writers queue before ``BEGIN IMMEDIATE`` on a ``WriterLock``: a thread lock for the
writers of one process and, for a database file, an ``flock`` on a file beside it for the
writers of every process (a second server worker, the CLI). A writer waiting there is let in
within a couple of milliseconds of the lock's release; one left to SQLite's busy handler sleeps
up to 100 ms between tries.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from triage.errors import DatabaseUnavailable, NotInitialised

BUSY_TIMEOUT_MS = 30_000
# A writer waiting for another process's writer tries again after this long, doubling up to
# the second figure: a lock held for a millisecond costs the next writer about that much.
_FIRST_PAUSE_S = 0.0002
_LONGEST_PAUSE_S = 0.002


class WriterLock:
    """The writer lock of one database in this process: re-entrant, as ``threading.RLock``;
    with a ``path``, held also against every other process by an ``flock`` of that file,
    taken when this process's outermost holder takes the lock and released with it.

    A blocking ``acquire`` waits at most ``timeout`` seconds for another process (then
    DatabaseUnavailable, as SQLite's busy timeout would); one that may not block takes the
    lock only if it is free in every process. Within ``reading()`` this thread may not take it
    at all: a read that would write is a mistake, raised at once (RuntimeError), not a wait.
    """

    def __init__(self, path: Path | None = None, timeout: float = BUSY_TIMEOUT_MS / 1000) -> None:
        self.path = path
        self._timeout = timeout
        self._local = threading.RLock()
        self._depth = 0  # holds of this process, changed only by the thread holding _local
        self._fd: int | None = None
        self._reading = threading.local()

    def acquire(self, blocking: bool = True) -> bool:
        """Take the lock; False when ``blocking`` is False and it is held elsewhere."""
        return bool(self._take(blocking))

    def try_acquire(self) -> bool | None:
        """Take the lock if it is free at once: True; False when a thread of this process holds
        it, None when another process does."""
        return self._take(False)

    async def take_soon(self, within: float) -> bool | None:
        """``try_acquire``, tried again on the event loop (without blocking it) while another
        process holds the lock, for up to ``within`` seconds: True when taken; False when a
        thread of this process holds it, None when another process still does."""
        waited = 0.0
        for pause in _pauses():
            taken = self.try_acquire()
            if taken is not None or waited >= within:
                return taken
            await asyncio.sleep(pause)
            waited += pause
        raise AssertionError("unreachable: _pauses never ends")

    def _take(self, blocking: bool) -> bool | None:
        if getattr(self._reading, "depth", 0):
            raise RuntimeError("a write was started by work declared a read (Quick.read)")
        if not self._local.acquire(blocking):
            return False
        if self._depth == 0 and self.path is not None:
            try:
                taken = self._lock_file(blocking)
            except BaseException:
                self._local.release()
                raise
            if not taken:
                self._local.release()
                return None
        self._depth += 1
        return True

    def release(self) -> None:
        """Give back one hold; the last one of this process releases the file too."""
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._local.release()

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    @contextmanager
    def reading(self) -> Iterator[None]:
        """A block of this thread that must not write (``acquire`` raises within it)."""
        self._reading.depth = getattr(self._reading, "depth", 0) + 1
        try:
            yield
        finally:
            self._reading.depth -= 1

    def _lock_file(self, blocking: bool) -> bool:
        if self._fd is None:
            assert self.path is not None
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        if _try_flock(self._fd):
            return True
        if not blocking:
            return False
        deadline = time.monotonic() + self._timeout
        for pause in _pauses():
            time.sleep(pause)
            if _try_flock(self._fd):
                return True
            if time.monotonic() > deadline:
                break
        raise DatabaseUnavailable(
            f"another process has held the database's writer lock ({self.path}) for "
            f"more than {self._timeout:g} s"
        )

    def close(self) -> None:
        """Close the lock file (when no one holds the lock)."""
        if self._fd is not None and self._depth == 0:
            os.close(self._fd)
            self._fd = None


def _pauses() -> Iterator[float]:
    """How long a writer waiting for another process's pauses before each new try."""
    pause = _FIRST_PAUSE_S
    while True:
        yield pause
        pause = min(pause * 2, _LONGEST_PAUSE_S)


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class Database:
    """One engine, and the two kinds of transaction the application uses."""

    def __init__(self, url: str, echo: bool = False) -> None:
        self.url = _normalise_url(url)
        self.engine: Engine = _create_engine(self.url, echo)
        self.write_lock = WriterLock(_writer_lock_path(self.url))

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    def write_options(self, conn: Connection) -> Connection:
        """``conn`` set up for a writing transaction: ``BEGIN IMMEDIATE`` on SQLite; READ
        COMMITTED on PostgreSQL, so that every statement after ``lock_writers`` sees what the
        writer before committed (a REPEATABLE READ snapshot would be taken before the wait)."""
        conn = conn.execution_options(triage_write=True)
        if self.dialect == "postgresql":
            conn = conn.execution_options(isolation_level="READ COMMITTED")
        return conn

    def lock_writers(self, conn: Connection, facility_id: str) -> None:
        """Wait for, then hold until the transaction ends, the facility's writer lock.

        Call it first in a writing transaction, before reading anything the write depends on.
        On SQLite the transaction already holds the database's write lock (``BEGIN
        IMMEDIATE``); on PostgreSQL it is an advisory lock, which needs no row to exist (a
        facility being created has no ledger head yet). As on SQLite, a writer waits at most
        BUSY_TIMEOUT_MS for it (PostgreSQL's ``lock_timeout``, set for every connection), then
        fails as the database being unavailable."""
        if self.dialect == "postgresql":
            # The wait is bounded by the session's lock_timeout, set when it connected.
            conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": writer_lock_key(facility_id)}
            )

    @contextmanager
    def write(self, facility_id: str) -> Iterator[Connection]:
        """A transaction that may write, holding the facility's writer lock from its start;
        commits on success, rolls back on any exception."""
        with self.engine.connect() as conn:
            conn = self.write_options(conn)
            with conn.begin():
                self.lock_writers(conn, facility_id)
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction seeing one consistent snapshot."""
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn = conn.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                )
            with conn.begin():
                yield conn

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        self.write_lock.close()


def writer_lock_key(facility_id: str) -> int:
    """The PostgreSQL advisory lock key of a facility's writers: a signed 64-bit number, the
    same in every process and release."""
    digest = hashlib.sha256(b"triage.facility-writer:" + facility_id.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _writer_lock_path(url: str) -> Path | None:
    """The file whose ``flock`` the writers of a SQLite database file hold in every process:
    beside it, named after it. None for PostgreSQL (its advisory lock) and a database in memory
    (one process only)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    return path.with_name(path.name + ".writers")


def _normalise_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _create_engine(url: str, echo: bool) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        pool: dict[str, Any] = {}
        if parsed.database and parsed.database != ":memory:":
            path = Path(parsed.database)
            if not path.parent.is_dir():
                raise NotInitialised(
                    f"the data directory {path.parent} does not exist; run 'triage init' first"
                )
            # A file's pool hands out the connection returned last (LIFO; by default, the one
            # returned longest ago). SQLite keeps a page cache per connection and empties it
            # when it finds that another connection has written since: taking the pooled
            # connections in turn, every transaction read its pages from the file again (2.4 MB
            # and 600 reads a device on the device path; docs/performance.md, issue 22).
            # Transactions one after the other now keep using one connection, whose cache its
            # own writes keep valid. (A database in memory has one connection a thread.)
            pool["pool_use_lifo"] = True
        engine = create_engine(
            url, echo=echo, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, **pool
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        # Every lock wait is bounded, as SQLite's busy timeout bounds a writer's: set once per
        # connection (libpq's startup options), not by a statement in each transaction.
        options = " ".join(
            part
            for part in (str(parsed.query.get("options", "")), f"-c lock_timeout={BUSY_TIMEOUT_MS}")
            if part
        )
        return create_engine(url, echo=echo, pool_pre_ping=True, connect_args={"options": options})
    raise NotInitialised(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
    )


def _sqlite_connect(dbapi_connection: Any, _record: object) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself, so writers can ask for IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get("triage_write", False)
    statement = "BEGIN IMMEDIATE" if write else "BEGIN"
    # On the DB-API connection: SQLAlchemy's own execution costs more than the statement does,
    # and every transaction starts here. Its errors (a busy database, a full disk) are raised
    # as SQLAlchemy's, as they were.
    driver = conn.connection.dbapi_connection
    assert driver is not None
    try:
        driver.execute(statement)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(statement, (), exc, sqlite3.Error) from exc
