"""SQLite's page cache survives from one transaction to the next (issue 22).

SQLite keeps a page cache per connection and empties it when it finds that another connection
has written since. The pool handed out its connections in turn (the one returned longest ago
first), so on the device path every transaction found its connection's cache stale and read its
pages from the file again: about 600 reads and 2.4 MB a device in the server. Transactions one
after the other now keep using the connection returned last.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from triage.adapters.database import Database


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'cache.db'}")
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    return database


def _driver_connection(db: Database) -> int:
    with db.engine.connect() as conn:
        conn.execute(text("INSERT INTO t (v) VALUES ('x')"))
        conn.commit()
        return id(conn.connection.driver_connection)


def test_transactions_one_after_another_keep_using_the_last_connection(db: Database) -> None:
    # Two at once: the pool holds two connections from now on.
    with db.engine.connect() as first, db.engine.connect() as second:
        held = {id(first.connection.driver_connection), id(second.connection.driver_connection)}
    assert len(held) == 2

    used = [_driver_connection(db) for _ in range(6)]

    assert len(set(used)) == 1, used  # not each pooled connection in turn
    assert used[0] in held
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 6


def test_a_database_in_memory_still_opens() -> None:
    # Its pool (one connection a thread) takes no such option.
    with Database("sqlite://").engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
