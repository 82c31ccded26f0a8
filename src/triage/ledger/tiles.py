"""C2SP tlog-tiles arithmetic: where each Merkle node lives, and how to read nodes from tiles.

A tile at level L holds up to 256 consecutive hashes of tree height 8*L; level 0 holds the leaf
hashes. A full tile never changes; a partial tile only ever grows, so a partial tile of width w
is a prefix of every later version of itself. That is what lets a proof for any older tree size
be answered from today's tiles.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from triage.ledger import hashing
from triage.ledger.errors import LedgerStateError, VerificationError
from triage.ledger.rfc6962 import EMPTY_ROOT, HASH_SIZE, node_hash, split_point

TILE_HEIGHT = hashing.TILE_HEIGHT
TILE_WIDTH = hashing.TILE_WIDTH
TILE_BYTES = TILE_WIDTH * HASH_SIZE


@dataclass(frozen=True, order=True)
class TileKey:
    """Address of one tile: its level and its index within that level."""

    level: int
    index: int

    def path(self) -> str:
        """The C2SP tile path, such as ``1/x001/234`` (without the ``tile/`` prefix or width)."""
        return f"{self.level}/{encode_tile_index(self.index)}"


def encode_tile_index(index: int) -> str:
    """Encode a tile index as C2SP path elements: three-digit groups, all but the last with 'x'."""
    groups = [f"{index % 1000:03d}"]
    index //= 1000
    while index > 0:
        groups.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(groups))


class TileReader(Protocol):
    """Anything that can read stored tiles (missing tiles are simply absent from the result)."""

    def read_tiles(self, keys: Collection[TileKey]) -> Mapping[TileKey, bytes]: ...


def split_hashes(data: bytes) -> list[bytes]:
    """Cut a tile's bytes into its 32-byte hashes."""
    if len(data) % HASH_SIZE:
        raise VerificationError(f"tile data of {len(data)} bytes is not a whole number of hashes")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def subtree_root(hashes: Sequence[bytes]) -> bytes:
    """Root of a perfect subtree whose bottom row is ``hashes`` (a power-of-two count)."""
    # The bulk loop (most of the cost of verifying a log) lives in ``hashing``.
    return hashing.subtree_root(hashes)


def perfect_nodes(count: int, hashes: Sequence[bytes]) -> list[bytes]:
    """Roots of the perfect subtrees (largest first) that a row of ``count`` hashes splits into."""
    nodes: list[bytes] = []
    start = 0
    for bit in range(count.bit_length() - 1, -1, -1):
        width = 1 << bit
        if count & width:
            if width == 1:
                nodes.append(hashes[start])
            else:
                nodes.append(_subtree_root_of(b"".join(hashes[start : start + width])))
            start += width
    return nodes


@functools.lru_cache(maxsize=1024)
def _subtree_root_of(data: bytes) -> bytes:
    # A subtree's root depends only on its hashes. The right edge of a growing log splits into
    # the same large subtrees append after append, so they are computed once, not every time.
    return subtree_root(split_hashes(data))


def fold_right(nodes: Sequence[bytes]) -> bytes:
    """Root of a tree given the roots of its perfect subtrees from left (largest) to right."""
    if not nodes:
        return EMPTY_ROOT
    root = nodes[-1]
    for node in reversed(nodes[:-1]):
        root = node_hash(node, root)
    return root


@dataclass(frozen=True)
class _Node:
    height: int
    index: int


