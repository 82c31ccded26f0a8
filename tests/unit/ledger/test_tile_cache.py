"""Proofs answered from memory are the same proofs storage gives, and memory never guesses."""

from __future__ import annotations

import random

from triage.ledger import rfc6962
from triage.ledger.log import Log, cached_consistency, cached_inclusion
from triage.ledger.memory import MemoryLogStorage
from triage.ledger.tiles import TileCache


def test_memory_answers_equal_storage_answers_and_refuse_unknown_sizes() -> None:
    rng = random.Random(5)
    storage = MemoryLogStorage()
    cache = TileCache()
    log = Log(storage, cache)
    entries = [rng.randbytes(20) for _ in range(3000)]
    log.append(entries[:1500])
    leaves = [rfc6962.leaf_hash(e) for e in entries]
    # Nothing is known yet: memory must not answer.
    assert cached_inclusion(cache, 3, 1000) is None
    _, leaf, proof, root = log.inclusion_bundle(3, 1000)
    assert cached_inclusion(cache, 3, 1000) == (leaf, proof, root)
    assert cached_inclusion(cache, 3, 1501) is None  # beyond anything the log has reached
    log.append(entries[1500:])
    for _ in range(40):
        size = rng.randint(1, 3000)
        index = rng.randrange(size)
        _, leaf, proof, root = log.inclusion_bundle(index, size)
        assert (leaf, proof, root) == (
            leaves[index],
            rfc6962.inclusion_proof(leaves[:size], index),
            rfc6962.root_hash(leaves[:size]),
        )
        assert cached_inclusion(cache, index, size) == (leaf, proof, root)
        size1 = rng.randint(1, size)
        _, cproof, root1, root2 = log.consistency_bundle(size1, size)
        assert cached_consistency(cache, size1, size) == (cproof, root1, root2)


def test_a_small_cache_forgets_and_memory_then_declines() -> None:
    storage = MemoryLogStorage()
    cache = TileCache(capacity=2)
    log = Log(storage, cache)
    log.append([bytes([i % 256, i // 256]) for i in range(256 * 8)])
    for index in (0, 300, 600, 900, 1200):
        log.inclusion_bundle(index, 2048)
    assert cached_inclusion(cache, 0, 2048) is None


def test_a_warmed_cache_answers_every_proof_from_memory_and_the_answers_are_right() -> None:
    rng = random.Random(11)
    storage = MemoryLogStorage()
    entries = [rng.randbytes(16) for _ in range(256 * 256 + 700)]  # three levels of tiles
    Log(storage).append(entries)
    leaves = [rfc6962.leaf_hash(e) for e in entries]
    size = len(entries)
    cache = TileCache()
    log = Log(storage, cache)
    # 66,236 leaves: 259 tiles at level 0 (the last partial), 2 at level 1 (258 tile roots),
    # 1 at level 2.
    assert log.warm_cache() == 262
    root = rfc6962.root_hash(leaves)
    for _ in range(12):
        index = rng.randrange(size)
        found = cached_inclusion(cache, index, size)
        assert found == (leaves[index], rfc6962.inclusion_proof(leaves, index), root)
        size1 = rng.randint(1, size)
        assert cached_consistency(cache, size1, size) == (
            rfc6962.consistency_proof(leaves, size1),
            rfc6962.root_hash(leaves[:size1]),
            root,
        )


def test_warming_a_small_cache_keeps_the_upper_tiles_and_the_newest_leaves() -> None:
    storage = MemoryLogStorage()
    Log(storage).append([i.to_bytes(3, "big") for i in range(256 * 10)])
    cache = TileCache(capacity=4)
    log = Log(storage, cache)
    # Level 1 (one tile) and the three newest of the ten level-0 tiles.
    assert log.warm_cache() == 4
    assert cached_inclusion(cache, 256 * 10 - 1, 256 * 10) is not None
    assert cached_inclusion(cache, 256 * 7, 256 * 10) is not None
    assert cached_inclusion(cache, 256 * 7 - 1, 256 * 10) is None
    assert Log(MemoryLogStorage(), TileCache()).warm_cache() == 0
    assert Log(storage).warm_cache() == 0  # no cache: nothing to warm
