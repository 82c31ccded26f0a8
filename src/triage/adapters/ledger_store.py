"""The ledger's storage in SQL: ``LogStorage`` for ``triage.ledger.log.Log`` on one connection."""

from __future__ import annotations

import functools
import heapq
import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain, count, islice, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, make_url, select, update

from triage.adapters.database import Database
from triage.adapters.fastsql import Statement, dialect_insert
from triage.adapters.tables import (
    ledger_bundle,
    ledger_checkpoint,
    ledger_entry,
    ledger_head,
    ledger_subject,
    ledger_tile,
)
from triage.errors import LedgerStateError, NotInitialised, VerificationError
from triage.ledger.bundle import BUNDLE_SIZE, bundle_entry, pack_bundle, unpack_bundle
from triage.ledger.entry import Entry
from triage.ledger.log import Log, LogHead, LogStorage, StoredCheckpoint
from triage.ledger.rfc6962 import EMPTY_ROOT
from triage.ledger.tiles import TileCache, TileKey

STREAM_BATCH = 4096
# Followed by one "?" per tile index and ")": only placeholders, never values.
_TILES_SQL = (
    "SELECT level, idx, hashes FROM ledger_tile WHERE log_id = ? AND level = ? AND idx IN ("
)
_INSERT_ENTRY_SQL = "INSERT INTO ledger_entry (log_id, idx, data) VALUES (?, ?, ?)"
_ENTRIES_SQL = (
    "SELECT idx, data FROM ledger_entry WHERE log_id = ? AND idx >= ? AND idx < ? ORDER BY idx"
)
_DELETE_ROWS_SQL = "DELETE FROM ledger_entry WHERE log_id = ? AND idx >= ? AND idx < ?"
_INSERT_BUNDLE_SQL = "INSERT INTO ledger_bundle (log_id, idx, data) VALUES (?, ?, ?)"
_BUNDLES_SQL = (
    "SELECT idx, data FROM ledger_bundle WHERE log_id = ? AND idx >= ? AND idx <= ? ORDER BY idx"
)
_LATEST_SQL = (
    "SELECT s.idx, e.data FROM ledger_subject s LEFT JOIN ledger_entry e"
    " ON e.log_id = s.log_id AND e.idx = s.idx"
    " WHERE s.log_id = ? AND s.subject_kind = ? AND s.subject_id = ?{below}"
    " ORDER BY s.idx DESC LIMIT ?"
)
_BUNDLE_SQL = "SELECT data FROM ledger_bundle WHERE log_id = ? AND idx = ?"
_LEVEL0_TILES_SQL = (
    "SELECT idx, hashes FROM ledger_tile WHERE log_id = ? AND level = 0 AND idx >= ? AND idx < ?"
)
_ANY_ROW_SQL = "SELECT 1 FROM ledger_entry WHERE log_id = ? AND idx >= ? AND idx < ? LIMIT 1"


@functools.cache
def _upsert_tile(dialect: str) -> Statement:
    """Write a tile, replacing a shorter (partial) version of it, in ``dialect``'s SQL."""
    statement = dialect_insert(dialect, ledger_tile).values(
        log_id=bindparam("log_id"),
        level=bindparam("level"),
        idx=bindparam("idx"),
        hashes=bindparam("hashes"),
    )
    return Statement(
        statement.on_conflict_do_update(
            index_elements=["log_id", "level", "idx"],
            set_={"hashes": statement.excluded.hashes},
        )
    )


# The statements of every append (a few a device, on the device path), compiled once: fastsql.
_HEAD = select(ledger_head.c.size, ledger_head.c.root).where(
    ledger_head.c.log_id == bindparam("log_id")
)
_READ_HEAD = Statement(_HEAD)
_LOCK_HEAD = Statement(_HEAD.with_for_update())
_WRITE_HEAD = Statement(
    update(ledger_head)
    .where(ledger_head.c.log_id == bindparam("log_id"))
    .values(size=bindparam("size"), root=bindparam("root"))
)
_INSERT_SUBJECT = Statement(
    insert(ledger_subject).values(
        log_id=bindparam("log_id"),
        idx=bindparam("idx"),
        entry_type=bindparam("entry_type"),
        subject_kind=bindparam("subject_kind"),
        subject_id=bindparam("subject_id"),
    )
)
BUNDLE_BATCH = 4  # bundles a fetch (1,024 entries): a verification worker holds little at once


