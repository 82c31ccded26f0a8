"""Checking full level-0 tiles from their entry bundles, in this process or in a small worker.

Nearly all of verifying a log is hashing its entries and the interior nodes of its full
level-0 tiles; this module does that part. ``check_bundles`` is the check itself, which
``triage.ledger.audit`` runs in its own process, and ``python -m triage.adapters.scan_worker``
(the driver's part, an adapter's) runs in a verification worker: it reads a job from standard
input (how to open the database and which chunks of tiles to check), opens the database
read-only with the driver alone, and writes one result a chunk to standard output, in order.

A worker imports only the standard library and this package's hashing (no SQLAlchemy, no
application): a forked copy of the verifying process would carry all of that process's imports
(about 70 MB) for work that needs a sixth of it, and verifying a large log with workers is
meant to fit in 100 MB all processes included.

The worker only ever answers for a chunk it found exactly as it should be; anything else (a
missing or malformed bundle, a leaf hash that differs from its tile, entries also stored as
rows) is answered with "not checked", and the verifying process scans that chunk itself, entry
by entry, to name the problem precisely. A worker that fails is treated the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from triage.ledger.bundle import bundle_leaf_hashes
from triage.ledger.hashing import TILE_WIDTH, subtree_root

TYPE_CHECKING = False  # as typing has it, without importing typing: a worker stays small
if TYPE_CHECKING:
    from typing import TypeAlias

    ChunkAnswer: TypeAlias = tuple[list[bytes], dict[int, list[bytes]]]
    """Roots of a chunk's tiles in order, and the perfect-subtree nodes of each checkpoint size
    that falls inside one of its tiles (what ``audit`` needs to check that checkpoint's root)."""


def check_bundles(
    bundles: Iterable[tuple[int, bytes]],
    stored_tiles: Mapping[int, bytes],
    first_tile: int,
    end_tile: int,
    cuts: Sequence[int],
) -> ChunkAnswer | None:
    """Check level-0 tiles [first_tile, end_tile) against the bundles of their entries.

    ``bundles`` are (tile index, stored bundle) in index order; ``stored_tiles`` the stored
    level-0 tiles by index; ``cuts`` the checkpoint sizes that end inside a tile. None as soon
    as anything is not exactly as it should be: the caller then scans the chunk entry by entry.
    """
    roots: list[bytes] = []
    prefixes: dict[int, list[bytes]] = {}
    expected = first_tile
    for tile, data in bundles:
        if tile != expected:
            return None
        leaves = bundle_leaf_hashes(data)
        if leaves is None or b"".join(leaves) != stored_tiles.get(tile):
            return None
        roots.append(subtree_root(leaves))
        for size in cuts:
            if size // TILE_WIDTH == tile:
                prefixes[size] = perfect_nodes(size % TILE_WIDTH, leaves)
        expected += 1
    if expected != end_tile:
        return None
    return roots, prefixes


def perfect_nodes(count: int, hashes: Sequence[bytes]) -> list[bytes]:
    """Roots of the perfect subtrees (largest first) that the first ``count`` hashes split into."""
    nodes: list[bytes] = []
    start = 0
    for bit in range(count.bit_length() - 1, -1, -1):
        width = 1 << bit
        if count & width:
            nodes.append(subtree_root(hashes[start : start + width]))
            start += width
    return nodes