class TileCache:
    """Tiles with all their internal nodes, kept in memory (thread-safe, least recently used
    dropped first), and the largest tree size seen.

    A full tile never changes and a partial tile only grows, so whatever nodes a tile of some
    width holds stay true for ever: repeated proofs need not ask storage again. A longer
    version of a partial tile replaces a shorter one.
    """

    def __init__(self, capacity: int = 4096) -> None:
        self._capacity = capacity
        self._tiles: OrderedDict[TileKey, tuple[bytes, ...]] = OrderedDict()
        self._lock = threading.Lock()
        self.known_size = 0
        # Hashes of ranges that are not one perfect subtree: the right edges of the tree sizes
        # proofs were asked at (a handful per size). MTH(D[lo:hi]) never changes once the log
        # holds ``hi`` entries, so a remembered one is always right.
        self._ranges: dict[tuple[int, int], bytes] = {}
        # The right edge of the tiles after this process's latest append, under the tree's size
        # and root: an append that finds the log at that size and root (nothing else appended,
        # nothing rolled back since) starts from it instead of reading and splitting the tiles.
        self._edge: tuple[int, bytes, TileAppender] | None = None

    def edge(self, size: int, root: bytes) -> TileAppender | None:
        """A copy of the remembered right edge, if it is the edge of the tree of ``size``
        leaves with this ``root`` (a root commits to every leaf, so the edge is the same)."""
        remembered = self._edge
        if remembered is None or remembered[0] != size or remembered[1] != root:
            return None
        return remembered[2].copy()

    def remember_edge(self, size: int, root: bytes, appender: TileAppender) -> None:
        """Remember the right edge of the tree of ``size`` leaves with this ``root``."""
        self._edge = (size, root, appender.copy())

    def range(self, lo: int, hi: int) -> bytes | None:
        """A remembered hash of the range ``[lo, hi)``, if any."""
        return self._ranges.get((lo, hi))

    def remember_range(self, lo: int, hi: int, value: bytes) -> None:
        """Remember the hash of ``[lo, hi)`` (forgetting them all when there are too many)."""
        with self._lock:
            if len(self._ranges) >= _MAX_RANGES:
                self._ranges.clear()
            self._ranges[(lo, hi)] = value

    @property
    def capacity(self) -> int:
        """How many tiles the cache keeps."""
        return self._capacity

    def observe(self, size: int) -> None:
        """Remember that the log has reached ``size`` (sizes only grow)."""
        with self._lock:
            self.known_size = max(self.known_size, size)

    def get(self, key: TileKey, width: int) -> tuple[bytes, ...] | None:
        """The node rows of a tile holding at least ``width`` hashes, bottom row first."""
        with self._lock:
            rows = self._tiles.get(key)
            if rows is None or len(rows[0]) < width * HASH_SIZE:
                return None
            self._tiles.move_to_end(key)
            return rows

    def put(self, key: TileKey, data: bytes) -> tuple[bytes, ...]:
        """Compute and keep the node rows of a tile (over its complete pairs); returns them."""
        rows = [data]
        hashes = split_hashes(data)
        while len(hashes) > 1:
            hashes = hashing.parent_row(hashes[: len(hashes) & ~1])
            rows.append(b"".join(hashes))
        stored = tuple(rows)
        with self._lock:
            current = self._tiles.get(key)
            if current is None or len(current[0]) <= len(data):
                self._tiles[key] = stored
            self._tiles.move_to_end(key)
            while len(self._tiles) > self._capacity:
                self._tiles.popitem(last=False)
        return stored


_MAX_RANGES = 65_536


class CacheMiss(Exception):
    """A tile needed for an answer from memory alone is not in memory."""


class _MemoryOnly:
    def read_tiles(self, keys: Collection[TileKey]) -> Mapping[TileKey, bytes]:
        raise CacheMiss(", ".join(key.path() for key in keys))


MEMORY_ONLY: TileReader = _MemoryOnly()


class TileHashes:
    """Node hashes of the tree of ``size`` leaves, read from tiles.

    Used by proofs: the caller first names every range it needs (``prefetch``) so that all
    tiles are read in one round trip, then asks for range hashes. With a ``TileCache``, tiles
    come from memory when it has them; with the ``MEMORY_ONLY`` reader, a tile that is not
    there raises CacheMiss instead of being read.
    """

    def __init__(self, reader: TileReader, size: int, cache: TileCache | None = None) -> None:
        self._reader = reader
        self._size = size
        self._cache = cache if cache is not None else TileCache(capacity=64)
        self._rows: dict[TileKey, tuple[bytes, ...]] = {}  # tiles this instance has looked at

    def prefetch(self, ranges: Iterable[tuple[int, int]]) -> None:
        """Read, in one call, every tile needed for the given leaf ranges that memory lacks."""
        needed: dict[TileKey, int] = {}
        for lo, hi in ranges:
            for node in _decompose(lo, hi):
                key, offset, count = self._tile_of(node)
                needed[key] = max(needed.get(key, 0), offset + count)
        missing = [key for key, width in needed.items() if self._cache.get(key, width) is None]
        if missing:
            for key, data in self._reader.read_tiles(missing).items():
                self._cache.put(key, data)

    def range_hash(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]) for 0 <= lo < hi <= size."""
        if not 0 <= lo < hi <= self._size:
            raise LedgerStateError(f"range {lo}..{hi} is outside a tree of size {self._size}")
        width = hi - lo
        if width & (width - 1) == 0 and lo % width == 0:  # one perfect subtree: one lookup
            return self._perfect(_Node(width.bit_length() - 1, lo // width))
        known = self._cache.range(lo, hi)
        if known is None:
            known = fold_right([self._perfect(node) for node in _decompose(lo, hi)])
            self._cache.remember_range(lo, hi, known)
        return known

    def _tile_of(self, node: _Node) -> tuple[TileKey, int, int]:
        level, rest = divmod(node.height, TILE_HEIGHT)
        first = node.index << rest
        return TileKey(level, first >> TILE_HEIGHT), first % TILE_WIDTH, 1 << rest

    def _perfect(self, node: _Node) -> bytes:
        key, offset, count = self._tile_of(node)
        rows = self._rows.get(key)
        if rows is None or len(rows[0]) < (offset + count) * HASH_SIZE:
            rows = self._cache.get(key, offset + count)
        if rows is None:
            data = self._reader.read_tiles([key]).get(key)
            if data is None:
                raise VerificationError(f"tile {key.path()} is missing from storage")
            if len(data) < (offset + count) * HASH_SIZE:
                raise VerificationError(
                    f"tile {key.path()} holds {len(data) // HASH_SIZE} hashes, "
                    f"{offset + count} needed for tree size {self._size}"
                )
            rows = self._cache.put(key, data)
        self._rows[key] = rows
        return _node_in(rows, offset, count)


def _node_in(rows: tuple[bytes, ...], offset: int, count: int) -> bytes:
    """The node covering ``count`` hashes from ``offset`` in a tile's node rows."""
    row = rows[count.bit_length() - 1]
    position = offset // count
    return row[position * HASH_SIZE : (position + 1) * HASH_SIZE]