class SqlLogStorage:
    """Reads and writes one log's rows within the caller's transaction."""

    def __init__(self, conn: Connection, log_id: str) -> None:
        self._conn = conn
        self._log_id = log_id

    def create(self) -> None:
        """Create the log's empty head (once, when its facility is created)."""
        self._conn.execute(insert(ledger_head).values(log_id=self._log_id, size=0, root=EMPTY_ROOT))

    def lock_head(self) -> LogHead:
        # FOR UPDATE locks the head row on PostgreSQL. A writing unit of work holds the
        # facility's writer lock from its start (Database.lock_writers), so this never waits
        # there; it stays as the log's own guard. SQLite already holds the database write lock
        # since BEGIN IMMEDIATE, and SQLAlchemy leaves the clause out there.
        return self._head(_LOCK_HEAD)

    def read_head(self) -> LogHead:
        return self._head(_READ_HEAD)

    def _head(self, statement: Statement) -> LogHead:
        row = statement.first(self._conn, log_id=self._log_id)
        if row is None:
            raise NotInitialised(f"the ledger {self._log_id!r} does not exist; run 'triage init'")
        size, root = row
        return LogHead(int(size), bytes(root))

    def write_head(self, head: LogHead) -> None:
        _WRITE_HEAD.run(self._conn, log_id=self._log_id, size=head.size, root=head.root)

    def insert_entries(self, first_index: int, entries: Sequence[bytes]) -> None:
        # Entries of a tile that becomes full go into its bundle (one row); those of the last,
        # partial tile are rows of their own until it fills. The driver's executemany on this
        # transaction's connection: SQLAlchemy's per-row parameter processing would be most of
        # a bulk append's time otherwise.
        end = first_index + len(entries)
        if first_index // BUNDLE_SIZE == end // BUNDLE_SIZE:
            self._insert_rows(first_index, entries)
            return
        start = first_index - first_index % BUNDLE_SIZE  # where the partial tile begins
        pending = list(entries)
        if start < first_index:
            tail = [data for batch in self._read_rows(start, first_index) for _, data in batch]
            if len(tail) != first_index - start:
                raise LedgerStateError(
                    f"entries {start} to {first_index - 1} are not all stored; nothing can be "
                    "appended after them: run 'triage ledger verify'"
                )
            pending = tail + pending
        bundled = end - end % BUNDLE_SIZE - start
        cursor = self._raw().cursor()
        try:
            cursor.executemany(
                self._sql(_INSERT_BUNDLE_SQL),
                [
                    (
                        self._log_id,
                        (start + k) // BUNDLE_SIZE,
                        pack_bundle(pending[k : k + BUNDLE_SIZE]),
                    )
                    for k in range(0, bundled, BUNDLE_SIZE)
                ],
            )
            if start < first_index:
                cursor.execute(self._sql(_DELETE_ROWS_SQL), (self._log_id, start, first_index))
        finally:
            cursor.close()
        self._insert_rows(start + bundled, pending[bundled:])

    def _insert_rows(self, first_index: int, entries: Sequence[bytes]) -> None:
        if not entries:
            return
        cursor = self._raw().cursor()
        try:
            cursor.executemany(
                self._sql(_INSERT_ENTRY_SQL),
                list(zip(repeat(self._log_id), count(first_index), entries)),
            )
        finally:
            cursor.close()

    def _raw(self) -> Any:
        raw = self._conn.connection.dbapi_connection
        assert raw is not None
        return raw

    def _sql(self, statement: str) -> str:
        return (
            statement.replace("?", "%s") if self._conn.dialect.name == "postgresql" else statement
        )

    def read_entries(self, start: int, stop: int) -> Iterator[Sequence[tuple[int, bytes]]]:
        # In a sound ledger every bundle comes before every row (rows are the last, partial
        # tile's entries), so bundles are read, then rows, each in batches as fetched. In a
        # damaged one rows may lie among the bundles: then the two are merged entry by entry.
        # A bundle that is not well-formed gives no entries: verification reports them missing.
        if start >= stop:
            return
        first_row = self._conn.execute(
            select(func.min(ledger_entry.c.idx)).where(
                ledger_entry.c.log_id == self._log_id,
                ledger_entry.c.idx >= start,
                ledger_entry.c.idx < stop,
            )
        ).scalar()
        last_bundle = self._conn.execute(
            select(func.max(ledger_bundle.c.idx)).where(
                ledger_bundle.c.log_id == self._log_id,
                ledger_bundle.c.idx >= start // BUNDLE_SIZE,
                ledger_bundle.c.idx <= (stop - 1) // BUNDLE_SIZE,
            )
        ).scalar()
        if last_bundle is None:
            yield from self._read_rows(start, stop)
        elif first_row is None or (int(last_bundle) + 1) * BUNDLE_SIZE <= first_row:
            yield from self._bundled(start, stop)
            if first_row is not None:
                yield from self._read_rows(int(first_row), stop)
        else:
            merged = _one_per_index(
                heapq.merge(
                    chain.from_iterable(self._bundled(start, stop)),
                    chain.from_iterable(self._read_rows(start, stop)),
                    key=itemgetter(0),
                )
            )
            while batch := list(islice(merged, STREAM_BATCH)):
                yield batch

    def read_bundles(self, first_tile: int, stop_tile: int) -> Iterator[tuple[int, bytes]] | None:
        cursor = self._raw().cursor()
        try:
            cursor.execute(
                self._sql(_ANY_ROW_SQL),
                (self._log_id, first_tile * BUNDLE_SIZE, stop_tile * BUNDLE_SIZE),
            )
            if cursor.fetchone() is not None:
                return None  # rows among the bundles: read_entries merges them
        finally:
            cursor.close()
        return self._raw_bundles(first_tile, stop_tile)

    def _raw_bundles(self, first_tile: int, stop_tile: int) -> Iterator[tuple[int, bytes]]:
        params = (self._log_id, first_tile, stop_tile - 1)
        for rows in self._stream(_BUNDLES_SQL, params, BUNDLE_BATCH):
            for idx, data in rows:
                yield int(idx), bytes(data)

    def _bundled(self, start: int, stop: int) -> Iterator[Sequence[tuple[int, bytes]]]:
        """(index, data) of the bundled entries with start <= index < stop, in batches."""
        params = (self._log_id, start // BUNDLE_SIZE, (stop - 1) // BUNDLE_SIZE)
        for rows in self._stream(_BUNDLES_SQL, params, BUNDLE_BATCH):
            batch: list[tuple[int, bytes]] = []
            for bundle, data in rows:
                first = int(bundle) * BUNDLE_SIZE
                try:
                    entries = unpack_bundle(bytes(data))
                except VerificationError:
                    continue
                lo, hi = max(start - first, 0), min(stop - first, BUNDLE_SIZE)
                batch.extend(zip(range(first + lo, first + hi), entries[lo:hi], strict=True))
            if batch:
                yield batch

    def _read_rows(self, start: int, stop: int) -> Iterator[Sequence[tuple[int, bytes]]]:
        return self._stream(_ENTRIES_SQL, (self._log_id, start, stop), STREAM_BATCH)

    def _stream(
        self, statement: str, params: tuple[Any, ...], batch: int
    ) -> Iterator[Sequence[tuple[int, bytes]]]:
        # The driver's own cursor, on this transaction's connection: verification streams
        # millions of entries and SQLAlchemy's row objects would be most of its cost. On
        # PostgreSQL a named (server-side) cursor, so that they are not all held in memory.
        raw = self._raw()
        if self._conn.dialect.name == "postgresql":
            cursor = raw.cursor(name=f"ledger_{uuid.uuid4().hex}")
        else:
            cursor = raw.cursor()
        try:
            cursor.execute(self._sql(statement), params)
            while rows := cursor.fetchmany(batch):
                yield rows
        finally:
            cursor.close()

    def read_tiles(self, keys: Collection[TileKey]) -> Mapping[TileKey, bytes]:
        if not keys:
            return {}
        # One key lookup per level: "level = ? AND idx IN (...)" walks the primary key, where an
        # OR of (level, idx) pairs made SQLite scan every tile of the log. Driver SQL, because
        # the number of keys varies and SQLAlchemy would compile every query anew.
        by_level: dict[int, list[int]] = {}
        for key in keys:
            by_level.setdefault(key.level, []).append(key.index)
        found: dict[TileKey, bytes] = {}
        cursor = self._raw().cursor()
        try:
            for level, indexes in by_level.items():
                query = _TILES_SQL + ", ".join("?" * len(indexes)) + ")"
                cursor.execute(self._sql(query), [self._log_id, level, *indexes])
                for lv, ix, data in cursor.fetchall():
                    found[TileKey(int(lv), int(ix))] = bytes(data)
        finally:
            cursor.close()
        return found

    def iter_tiles(self, level: int, start: int = 0) -> Iterator[tuple[int, bytes]]:
        query = (
            select(ledger_tile.c.idx, ledger_tile.c.hashes)
            .where(
                ledger_tile.c.log_id == self._log_id,
                ledger_tile.c.level == level,
                ledger_tile.c.idx >= start,
            )
            .order_by(ledger_tile.c.idx)
        )
        result = self._conn.execution_options(yield_per=256).execute(query)
        for idx, hashes in result:
            yield int(idx), bytes(hashes)

    def write_tiles(self, tiles: Mapping[TileKey, bytes]) -> None:
        if not tiles:
            return
        rows = [
            {"log_id": self._log_id, "level": key.level, "idx": key.index, "hashes": data}
            for key, data in tiles.items()
        ]
        upsert = _upsert_tile(self._conn.dialect.name)
        if len(rows) == 1:
            upsert.run(self._conn, **rows[0])
        else:
            upsert.run_many(self._conn, rows)

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        self._conn.execute(
            dialect_insert(self._conn.dialect.name, ledger_checkpoint)
            .values(
                log_id=self._log_id,
                size=checkpoint.size,
                note=checkpoint.note,
                issued_at=datetime.now(UTC),
            )
            .on_conflict_do_nothing()
        )

    def read_checkpoints(self) -> list[StoredCheckpoint]:
        query = (
            select(ledger_checkpoint.c.size, ledger_checkpoint.c.note)
            .where(ledger_checkpoint.c.log_id == self._log_id)
            .order_by(ledger_checkpoint.c.size)
        )
        return [StoredCheckpoint(int(size), note) for size, note in self._conn.execute(query)]


def _one_per_index(merged: Iterator[tuple[int, bytes]]) -> Iterator[tuple[int, bytes]]:
    """Bundled and row entries merged by index, the row winning where both hold an index.

    Only a damaged ledger has both; the row is the one that should not be there, so it is the
    one shown, for verification to find that it is not the entry the tree was built from.
    """
    held: tuple[int, bytes] | None = None
    for item in merged:  # on a tie the bundle's entry comes first (heapq.merge is stable)
        if held is not None and held[0] != item[0]:
            yield held
        held = item
    if held is not None:
        yield held


def _in_bundle(bundle: bytes, index: int) -> bytes | None:
    """Entry ``index`` from its tile's bundle; None when the bundle is not well-formed."""
    try:
        return bundle_entry(bundle, index % BUNDLE_SIZE)
    except (VerificationError, IndexError):
        return None


def stored_entry(conn: Connection, index: int) -> bytes | None:
    """Entry ``index`` as stored (its row, or its place in its tile's bundle), if it is there.

    For a lookup by index outside a log's own storage (a database holds one facility's log).
    """
    row = conn.execute(select(ledger_entry.c.data).where(ledger_entry.c.idx == index)).scalar()
    if row is not None:
        return bytes(row)
    bundle = conn.execute(
        select(ledger_bundle.c.data).where(ledger_bundle.c.idx == index // BUNDLE_SIZE)
    ).scalar()
    return None if bundle is None else _in_bundle(bytes(bundle), index)


@dataclass(frozen=True)
class SqlLogOpener:
    """Opens one log read-only on its own connection, and tells a verification worker process
    how to read it with the driver alone (``worker_job``)."""

    url: str
    log_id: str

    @contextmanager
    def __call__(self) -> Iterator[LogStorage]:
        database = Database(self.url)
        try:
            with database.read() as conn:
                yield SqlLogStorage(conn, self.log_id)
        finally:
            database.dispose()

    def worker_job(self) -> dict[str, Any] | None:
        """How a ``triage.adapters.scan_worker`` process (``module``) reads this log with the
        driver alone: the connection (read-only) and the statements, in the driver's
        parameter style.

        None for a database no other process can open (SQLite in memory).
        """
        url = make_url(self.url)
        if url.get_backend_name() == "sqlite":
            if not url.database or url.database == ":memory:":
                return None
            where = Path(url.database).resolve().as_uri() + "?mode=ro"
            driver, style = "sqlite3", "?"
        else:
            where = url.set(drivername="postgresql").render_as_string(hide_password=False)
            driver, style = "psycopg", "%s"
        return {
            "module": "triage.adapters.scan_worker",
            "driver": driver,
            "database": where,
            "log_id": self.log_id,
            "rows_sql": _ANY_ROW_SQL.replace("?", style),
            "tiles_sql": _LEVEL0_TILES_SQL.replace("?", style),
            "bundles_sql": _BUNDLES_SQL.replace("?", style),
            "batch": BUNDLE_BATCH,
        }


_TILE_CACHES: dict[str, TileCache] = {}


def tile_cache(url: str, log_id: str) -> TileCache:
    """The process's cache of one log's tiles (their nodes never change, so it is shared)."""
    key = f"{url}#{log_id}"
    cache = _TILE_CACHES.get(key)
    if cache is None:
        cache = _TILE_CACHES.setdefault(key, TileCache())
    return cache


class SqlLedger:
    """Records entries in one facility's log, with the subject index that history queries use."""

    def __init__(self, conn: Connection, log_id: str, cache: TileCache | None = None) -> None:
        self._conn = conn
        self._log_id = log_id
        self.storage = SqlLogStorage(conn, log_id)
        self.log = Log(self.storage, cache)

    def create(self) -> None:
        """Create the facility's empty log."""
        self.storage.create()

    def record(self, entries: Sequence[Entry]) -> int:
        """Append entries and apply them to the projections, in the current transaction.

        Returns the first entry's index.
        """
        first = self.log.append([entry.to_bytes() for entry in entries])
        rows = [
            {
                "log_id": self._log_id,
                "idx": first + i,
                "entry_type": entry.type,
                "subject_kind": entry.subject.kind,
                "subject_id": entry.subject.id,
            }
            for i, entry in enumerate(entries)
        ]
        if len(rows) == 1:
            _INSERT_SUBJECT.run(self._conn, **rows[0])
        else:
            _INSERT_SUBJECT.run_many(self._conn, rows)
        # The projector and the domain it builds rows from load with the first entry recorded.
        from triage.adapters import projector

        projector.apply(self._conn, entries)
        return first

    def latest_about(
        self, subject_kind: str, subject_id: str, limit: int, before: int | None = None
    ) -> list[tuple[int, bytes | None]]:
        """The latest ``limit`` entries about one subject (below index ``before``, if given),
        newest first, as (index, stored bytes); None for an entry the log does not hold.

        For the checks a step makes on every request, so one indexed query (the subject index
        joined to the entry rows) in the driver's own SQL, and one more for an entry already
        moved into its tile's bundle; a row wins over a bundle, as it does when the log is
        read. ``Log.entry`` would stream a range for each entry."""
        params: list[Any] = [self._log_id, subject_kind, subject_id]
        below = ""
        if before is not None:
            below = " AND s.idx < ?"
            params.append(before)
        params.append(limit)
        cursor = self.storage._raw().cursor()
        try:
            cursor.execute(self.storage._sql(_LATEST_SQL.format(below=below)), tuple(params))
            rows = cursor.fetchall()
            found: list[tuple[int, bytes | None]] = []
            for idx, data in rows:
                index = int(idx)
                if data is None:
                    cursor.execute(
                        self.storage._sql(_BUNDLE_SQL), (self._log_id, index // BUNDLE_SIZE)
                    )
                    bundle = cursor.fetchone()
                    data = None if bundle is None else _in_bundle(bytes(bundle[0]), index)
                found.append((index, None if data is None else bytes(data)))
            return found
        finally:
            cursor.close()

    def indexes_for(self, subject_kind: str, subject_id: str) -> list[int]:
        """Indexes of every entry about one subject, oldest first."""
        query = (
            select(ledger_subject.c.idx)
            .where(
                ledger_subject.c.log_id == self._log_id,
                ledger_subject.c.subject_kind == subject_kind,
                ledger_subject.c.subject_id == subject_id,
            )
            .order_by(ledger_subject.c.idx)
        )
        return [int(idx) for (idx,) in self._conn.execute(query)]
