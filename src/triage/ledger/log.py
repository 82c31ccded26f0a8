"""A storage-backed, append-only Merkle log with tiles, proofs and signed checkpoints.

The log does not own transactions: the caller opens one (the unit of work), and the log reads
and writes through a ``LogStorage`` bound to it. That is how a state change and its ledger entry
commit together or not at all. ``LogStorage.lock_head`` is what serialises writers.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from triage.ledger import checkpoint as checkpoints
from triage.ledger import note
from triage.ledger.errors import LedgerStateError
from triage.ledger.rfc6962 import (
    EMPTY_ROOT,
    RangeHash,
    consistency_path,
    inclusion_path,
    leaf_hashes,
)
from triage.ledger.tiles import (
    MEMORY_ONLY,
    TILE_HEIGHT,
    TILE_WIDTH,
    CacheMiss,
    TileAppender,
    TileCache,
    TileHashes,
    TileKey,
)

if TYPE_CHECKING:
    from triage.ledger.vouch import Vouched


@dataclass(frozen=True)
class LogHead:
    """The log's current size and root hash."""

    size: int
    root: bytes


@dataclass(frozen=True)
class StoredCheckpoint:
    """A signed checkpoint as stored: its tree size and the whole signed note."""

    size: int
    note: str


class LogStorage(Protocol):
    """What the log needs from storage, all within the caller's transaction."""

    def lock_head(self) -> LogHead:
        """Read the head and hold the log's append lock until the transaction ends."""
        ...

    def read_head(self) -> LogHead: ...

    def write_head(self, head: LogHead) -> None: ...

    def insert_entries(self, first_index: int, entries: Sequence[bytes]) -> None: ...

    def read_entries(self, start: int, stop: int) -> Iterator[Sequence[tuple[int, bytes]]]:
        """Stored entries with start <= index < stop as (index, data), in index order, in batches.

        Gaps are not filled: a missing entry is simply absent.
        """
        ...

    def read_bundles(self, first_tile: int, stop_tile: int) -> Iterator[tuple[int, bytes]] | None:
        """The stored entry bundles (``triage.ledger.bundle``) of the level-0 tiles
        ``first_tile`` <= index < ``stop_tile``, as (tile index, bundle) in index order.

        What verification hashes, without a row per entry. None when the range cannot be read
        that way (no bundles in this storage, or entries of the range also stored one by one,
        as only a damaged log has them): the caller reads ``read_entries`` then.
        """
        ...

    def read_tiles(self, keys: Collection[TileKey]) -> Mapping[TileKey, bytes]: ...

    def iter_tiles(self, level: int, start: int = 0) -> Iterator[tuple[int, bytes]]:
        """Stored tiles of ``level`` with index >= ``start`` as (index, hashes), in order."""
        ...

    def write_tiles(self, tiles: Mapping[TileKey, bytes]) -> None: ...

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None: ...

    def read_checkpoints(self) -> list[StoredCheckpoint]:
        """All stored checkpoints, smallest size first."""
        ...


