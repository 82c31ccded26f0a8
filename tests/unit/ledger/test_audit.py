"""Full verification over in-memory storage: a clean log passes, each kind of damage is named."""

from __future__ import annotations

import pytest

from triage.ledger import checkpoint, note
from triage.ledger.audit import audit_log
from triage.ledger.log import Log
from triage.ledger.memory import MemoryLogStorage
from triage.ledger.tiles import TileKey

ORIGIN = "example.test/log"


@pytest.fixture
def keys() -> tuple[str, str]:
    return note.generate_key(ORIGIN)


def _log(size: int, signer: str, checkpoint_sizes: tuple[int, ...] = ()) -> MemoryLogStorage:
    storage = MemoryLogStorage()
    log = Log(storage)
    done = 0
    for stop in (*checkpoint_sizes, size):
        log.append([f"e{i}".encode() for i in range(done, stop)])
        done = stop
        if stop in checkpoint_sizes:
            log.issue_checkpoint(ORIGIN, signer)
    return storage


def test_clean_log_verifies_with_progress(keys: tuple[str, str]) -> None:
    storage = _log(70_000, keys[0], (1, 256, 65_536, 69_999))
    seen: list[int] = []
    report = audit_log(storage, [keys[1]], ORIGIN, seen.append)
    assert report.ok, report.problems
    assert report.entries_checked == 70_000
    assert report.checkpoints_checked == 4
    assert seen[-1] == 70_000


def test_empty_log_verifies(keys: tuple[str, str]) -> None:
    storage = MemoryLogStorage()
    Log(storage).issue_checkpoint(ORIGIN, keys[0])
    assert audit_log(storage, [keys[1]], ORIGIN).ok


def test_altered_upper_tile_is_named(keys: tuple[str, str]) -> None:
    storage = _log(600, keys[0])
    tile = bytearray(storage.tiles[TileKey(1, 0)])
    tile[40] ^= 1  # hash 1 of tile 1/000 covers entries 256..511
    storage.tiles[TileKey(1, 0)] = bytes(tile)
    problem = audit_log(storage, [keys[1]], ORIGIN).first_problem()
    assert problem is not None
    assert problem.index == 256
    assert "tile 1/000" in problem.message


def test_missing_tile_and_extra_tile_are_named(keys: tuple[str, str]) -> None:
    storage = _log(600, keys[0])
    del storage.tiles[TileKey(0, 1)]
    storage.tiles[TileKey(0, 9)] = b"\x00" * 32
    messages = [p.message for p in audit_log(storage, [keys[1]], ORIGIN).problems]
    assert any("tile 0/001 is missing" in m for m in messages)
    assert any("tile 0/009 is beyond the log" in m for m in messages)


def test_checkpoint_of_another_origin_is_refused(keys: tuple[str, str]) -> None:
    storage = _log(10, keys[0])
    root = Log(storage).head().root
    storage.checkpoints[10] = checkpoint.sign_checkpoint(
        checkpoint.Checkpoint("other.test/log", 10, root), keys[0]
    )
    problem = audit_log(storage, [keys[1]], ORIGIN).first_problem()
    assert problem is not None and "origin" in problem.message
