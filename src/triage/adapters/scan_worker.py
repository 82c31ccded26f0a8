"""The verification worker process: ``python -m triage.adapters.scan_worker``.

It reads a job from standard input (``marshal``: how to open the facility's database read-only
with its driver alone, and which chunks of full level-0 tiles to check), and writes one answer
a chunk to standard output, in order: ``triage.ledger.scan_worker.check_bundles`` on the
chunk's bundles and tiles, or None for anything it did not find exactly as it should be (the
verifying process then scans that chunk itself, entry by entry). See that module, and
``SqlLogOpener.worker_job`` for the job.

It imports the standard library, the database driver and the ledger's hashing only: no
SQLAlchemy, no application, so that verifying with workers fits in 100 MB all processes
included.
"""

from __future__ import annotations

import marshal
import sys
from collections.abc import Generator, Mapping

from triage.ledger.hashing import TILE_WIDTH
from triage.ledger.scan_worker import check_bundles

TYPE_CHECKING = False  # as typing has it, without importing typing: a worker stays small
if TYPE_CHECKING:
    from typing import Any

# Pages SQLite keeps for a worker: the bundles are read once, in order, so a small cache does.
_SQLITE_CACHE_KIB = 256


def _connect(job: Mapping[str, Any]) -> Any:
    """A read-only connection to the log's database, with the driver alone."""
    if job["driver"] == "sqlite3":
        import sqlite3

        lite = sqlite3.connect(job["database"], uri=True, isolation_level=None)
        lite.execute(f"PRAGMA cache_size = -{_SQLITE_CACHE_KIB}")
        lite.execute("BEGIN")  # one snapshot for the whole run
        return lite
    import psycopg

    pg = psycopg.connect(job["database"])
    pg.read_only = True
    pg.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    return pg


def _answer(conn: Any, job: Mapping[str, Any], chunk: tuple[int, int, list[int]]) -> Any:
    first, end, cuts = chunk
    log_id = job["log_id"]
    cursor = conn.cursor()
    try:
        cursor.execute(job["rows_sql"], (log_id, first * TILE_WIDTH, end * TILE_WIDTH))
        if cursor.fetchone() is not None:
            return None
        cursor.execute(job["tiles_sql"], (log_id, first, end))
        stored = {int(idx): bytes(data) for idx, data in cursor.fetchall()}
    finally:
        cursor.close()
    bundles = _bundles(conn, job, first, end)
    try:
        return check_bundles(bundles, stored, first, end, cuts)
    finally:
        bundles.close()  # its cursor too, before the next chunk's


def _bundles(
    conn: Any, job: Mapping[str, Any], first: int, end: int
) -> Generator[tuple[int, bytes], None, None]:
    # PostgreSQL: a named (server-side) cursor, so that a chunk's bundles are not all fetched
    # at once; SQLite's cursor already steps through the rows.
    cursor = conn.cursor(name="bundles") if job["driver"] == "psycopg" else conn.cursor()
    try:
        cursor.execute(job["bundles_sql"], (job["log_id"], first, end - 1))
        while rows := cursor.fetchmany(job.get("batch", 4)):
            for idx, data in rows:
                yield int(idx), bytes(data)
    finally:
        cursor.close()


def main() -> None:
    """Answer the job on standard input: one ``marshal`` record a chunk, in order."""
    job = marshal.load(sys.stdin.buffer)  # noqa: S302 (from the verifying process only)
    out = sys.stdout.buffer
    conn = _connect(job)
    try:
        for chunk in job["chunks"]:
            marshal.dump(_answer(conn, job, chunk), out)
            out.flush()
    finally:
        conn.close()


if __name__ == "__main__":
    main()