class Log:
    """Append entries, answer proofs and issue checkpoints for one log."""

    def __init__(self, storage: LogStorage, cache: TileCache | None = None) -> None:
        self._storage = storage
        self._cache = cache

    def head(self) -> LogHead:
        """Current size and root."""
        head = self._storage.read_head()
        if self._cache is not None:
            self._cache.observe(head.size)
        return head

    def append(self, entries: Sequence[bytes]) -> int:
        """Append ``entries`` in order and return the index of the first; holds the append lock."""
        head = self._storage.lock_head()
        if not entries:
            return head.size
        appender = None if self._cache is None else self._cache.edge(head.size, head.root)
        if appender is None:
            edge_keys = TileAppender.edge_keys(head.size)
            edge_tiles = self._storage.read_tiles(edge_keys)
            appender = TileAppender(
                head.size, {key.level: edge_tiles.get(key, b"") for key in edge_keys}
            )
        appender.append(leaf_hashes(entries))
        self._storage.insert_entries(head.size, entries)
        self._storage.write_tiles(appender.changed())
        new_head = LogHead(appender.size, appender.root())
        self._storage.write_head(new_head)
        if self._cache is not None:
            # Kept under the new head: if this transaction rolls back, the log is still at the
            # old head, which this edge does not match, and the next append reads the tiles.
            self._cache.remember_edge(new_head.size, new_head.root, appender)
        return head.size

    def entry(self, index: int) -> bytes:
        """The stored bytes of entry ``index``."""
        for batch in self._storage.read_entries(index, index + 1):
            for found, data in batch:
                if found == index:
                    return data
        raise LedgerStateError(f"entry {index} is not in the log")

    def root_at(self, size: int) -> bytes:
        """Root hash of the tree of the first ``size`` entries."""
        self._check_size(size)
        if size == 0:
            return EMPTY_ROOT
        hashes = TileHashes(self._storage, size, self._cache)
        hashes.prefetch([(0, size)])
        return hashes.range_hash(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Inclusion proof of entry ``index`` in the tree of ``size`` (default: current) entries."""
        return self.inclusion_bundle(index, size)[2]

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """Consistency proof from tree size ``size1`` to ``size2`` (default: current)."""
        return self.consistency_bundle(size1, size2)[1]

    def inclusion_bundle(
        self, index: int, size: int | None = None
    ) -> tuple[int, bytes, list[bytes], bytes]:
        """(size, leaf hash, inclusion proof, root) for one entry, in one read of the tiles."""
        head = self.head()
        size = head.size if size is None else size
        if not 0 <= size <= head.size:
            raise LedgerStateError(f"tree size {size} is beyond the log's size {head.size}")
        if not 0 <= index < size:
            raise LedgerStateError(f"index {index} is not in a tree of size {size}")
        hashes = TileHashes(self._storage, size, self._cache)
        ranges = _ranges(lambda mth: inclusion_path(index, 0, size, mth))
        # The root's tiles too, even when the head has the root: later proofs at this size
        # can then be answered from memory.
        ranges += [(index, index + 1), (0, size)]
        hashes.prefetch(ranges)
        root = head.root if size == head.size else hashes.range_hash(0, size)
        proof = inclusion_path(index, 0, size, hashes.range_hash)
        return size, hashes.range_hash(index, index + 1), proof, root

    def consistency_bundle(
        self, size1: int, size2: int | None = None
    ) -> tuple[int, list[bytes], bytes, bytes]:
        """(size2, consistency proof, root1, root2), in one read of the tiles."""
        head = self.head()
        size2 = head.size if size2 is None else size2
        if not 0 <= size2 <= head.size:
            raise LedgerStateError(f"tree size {size2} is beyond the log's size {head.size}")
        if not 0 < size1 <= size2:
            raise LedgerStateError(f"no consistency proof from size {size1} to size {size2}")
        hashes = TileHashes(self._storage, size2, self._cache)
        ranges = [(0, size1)]
        if size1 != size2:
            ranges += _ranges(lambda mth: consistency_path(size1, size2, mth))
        ranges.append((0, size2))
        hashes.prefetch(ranges)
        root2 = head.root if size2 == head.size else hashes.range_hash(0, size2)
        proof = [] if size1 == size2 else consistency_path(size1, size2, hashes.range_hash)
        return size2, proof, hashes.range_hash(0, size1), root2

    def warm_cache(self) -> int:
        """Read tiles into the tile cache ahead of proofs; returns how many were read.

        Every tile above level 0 (a proof needs them all), and as many of the newest level-0
        tiles as the cache has room for. Tiles never change once written, so this can run
        beside appends; without a cache it does nothing.
        """
        if self._cache is None:
            return 0
        size = self.head().size
        counts: list[int] = []  # tiles per level: level L holds a hash per 256**L leaves
        while hashes := size >> (TILE_HEIGHT * len(counts)):
            counts.append(-(-hashes // TILE_WIDTH))
        if not counts:
            return 0
        room = max(0, self._cache.capacity - sum(counts[1:]))
        read = 0
        # Lowest level first, so that the tiles every proof needs are the most recently used.
        for level, count in enumerate(counts):
            start = max(0, count - room) if level == 0 else 0
            for index, data in self._storage.iter_tiles(level, start):
                self._cache.put(TileKey(level, index), data)
                read += 1
        return read

    def leaf_hash(self, index: int) -> bytes:
        """The stored leaf hash of entry ``index``."""
        return TileHashes(self._storage, index + 1).range_hash(index, index + 1)

    def issue_checkpoint(self, origin: str, signer_key: str) -> StoredCheckpoint:
        """Vouch for the log against the latest stored checkpoint, then sign a checkpoint of it
        and store it (idempotent for the same size).

        ``triage.ledger.vouch.HistoryRewritten`` (naming the first bad entry where it can) when
        the log is not the tree that checkpoint signed: nothing is signed then.
        """
        from triage.ledger.vouch import open_anchor, vouch

        verifier = note.verifier_key_from_signer(signer_key)
        latest = self.latest_checkpoint()
        # Whatever origin it names: the key is what vouches for it.
        anchor = None if latest is None else open_anchor(latest.note, [verifier], None)
        return self.sign_vouched(vouch(self._storage, anchor), origin, signer_key)

    def sign_vouched(self, vouched: Vouched, origin: str, signer_key: str) -> StoredCheckpoint:
        """Sign and store a checkpoint of the size and root ``vouch`` recomputed."""
        body = checkpoints.Checkpoint(origin=origin, size=vouched.size, root_hash=vouched.root)
        stored = StoredCheckpoint(vouched.size, checkpoints.sign_checkpoint(body, signer_key))
        self._storage.add_checkpoint(stored)
        return stored

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The stored checkpoint of the largest size, if any."""
        stored = self._storage.read_checkpoints()
        return stored[-1] if stored else None

    def _check_size(self, size: int) -> None:
        current = self.head().size
        if not 0 <= size <= current:
            raise LedgerStateError(f"tree size {size} is beyond the log's size {current}")


def cached_inclusion(
    cache: TileCache, index: int, size: int
) -> tuple[bytes, list[bytes], bytes] | None:
    """(leaf hash, proof, root) from memory alone, or None when memory cannot answer.

    Only for a size the log is known to have reached: such a tree never changes.
    """
    if not 0 <= index < size <= cache.known_size:
        return None
    hashes = TileHashes(MEMORY_ONLY, size, cache)
    try:
        proof = inclusion_path(index, 0, size, hashes.range_hash)
        return hashes.range_hash(index, index + 1), proof, hashes.range_hash(0, size)
    except CacheMiss:
        return None


def cached_consistency(
    cache: TileCache, size1: int, size2: int
) -> tuple[list[bytes], bytes, bytes] | None:
    """(proof, root1, root2) from memory alone, or None when memory cannot answer."""
    if not 0 < size1 <= size2 <= cache.known_size:
        return None
    hashes = TileHashes(MEMORY_ONLY, size2, cache)
    try:
        proof = [] if size1 == size2 else consistency_path(size1, size2, hashes.range_hash)
        return proof, hashes.range_hash(0, size1), hashes.range_hash(0, size2)
    except CacheMiss:
        return None


def _ranges(run: Callable[[RangeHash], object]) -> list[tuple[int, int]]:
    """Ranges a proof algorithm asks for, found by running it with a recording hash function."""
    asked: list[tuple[int, int]] = []

    def record(lo: int, hi: int) -> bytes:
        asked.append((lo, hi))
        return b""

    run(record)
    return asked
