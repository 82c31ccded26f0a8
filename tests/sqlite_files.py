"""SQLite databases the tests copy as files (schema and facility templates)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path


def fold_into_one_file(path: Path) -> None:
    """Make the database at ``path`` one file that a copy takes whole: the write-ahead log is
    folded into it and emptied, which fails if any process or connection still uses it."""
    with closing(sqlite3.connect(path, timeout=0)) as db:
        busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert busy == 0, f"the database {path} is still in use: a copy of it would not be whole"
