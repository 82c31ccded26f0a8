"""The tile-backed log answers exactly what the in-memory RFC 6962 reference answers."""

from __future__ import annotations

import random

import pytest

from triage.ledger import LedgerStateError, rfc6962
from triage.ledger.log import Log
from triage.ledger.memory import MemoryLogStorage
from triage.ledger.tiles import TILE_WIDTH, TileKey, encode_tile_index


def _grow(log: Log, entries: list[bytes], rng: random.Random) -> None:
    """Append in random batch sizes, so tile boundaries fall inside and between batches."""
    i = 0
    while i < len(entries):
        n = rng.choice([1, 1, 2, 7, 255, 256, 300])
        log.append(entries[i : i + n])
        i += n


@pytest.fixture(scope="module")
def grown() -> tuple[Log, MemoryLogStorage, list[bytes]]:
    rng = random.Random(20221124)
    entries = [rng.randbytes(rng.randint(1, 64)) for _ in range(TILE_WIDTH * TILE_WIDTH + 700)]
    storage = MemoryLogStorage()
    log = Log(storage)
    _grow(log, entries, rng)
    return log, storage, [rfc6962.leaf_hash(e) for e in entries]


def test_head_and_roots_match_reference(grown: tuple[Log, MemoryLogStorage, list[bytes]]) -> None:
    log, _, leaves = grown
    assert log.head().size == len(leaves)
    assert log.head().root == rfc6962.root_hash(leaves)
    rng = random.Random(7)
    for size in [1, 2, 255, 256, 257, 65535, 65536, 65537, *rng.sample(range(1, len(leaves)), 20)]:
        assert log.root_at(size) == rfc6962.root_hash(leaves[:size]), size


def test_proofs_match_reference_for_random_sizes(
    grown: tuple[Log, MemoryLogStorage, list[bytes]],
) -> None:
    log, _, leaves = grown
    rng = random.Random(11)
    for _ in range(60):
        size = rng.randint(1, len(leaves))
        index = rng.randrange(size)
        assert log.inclusion_proof(index, size) == rfc6962.inclusion_proof(leaves[:size], index)
        size1 = rng.randint(1, size)
        assert log.consistency_proof(size1, size) == rfc6962.consistency_proof(leaves[:size], size1)


def test_tiles_are_c2sp_shaped(grown: tuple[Log, MemoryLogStorage, list[bytes]]) -> None:
    _, storage, leaves = grown
    assert storage.tiles[TileKey(0, 0)] == b"".join(leaves[:TILE_WIDTH])
    assert storage.tiles[TileKey(1, 0)][:32] == rfc6962.root_hash(leaves[:TILE_WIDTH])
    # 65536 leaves make a full level-1 tile whose root is the first level-2 hash.
    assert storage.tiles[TileKey(2, 0)] == rfc6962.root_hash(leaves[: TILE_WIDTH * TILE_WIDTH])
    partial = storage.tiles[TileKey(0, len(leaves) // TILE_WIDTH)]
    assert len(partial) == (len(leaves) % TILE_WIDTH) * 32


def test_tile_index_paths_follow_c2sp() -> None:
    assert encode_tile_index(0) == "000"
    assert encode_tile_index(1234067) == "x001/x234/067"
    assert TileKey(1, 5).path() == "1/005"


def test_sizes_beyond_the_log_are_refused() -> None:
    log = Log(MemoryLogStorage())
    log.append([b"a", b"b"])
    with pytest.raises(LedgerStateError, match="beyond"):
        log.inclusion_proof(0, 3)
    with pytest.raises(LedgerStateError, match="not in a tree"):
        log.inclusion_proof(2, 2)
    with pytest.raises(LedgerStateError, match="no consistency proof"):
        log.consistency_proof(0, 2)
    assert log.consistency_proof(2, 2) == []
    assert log.entry(1) == b"b"
