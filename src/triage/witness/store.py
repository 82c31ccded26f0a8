"""The witness's state in SQLite (``<dir>/witness.db``): the logs it follows, the latest
checkpoint it cosigned for each, and the refusals it recorded as evidence.

Write-ahead log with ``synchronous=FULL``: a cosignature is only returned once the state it
vouches for is on disk. Every write is one ``BEGIN IMMEDIATE`` transaction, which takes
SQLite's single writer lock before reading, so a check of the stored size and the write of the
new one can never interleave with another request's (C2SP tlog-witness: "checking the old size
against the latest checkpoint and persisting the new checkpoint must be performed atomically").
A connection per operation keeps the store safe to use from the server's worker threads.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from triage.ledger.entry import format_time, parse_time
from triage.witness.errors import WitnessBusy, WitnessStoreError

DB_FILE = "witness.db"

MAX_REFUSALS_PER_LOG = 1000
"""Refusals kept per origin (the oldest go first): evidence, bounded."""

_SCHEMA_VERSION = 1
_BUSY_TIMEOUT_SECONDS = 30.0
# A tree size is a uint64 (tlog-checkpoint) and SQLite's INTEGER a signed int64: sizes are kept
# as decimal text and compared in Python.
_SCHEMA = """
CREATE TABLE log_key (
    origin TEXT NOT NULL,
    vkey TEXT NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (origin, vkey)
);
CREATE TABLE cosigned (
    origin TEXT PRIMARY KEY,
    origin_hash TEXT NOT NULL UNIQUE,
    size TEXT NOT NULL,
    root BLOB NOT NULL,
    note TEXT NOT NULL,
    cosignature TEXT NOT NULL,
    cosigned_at INTEGER NOT NULL
);
CREATE TABLE refusal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    origin TEXT NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    body BLOB NOT NULL
);
CREATE INDEX refusal_by_origin ON refusal (origin, id);
"""


@dataclass(frozen=True)
class FollowedLog:
    """A log the witness follows: its origin and one verifier key it trusts for it."""

    origin: str
    vkey: str
    added_at: datetime


@dataclass(frozen=True)
class Cosigned:
    """The latest checkpoint cosigned for a log: its size and root, the note as verified (the
    body and the log's signatures), and the cosignature line returned with its timestamp."""

    origin: str
    origin_hash: str
    size: int
    root: bytes
    note: str
    cosignature: str
    cosigned_at: int

    @property
    def served_note(self) -> str:
        """The checkpoint with the log's signatures and the witness's cosignature."""
        return self.note + self.cosignature


@dataclass(frozen=True)
class Refusal:
    """A refused add-checkpoint request of a known log, signed by it: possible misbehaviour."""

    at: datetime
    origin: str
    status: int
    reason: str
    body: bytes


class Transaction:
    """Reads and writes inside one ``BEGIN IMMEDIATE`` transaction (the writer lock held)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def log_keys(self, origin: str) -> list[str]:
        """The verifier keys trusted for ``origin`` (none: the witness does not follow it)."""
        rows = self._db.execute(
            "SELECT vkey FROM log_key WHERE origin = ? ORDER BY added_at, vkey", (origin,)
        )
        return [str(vkey) for (vkey,) in rows]

    def latest(self, origin: str) -> Cosigned | None:
        """The latest checkpoint cosigned for ``origin``, if any."""
        row = self._db.execute(
            "SELECT origin, origin_hash, size, root, note, cosignature, cosigned_at FROM cosigned "
            "WHERE origin = ?",
            (origin,),
        ).fetchone()
        return None if row is None else _cosigned(row)

    def save(self, cosigned: Cosigned) -> None:
        """Make ``cosigned`` the latest checkpoint cosigned for its origin."""
        self._db.execute(
            "INSERT INTO cosigned (origin, origin_hash, size, root, note, cosignature, "
            "cosigned_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET "
            "size = excluded.size, root = excluded.root, note = excluded.note, "
            "cosignature = excluded.cosignature, cosigned_at = excluded.cosigned_at",
            (
                cosigned.origin,
                cosigned.origin_hash,
                str(cosigned.size),
                cosigned.root,
                cosigned.note,
                cosigned.cosignature,
                cosigned.cosigned_at,
            ),
        )

    def refuse(self, refusal: Refusal) -> None:
        """Record ``refusal``, keeping only the latest ``MAX_REFUSALS_PER_LOG`` of its log."""
        self._db.execute(
            "INSERT INTO refusal (at, origin, status, reason, body) VALUES (?, ?, ?, ?, ?)",
            (
                format_time(refusal.at),
                refusal.origin,
                refusal.status,
                refusal.reason,
                refusal.body,
            ),
        )
        self._db.execute(
            "DELETE FROM refusal WHERE origin = ? AND id <= (SELECT id FROM refusal "
            "WHERE origin = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (refusal.origin, refusal.origin, MAX_REFUSALS_PER_LOG),
        )


def _cosigned(row: tuple[Any, ...]) -> Cosigned:
    origin, origin_hash, size, root, note, cosig, cosigned_at = row
    return Cosigned(
        origin=str(origin),
        origin_hash=str(origin_hash),
        size=int(size),
        root=bytes(root),
        note=str(note),
        cosignature=str(cosig),
        cosigned_at=int(cosigned_at),
    )


class WitnessStore:
    """The witness database in ``directory``; created (with its schema) on first use."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / DB_FILE
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with self._immediate() as db:
            self._migrate(db)

    def _migrate(self, db: sqlite3.Connection) -> None:
        (version,) = db.execute("PRAGMA user_version").fetchone()
        if version == _SCHEMA_VERSION:
            return
        if version > _SCHEMA_VERSION:
            raise WitnessStoreError(
                f"{self.path} was written by a newer version of the witness (schema {version}, "
                f"this one knows {_SCHEMA_VERSION}); upgrade device-triage"
            )
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables:
            raise WitnessStoreError(
                f"{self.path} is not a witness database (it has tables but no witness schema)"
            )
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        try:
            connection = sqlite3.connect(
                self.path, timeout=_BUSY_TIMEOUT_SECONDS, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise WitnessStoreError(f"cannot open {self.path}: {exc}") from None
        with closing(connection):
            try:
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = FULL")
            except sqlite3.DatabaseError as exc:
                raise WitnessStoreError(f"{self.path} is not a witness database: {exc}") from None
            yield connection

    @contextmanager
    def _immediate(self) -> Iterator[sqlite3.Connection]:
        with self._connection() as db:
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise WitnessBusy(
                    f"{self.path} stayed locked for {_BUSY_TIMEOUT_SECONDS:.0f} seconds ({exc}); "
                    "try again"
                ) from None
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One ``BEGIN IMMEDIATE`` transaction: committed when the block ends, rolled back if
        it raises."""
        with self._immediate() as db:
            yield Transaction(db)

    # -- the operator's commands and the monitoring read

    def add_log(self, origin: str, vkey: str, at: datetime) -> bool:
        """Trust ``vkey`` for ``origin``; False if it already was."""
        with self._immediate() as db:
            added = db.execute(
                "INSERT INTO log_key (origin, vkey, added_at) VALUES (?, ?, ?) "
                "ON CONFLICT (origin, vkey) DO NOTHING",
                (origin, vkey, format_time(at)),
            )
            return added.rowcount == 1

    def remove_log(self, origin: str) -> int:
        """Stop following ``origin`` (its keys go; its cosigned state and refusals stay, so
        that following it again resumes from what was seen); the number of keys removed."""
        with self._immediate() as db:
            return db.execute("DELETE FROM log_key WHERE origin = ?", (origin,)).rowcount

    def logs(self) -> list[FollowedLog]:
        """Every (origin, key) followed, by origin."""
        with self._connection() as db:
            rows = db.execute("SELECT origin, vkey, added_at FROM log_key ORDER BY origin, vkey")
            return [FollowedLog(str(o), str(k), parse_time(str(t))) for o, k, t in rows]

    def all_latest(self) -> list[Cosigned]:
        """The latest cosigned checkpoint of every log that has one, by origin."""
        with self._connection() as db:
            rows = db.execute(
                "SELECT origin, origin_hash, size, root, note, cosignature, cosigned_at "
                "FROM cosigned ORDER BY origin"
            )
            return [_cosigned(row) for row in rows]

    def latest_by_hash(self, origin_hash: str) -> Cosigned | None:
        """The latest cosigned checkpoint of the log whose origin hashes to ``origin_hash``."""
        with self._connection() as db:
            row = db.execute(
                "SELECT origin, origin_hash, size, root, note, cosignature, cosigned_at "
                "FROM cosigned WHERE origin_hash = ?",
                (origin_hash,),
            ).fetchone()
            return None if row is None else _cosigned(row)

    def refusals(
        self, origin: str | None = None, limit: int = MAX_REFUSALS_PER_LOG
    ) -> list[Refusal]:
        """The latest refusals (of ``origin``, or of every log), newest first."""
        with self._connection() as db:
            if origin is None:
                rows = db.execute(
                    "SELECT at, origin, status, reason, body FROM refusal ORDER BY id DESC LIMIT ?",
                    (limit,),
                )
            else:
                rows = db.execute(
                    "SELECT at, origin, status, reason, body FROM refusal WHERE origin = ? "
                    "ORDER BY id DESC LIMIT ?",
                    (origin, limit),
                )
            return [
                Refusal(parse_time(str(at)), str(o), int(s), str(r), bytes(b))
                for at, o, s, r, b in rows
            ]

    def refusal_counts(self) -> dict[str, int]:
        """How many refusals are kept for each origin that has any."""
        with self._connection() as db:
            rows = db.execute("SELECT origin, count(*) FROM refusal GROUP BY origin")
            return {str(origin): int(count) for origin, count in rows}
