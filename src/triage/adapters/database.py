"""Database engines and transactions for SQLite (the embedded default) and PostgreSQL.

SQLite runs in WAL mode with ``synchronous=FULL`` and foreign keys on; a writing transaction
starts with ``BEGIN IMMEDIATE`` so that two writers queue for the lock instead of one failing
half-way. PostgreSQL writers are serialised per facility by a transaction-scoped advisory lock
taken first thing in every writing transaction (``lock_writers``), before anything is read: a
write checks the state it changes (a job's, a seal's) and appends its entries as one step that
no other writer of the facility interleaves with.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from triage.errors import NotInitialised

BUSY_TIMEOUT_MS = 30_000


class Database:
    """One engine, and the two kinds of transaction the application uses."""

    def __init__(self, url: str, echo: bool = False) -> None:
        self.url = _normalise_url(url)
        self.engine: Engine = _create_engine(self.url, echo)
        self.write_lock = threading.RLock()

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


def writer_lock_key(facility_id: str) -> int:
    """The PostgreSQL advisory lock key of a facility's writers: a signed 64-bit number, the
    same in every process and release."""
    digest = hashlib.sha256(b"triage.facility-writer:" + facility_id.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _normalise_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _create_engine(url: str, echo: bool) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            path = Path(parsed.database)
            if not path.parent.is_dir():
                raise NotInitialised(
                    f"the data directory {path.parent} does not exist; run 'triage init' first"
                )
        engine = create_engine(url, echo=echo, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
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