def _decompose(lo: int, hi: int) -> list[_Node]:
    """Perfect subtrees covering [lo, hi), left to right, for ranges RFC 6962 recursion makes."""
    nodes: list[_Node] = []
    while hi - lo > 0:
        width = hi - lo
        if width & (width - 1) == 0 and lo % width == 0:
            nodes.append(_Node(width.bit_length() - 1, lo // width))
            break
        k = split_point(width) if width > 1 else 1
        # RFC 6962 ranges always start on a boundary of their largest power of two.
        if lo % k:
            raise LedgerStateError(f"range {lo}..{hi} is not a Merkle subtree range")
        nodes.append(_Node(k.bit_length() - 1, lo // k))
        lo += k
    return nodes


class TileAppender:
    """Extends the right edge of the tiles as leaf hashes are appended.

    ``edge`` holds, for each level, the hashes of that level's rightmost (partial) tile. After
    appending, ``changed`` gives every tile to write: full tiles completed on the way and the new
    partial tiles. With ``base_level`` L > 0 the appended hashes are level-L hashes (each the
    root of 256**L leaves) and ``size`` counts those.
    """

    def __init__(self, size: int, edge: Mapping[int, bytes], base_level: int = 0) -> None:
        self.size = size
        self._base = base_level
        self._rows: dict[int, list[bytes]] = {}
        for level in range(self._levels(size)):
            expected = (size >> (TILE_HEIGHT * level)) % TILE_WIDTH
            data = edge.get(base_level + level, b"")
            if len(data) != expected * HASH_SIZE:
                raise VerificationError(
                    f"right-edge tile at level {level} holds {len(data) // HASH_SIZE} hashes, "
                    f"a log of size {size} needs {expected}"
                )
            self._rows[level] = split_hashes(data)
        self._full: dict[TileKey, bytes] = {}
        self._touched: set[int] = set()

    def copy(self) -> TileAppender:
        """An appender at the same right edge, with nothing yet to write."""
        twin = TileAppender.__new__(TileAppender)
        twin.size = self.size
        twin._base = self._base
        twin._rows = {level: list(row) for level, row in self._rows.items()}
        twin._full = {}
        twin._touched = set()
        return twin

    @staticmethod
    def edge_keys(size: int) -> list[TileKey]:
        """The partial tiles a log of ``size`` leaves has, one per level that has hashes."""
        keys = []
        for level in range(TileAppender._levels(size)):
            if (size >> (TILE_HEIGHT * level)) % TILE_WIDTH:
                keys.append(TileKey(level, size >> (TILE_HEIGHT * (level + 1))))
        return keys

    @staticmethod
    def _levels(size: int) -> int:
        levels = 0
        while size >> (TILE_HEIGHT * levels):
            levels += 1
        return levels

    def append(self, leaf_hashes: Sequence[bytes]) -> None:
        """Add leaf hashes at the right edge, rolling full tiles up a level."""
        done = 0
        while done < len(leaf_hashes):
            row = self._rows.setdefault(0, [])
            take = min(TILE_WIDTH - len(row), len(leaf_hashes) - done)
            row.extend(leaf_hashes[done : done + take])
            done += take
            self.size += take
            self._touched.add(0)
            level = 0
            while len(self._rows[level]) == TILE_WIDTH:
                full = self._rows[level]
                index = (self.size - 1) >> (TILE_HEIGHT * (level + 1))
                self._full[TileKey(self._base + level, index)] = b"".join(full)
                self._rows[level] = []
                level += 1
                self._rows.setdefault(level, []).append(subtree_root(full))
                self._touched.add(level)

    def drain_full(self) -> dict[TileKey, bytes]:
        """Full tiles completed since the last drain (and forget them)."""
        full, self._full = self._full, {}
        return full

    def partial(self) -> dict[TileKey, bytes]:
        """The current partial tile of every level that has one."""
        return {
            TileKey(self._base + level, self.size >> (TILE_HEIGHT * (level + 1))): b"".join(row)
            for level, row in self._rows.items()
            if row
        }

    def changed(self) -> dict[TileKey, bytes]:
        """Tiles to write after the appends: completed full tiles and the touched partial ones."""
        out = self.drain_full()
        out.update(
            (k, v) for k, v in self.partial().items() if k.level - self._base in self._touched
        )
        self._touched.clear()
        return out

    def nodes(self) -> list[bytes]:
        """Roots of the perfect subtrees the tree splits into, largest (leftmost) first."""
        nodes: list[bytes] = []
        for level in sorted(self._rows, reverse=True):
            row = self._rows[level]
            nodes.extend(perfect_nodes(len(row), row))
        return nodes

    def root(self) -> bytes:
        """Root hash of the tree as it stands after the appends."""
        return fold_right(self.nodes())
