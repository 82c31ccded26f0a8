"""The witness database: its schema, the sizes it keeps exactly, and the files it refuses."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from triage.witness.errors import WitnessStoreError
from triage.witness.store import DB_FILE, Cosigned, Refusal, WitnessStore

AT = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def _cosigned(origin: str, size: int) -> Cosigned:
    return Cosigned(origin, f"hash-of-{origin}", size, b"\x01" * 32, "note\n\n", "— w c\n", 7)


def test_the_database_is_in_wal_mode_and_remembers_across_opens(tmp_path: Path) -> None:
    store = WitnessStore(tmp_path)
    assert store.add_log("log.example/a", "vkey-a", AT)
    with store.transaction() as tx:
        tx.save(_cosigned("log.example/a", 5))
    reopened = WitnessStore(tmp_path)
    assert [(log.origin, log.vkey, log.added_at) for log in reopened.logs()] == [
        ("log.example/a", "vkey-a", AT)
    ]
    assert reopened.latest_by_hash("hash-of-log.example/a") == _cosigned("log.example/a", 5)
    with closing(sqlite3.connect(tmp_path / DB_FILE)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_size_beyond_sqlites_integers_is_kept_exactly(tmp_path: Path) -> None:
    store = WitnessStore(tmp_path)
    with store.transaction() as tx:
        tx.save(_cosigned("log.example/a", 2**64 - 1))
    assert [c.size for c in store.all_latest()] == [2**64 - 1]


def test_saving_again_replaces_the_state_of_that_log_only(tmp_path: Path) -> None:
    store = WitnessStore(tmp_path)
    with store.transaction() as tx:
        tx.save(_cosigned("log.example/a", 5))
        tx.save(_cosigned("log.example/b", 9))
        tx.save(_cosigned("log.example/a", 6))
    assert [(c.origin, c.size) for c in store.all_latest()] == [
        ("log.example/a", 6),
        ("log.example/b", 9),
    ]


def test_a_transaction_that_raises_writes_nothing(tmp_path: Path) -> None:
    store = WitnessStore(tmp_path)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.save(_cosigned("log.example/a", 5))
        tx.refuse(Refusal(AT, "log.example/a", 409, "why", b"body"))
        raise RuntimeError
    assert store.all_latest() == [] and store.refusals() == []


def test_refusals_newest_first_per_log(tmp_path: Path) -> None:
    store = WitnessStore(tmp_path)
    with store.transaction() as tx:
        for n, origin in enumerate(["a", "b", "a"]):
            tx.refuse(Refusal(AT, origin, 400 + n, f"reason {n}", b"\x00\xff"))
    assert [r.reason for r in store.refusals("a")] == ["reason 2", "reason 0"]
    assert [r.status for r in store.refusals(limit=2)] == [402, 401]
    assert store.refusals("b")[0].body == b"\x00\xff"
    assert store.refusal_counts() == {"a": 2, "b": 1}


def test_removing_a_log_keeps_its_state(tmp_path: Path) -> None:
    store = WitnessStore(tmp_path)
    store.add_log("a", "k1", AT)
    store.add_log("a", "k2", AT)
    with store.transaction() as tx:
        tx.save(_cosigned("a", 3))
    assert store.remove_log("a") == 2
    assert store.logs() == [] and [c.size for c in store.all_latest()] == [3]


def test_a_database_of_a_newer_witness_is_refused(tmp_path: Path) -> None:
    WitnessStore(tmp_path)
    with closing(sqlite3.connect(tmp_path / DB_FILE)) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(WitnessStoreError, match="newer version of the witness"):
        WitnessStore(tmp_path)


def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    with closing(sqlite3.connect(tmp_path / DB_FILE)) as db:
        db.execute("CREATE TABLE device (id TEXT)")
    with pytest.raises(WitnessStoreError, match="not a witness database"):
        WitnessStore(tmp_path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    (tmp_path / DB_FILE).write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(WitnessStoreError, match="not a witness database"):
        WitnessStore(tmp_path)
