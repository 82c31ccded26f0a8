"""Vouching for a log before it is signed: is it still the tree the last checkpoint signed?

Whoever holds the database but not the signing key can change an entry and rebuild the bundles,
the tiles and the head so that they all agree; only the signed checkpoints then disagree. A
facility that signed whatever its head says would sign that rewritten history. So before a new
checkpoint is signed, :func:`vouch`:

1. reproduces the root of the last signed checkpoint (size m) from the stored tiles, reading
   only the O(log n) perfect subtrees that make up the tree of m entries; a different root
   means something before m was changed after it was signed;
2. re-hashes the entries appended since (m..n-1), checks them against the stored leaf hashes,
   and computes the new root from the old tree's subtrees and these leaves, not from the
   stored head or tiles; that root must also be the stored head's and the tiles'.

The cost is the entries since the last checkpoint plus a few tile reads, never a rescan of the
whole log (that is :func:`triage.ledger.audit.audit_log`). Only when the old root is not
reproduced is more read, to name the first bad entry: the leaf hashes kept from earlier checks
(``HeldHashes``, checked against the signed root before they are believed) are compared with
the entries; without them, the stored signed checkpoints narrow it down to a range.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from triage.ledger.checkpoint import open_checkpoint
from triage.ledger.errors import VerificationError
from triage.ledger.log import LogStorage
from triage.ledger.rfc6962 import EMPTY_ROOT, HASH_SIZE, leaf_hashes, node_hash
from triage.ledger.tiles import (
    TILE_WIDTH,
    TileCache,
    TileHashes,
    TileKey,
    fold_right,
    split_hashes,
    subtree_root,
)

__all__ = [
    "Anchor",
    "HeldHashes",
    "HistoryRewritten",
    "Vouched",
    "open_anchor",
    "stored_leaf_hashes",
    "vouch",
]


class HistoryRewritten(VerificationError):
    """The log is not the tree the facility last signed (or does not agree with itself).

    ``index`` is the first bad entry where it can be named, else None.
    """

    def __init__(self, index: int | None, message: str) -> None:
        super().__init__(message)
        self.index = index


@dataclass(frozen=True)
class Anchor:
    """A signed checkpoint whose signature verified: what the facility last vouched for."""

    size: int
    root: bytes
    note: str


@dataclass(frozen=True)
class Vouched:
    """The log checked against ``anchor``: its size, its recomputed root, and the leaf hashes
    of the entries appended since the anchor (``anchor.size`` to ``size - 1``)."""

    anchor: Anchor | None
    size: int
    root: bytes
    new_leaf_hashes: list[bytes]


class HeldHashes(Protocol):
    """Leaf hashes kept from earlier checks (index 0 onwards), read only to name a bad entry."""

    def read_hashes(self, count: int) -> bytes:
        """The first ``count`` leaf hashes, concatenated (fewer if fewer are kept)."""
        ...


def open_anchor(signed_note: str, verifier_keys: Sequence[str], origin: str | None) -> Anchor:
    """Verify a signed checkpoint and take it as an anchor (VerificationError if it fails)."""
    body = open_checkpoint(signed_note, verifier_keys, origin)
    return Anchor(body.size, body.root_hash, signed_note)


def vouch(
    storage: LogStorage,
    anchor: Anchor | None,
    held: HeldHashes | None = None,
    signed: Callable[[], Sequence[Anchor]] | None = None,
) -> Vouched:
    """Check the log against the last signed checkpoint ``anchor`` (None: nothing signed yet)
    and return what may be signed; HistoryRewritten names the first bad entry if it fails.

    ``signed`` gives the other verified checkpoints, asked only to narrow down a failure when
    no ``held`` hashes can name the entry.
    """
    head = storage.read_head()
    size = anchor.size if anchor is not None else 0
    if size > head.size:
        raise HistoryRewritten(
            head.size,
            f"the log holds {head.size} entries, fewer than the {size} the last checkpoint "
            "signed: entries were removed",
        )
    nodes = _perfect_nodes(storage, size)
    if anchor is not None and fold_right([h for _, h in nodes]) != anchor.root:
        raise _locate(storage, anchor, held, signed)
    new = _entry_hashes(storage, size, head.size)
    _compare_with_tiles(storage, size, new, anchor)
    for leaf in new:
        nodes.append((1, leaf))
        while len(nodes) > 1 and nodes[-1][0] == nodes[-2][0]:
            (width, right), (_, left) = nodes.pop(), nodes.pop()
            nodes.append((2 * width, node_hash(left, right)))
    root = fold_right([h for _, h in nodes])
    since = f"the last checkpoint (size {size})" if anchor is not None else "the first entry"
    if root != head.root:
        raise HistoryRewritten(
            None,
            f"the stored head root {head.root.hex()} is not the root {root.hex()} recomputed "
            f"from {since} and the entries since: the head was altered",
        )
    tiles_root = _tiles_root(storage, head.size)
    if tiles_root != root:
        raise HistoryRewritten(
            None,
            f"the stored tiles give root {tiles_root.hex()} for size {head.size}, not the root "
            f"{root.hex()} recomputed from {since} and the entries since: a tile was altered",
        )
    return Vouched(anchor, head.size, root, new)


def stored_leaf_hashes(storage: LogStorage, start: int, stop: int) -> list[bytes]:
    """The leaf hashes the level-0 tiles hold for entries ``start`` to ``stop - 1``
    (VerificationError if a tile is missing or short)."""
    if start >= stop:
        return []
    first, last = start // TILE_WIDTH, (stop - 1) // TILE_WIDTH
    tiles = storage.read_tiles([TileKey(0, t) for t in range(first, last + 1)])
    out: list[bytes] = []
    for tile in range(first, last + 1):
        key = TileKey(0, tile)
        data = tiles.get(key)
        lo = max(start - tile * TILE_WIDTH, 0)
        hi = min(stop - tile * TILE_WIDTH, TILE_WIDTH)
        if data is None or len(data) < hi * HASH_SIZE:
            held = "no tile" if data is None else f"{len(data) // HASH_SIZE} hashes"
            raise HistoryRewritten(
                tile * TILE_WIDTH + lo,
                f"tile {key.path()} holds {held}; entries up to {tile * TILE_WIDTH + hi - 1} "
                "need it: the tile was removed or cut",
            )
        out.extend(split_hashes(data[lo * HASH_SIZE : hi * HASH_SIZE]))
    return out


def _perfect_nodes(storage: LogStorage, size: int) -> list[tuple[int, bytes]]:
    """(width, hash) of the perfect subtrees the tree of ``size`` entries splits into, largest
    first, read from the stored tiles (a fresh cache: never what another check remembered)."""
    hashes = TileHashes(storage, size, TileCache(capacity=64))
    spans = []
    start = 0
    for bit in range(size.bit_length() - 1, -1, -1):
        if size & (1 << bit):
            spans.append((start, start + (1 << bit)))
            start += 1 << bit
    hashes.prefetch(spans)
    try:
        return [(hi - lo, hashes.range_hash(lo, hi)) for lo, hi in spans]
    except VerificationError as exc:
        raise HistoryRewritten(
            None, f"the tree the last checkpoint (size {size}) signed cannot be read: {exc}"
        ) from exc


def _tiles_root(storage: LogStorage, size: int) -> bytes:
    if size == 0:
        return EMPTY_ROOT
    return fold_right([h for _, h in _perfect_nodes(storage, size)])


def _entry_hashes(storage: LogStorage, start: int, stop: int) -> list[bytes]:
    """Leaf hashes of entries ``start`` to ``stop - 1`` from their stored bytes."""
    out: list[bytes] = []
    expected = start
    for batch in storage.read_entries(start, stop):
        for index, _ in batch:
            if index != expected:
                raise HistoryRewritten(
                    expected, f"entry {expected} is missing: the next stored entry is {index}"
                )
            expected += 1
        out.extend(leaf_hashes(data for _, data in batch))
    if expected != stop:
        raise HistoryRewritten(
            expected, f"entry {expected} is missing: the head says the log holds {stop} entries"
        )
    return out


def _compare_with_tiles(
    storage: LogStorage, start: int, computed: Sequence[bytes], anchor: Anchor | None
) -> None:
    stored = stored_leaf_hashes(storage, start, start + len(computed))
    for offset, (want, got) in enumerate(zip(computed, stored, strict=True)):
        if want != got:
            index = start + offset
            since = f"after the last checkpoint (size {anchor.size})" if anchor is not None else ""
            raise HistoryRewritten(
                index,
                f"entry {index} does not hash to the leaf hash tile "
                f"{TileKey(0, index // TILE_WIDTH).path()} holds for it: the entry or the tile "
                f"was altered {since}".rstrip(),
            )


def _root_of(hashes: Sequence[bytes]) -> bytes:
    nodes = []
    start = 0
    count = len(hashes)
    for bit in range(count.bit_length() - 1, -1, -1):
        width = 1 << bit
        if count & width:
            nodes.append(subtree_root(hashes[start : start + width]))
            start += width
    return fold_right(nodes)


def _locate(
    storage: LogStorage,
    anchor: Anchor,
    held: HeldHashes | None,
    signed: Callable[[], Sequence[Anchor]] | None,
) -> HistoryRewritten:
    """Why the stored tree is not the one ``anchor`` signed, naming the first bad entry.

    Only on failure: reads every entry before the anchor.
    """
    size = anchor.size
    entries = _entry_hashes_lenient(storage, size)
    kept = split_hashes(held.read_hashes(size)) if held is not None else []
    if len(kept) == size and _root_of(kept) == anchor.root:
        index = _first_difference(kept, entries)
        if index is not None:
            what = "is missing" if index >= len(entries) else "does not hash"
            return HistoryRewritten(
                index,
                f"entry {index} {what} to the tree the last checkpoint (size {size}) "
                "signed: it was changed after it was signed",
            )
        tiles = _stored_or_none(storage, size)
        index = _first_difference(kept, tiles)
        if index is not None:
            return HistoryRewritten(
                index,
                f"the leaf hash of entry {index} in tile "
                f"{TileKey(0, index // TILE_WIDTH).path()} is not the one the last checkpoint "
                f"(size {size}) signed: the tile was altered",
            )
        return HistoryRewritten(
            None,
            f"the stored tiles above the leaves do not give the root the last checkpoint "
            f"(size {size}) signed, though every entry does: a tile was altered",
        )
    tiles = _stored_or_none(storage, size)
    index = _first_difference(entries, tiles)
    if index is not None:
        return HistoryRewritten(
            index,
            f"entry {index} does not hash to the tree the last checkpoint (size {size}) "
            f"signed: it differs from the leaf hash tile "
            f"{TileKey(0, index // TILE_WIDTH).path()} holds",
        )
    if len(entries) < size:
        return HistoryRewritten(
            len(entries),
            f"entry {len(entries)} is missing from the tree the last checkpoint (size {size}) "
            "signed",
        )
    # Entries and tiles agree with each other but not with the signature: they were rebuilt
    # together. The signed checkpoints narrow down where: once one's root is wrong, every
    # later one's is too, so the first wrong one is found by bisection.
    others = signed() if signed is not None else []
    earlier = sorted({a.size: a for a in others if 0 < a.size < size}.values(), key=_size)
    low, high = 0, size
    lo, hi = 0, len(earlier)
    while lo < hi:
        mid = (lo + hi) // 2
        if _root_of(entries[: earlier[mid].size]) == earlier[mid].root:
            low = earlier[mid].size
            lo = mid + 1
        else:
            high = earlier[mid].size
            hi = mid
    return HistoryRewritten(
        None,
        f"an entry among {low}..{high - 1} does not hash to the tree the checkpoint at size "
        f"{high} signed, and entries, tiles and head were rebuilt to match; no leaf hashes "
        "kept from earlier checks name which: run 'triage ledger verify'",
    )


def _entry_hashes_lenient(storage: LogStorage, stop: int) -> list[bytes]:
    """Leaf hashes of entries 0.. up to the first missing one (or ``stop``)."""
    out: list[bytes] = []
    for batch in storage.read_entries(0, stop):
        for index, data in batch:
            if index != len(out):
                return out
            out.extend(leaf_hashes([data]))
    return out


def _first_difference(want: Sequence[bytes], have: Sequence[bytes]) -> int | None:
    """The first index at which ``have`` lacks or differs from ``want``; None if it has it all."""
    for index, hashed in enumerate(want):
        if index >= len(have) or have[index] != hashed:
            return index
    return None


def _stored_or_none(storage: LogStorage, stop: int) -> list[bytes]:
    """The stored leaf hashes of entries 0.. up to the first missing tile (or ``stop``)."""
    out: list[bytes] = []
    for tile in range(0, -(-stop // TILE_WIDTH)):
        data = storage.read_tiles([TileKey(0, tile)]).get(TileKey(0, tile), b"")
        want = min(TILE_WIDTH, stop - tile * TILE_WIDTH)
        got = split_hashes(data[: want * HASH_SIZE]) if len(data) % HASH_SIZE == 0 else []
        out.extend(got)
        if len(got) < want:
            break
    return out


def _size(anchor: Anchor) -> int:
    return anchor.size
