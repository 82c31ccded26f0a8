"""Vouching for a log before signing it: a rewritten history is refused, naming the entry."""

from __future__ import annotations

import pytest

from triage.ledger import note
from triage.ledger.log import Log, LogStorage
from triage.ledger.memory import MemoryLogStorage
from triage.ledger.rfc6962 import leaf_hash, root_hash
from triage.ledger.tiles import TileKey
from triage.ledger.vouch import Anchor, HistoryRewritten, open_anchor, stored_leaf_hashes, vouch

ORIGIN = "example.org/vouch"
SIGNER, VERIFIER = note.generate_key(ORIGIN)


def _entries(start: int, stop: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(start, stop)]


def _log(size: int, signed: tuple[int, ...]) -> tuple[MemoryLogStorage, list[Anchor]]:
    storage = MemoryLogStorage()
    log = Log(storage)
    anchors = []
    for cut in (*signed, size):
        log.append(_entries(log.head().size, cut))
        if cut in signed:
            stored = log.issue_checkpoint(ORIGIN, SIGNER)
            anchors.append(open_anchor(stored.note, [VERIFIER], ORIGIN))
    return storage, anchors


def _rewrite(storage: MemoryLogStorage, index: int, data: bytes) -> MemoryLogStorage:
    """Everything rebuilt consistently around a changed entry: only signatures disagree."""
    entries = [storage.entries[i] for i in range(storage.head.size)]
    entries[index] = data
    rebuilt = MemoryLogStorage()
    Log(rebuilt).append(entries)
    rebuilt.checkpoints = dict(storage.checkpoints)
    return rebuilt


class Held:
    def __init__(self, hashes: list[bytes]) -> None:
        self.hashes = hashes

    def read_hashes(self, count: int) -> bytes:
        return b"".join(self.hashes[:count])


@pytest.mark.parametrize(("size", "signed"), [(0, ()), (1, ()), (5, (1, 3)), (700, (120, 513))])
def test_an_honest_log_is_vouched_for_with_its_own_root(size: int, signed: tuple[int, ...]) -> None:
    storage, anchors = _log(size, signed)
    vouched = vouch(storage, anchors[-1] if anchors else None)
    assert (vouched.size, vouched.root) == (size, storage.head.root)
    start = anchors[-1].size if anchors else 0
    assert vouched.new_leaf_hashes == [leaf_hash(e) for e in _entries(start, size)]
    assert vouched.root == root_hash([leaf_hash(e) for e in _entries(0, size)])


def test_a_rewritten_entry_before_the_checkpoint_is_named_with_kept_hashes() -> None:
    storage, anchors = _log(300, (120,))
    honest = [leaf_hash(e) for e in _entries(0, 300)]
    forged = _rewrite(storage, 50, b"forged")
    with pytest.raises(HistoryRewritten) as refused:
        vouch(forged, anchors[-1], Held(honest))
    assert refused.value.index == 50
    assert "entry 50 does not hash to the tree the last checkpoint (size 120) signed" in str(
        refused.value
    )


def test_without_kept_hashes_the_signed_checkpoints_narrow_it_down() -> None:
    storage, anchors = _log(300, (20, 40, 80, 120))
    forged = _rewrite(storage, 50, b"forged")
    with pytest.raises(HistoryRewritten) as refused:
        vouch(forged, anchors[-1], None, lambda: anchors)
    assert refused.value.index is None
    assert "an entry among 40..79" in str(refused.value)


def test_kept_hashes_that_do_not_give_the_signed_root_are_not_believed() -> None:
    storage, anchors = _log(300, (120,))
    forged = _rewrite(storage, 50, b"forged")
    wrong = [leaf_hash(e) for e in _entries(0, 300)]
    wrong[10] = b"\x00" * 32
    with pytest.raises(HistoryRewritten) as refused:
        vouch(forged, anchors[-1], Held(wrong))
    assert refused.value.index is None  # not entry 10: the kept hashes were wrong


def test_an_entry_changed_after_the_checkpoint_is_named() -> None:
    storage, anchors = _log(300, (120,))
    storage.entries[200] = b"changed"
    with pytest.raises(HistoryRewritten) as refused:
        vouch(storage, anchors[-1])
    assert refused.value.index == 200
    assert "tile 0/000" in str(refused.value)


def test_an_old_entry_changed_without_its_tiles_is_never_signed_over() -> None:
    storage, anchors = _log(300, (120,))
    storage.entries[7] = b"changed"
    # Tiles untouched: entries before the anchor are not re-hashed (that is a full rescan,
    # `ledger verify`), and what is signed is still the honest tree of the tiles; a receipt
    # or export of entry 7 fails against it. A tile changed to match is refused:
    vouched = vouch(storage, anchors[-1])
    assert vouched.root == root_hash([leaf_hash(e) for e in _entries(0, 300)])
    storage.tiles[TileKey(0, 0)] = b"\x00" * 32 + storage.tiles[TileKey(0, 0)][32:]
    with pytest.raises(HistoryRewritten) as refused:
        vouch(storage, anchors[-1])
    assert refused.value.index == 0


def test_a_log_shorter_than_its_checkpoint_is_refused() -> None:
    storage, anchors = _log(300, (300,))
    rebuilt = MemoryLogStorage()
    Log(rebuilt).append([storage.entries[i] for i in range(200)])
    with pytest.raises(HistoryRewritten) as refused:
        vouch(rebuilt, anchors[-1])
    assert refused.value.index == 200
    assert "fewer than the 300" in str(refused.value)


def test_an_altered_head_or_missing_entry_is_refused() -> None:
    storage, anchors = _log(300, (120,))
    storage.head = type(storage.head)(300, b"\x01" * 32)
    with pytest.raises(HistoryRewritten, match="stored head root"):
        vouch(storage, anchors[-1])
    storage, anchors = _log(300, (120,))
    del storage.entries[250]
    with pytest.raises(HistoryRewritten) as refused:
        vouch(storage, anchors[-1])
    assert refused.value.index == 250


def test_log_issue_checkpoint_vouches_first() -> None:
    storage, _ = _log(300, (120,))
    forged = _rewrite(storage, 50, b"forged")
    with pytest.raises(HistoryRewritten):
        Log(forged).issue_checkpoint(ORIGIN, SIGNER)
    assert sorted(forged.checkpoints) == [120]


def test_stored_leaf_hashes_reads_across_tiles() -> None:
    storage, _ = _log(700, ())
    store: LogStorage = storage
    assert stored_leaf_hashes(store, 250, 520) == [leaf_hash(e) for e in _entries(250, 520)]
    assert stored_leaf_hashes(store, 5, 5) == []
    with pytest.raises(HistoryRewritten, match="tile 0/002"):
        stored_leaf_hashes(store, 600, 800)
