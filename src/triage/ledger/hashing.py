"""RFC 6962 hashing in bulk: leaf hashes of many entries and roots of perfect subtrees.

Appending and verifying hash every entry once (its leaf) and every interior node once: two
SHA-256 calls an entry. With OpenSSL 3 behind ``hashlib``, most of a call's cost on such short
inputs is the call itself (creating, copying and finalising a digest context), not the bytes;
starting each hash from a copy of a context that has already taken the one-byte prefix saves
the context set-up and the concatenation of the prefix, and a plain loop over local names keeps
the Python around each call to the minimum. These are the hot loops of ``triage ledger verify``
and of bulk appends; ``rfc6962`` and ``tiles`` build on them.

This module imports only the standard library's hashing: a verification worker process
(``triage.ledger.scan_worker``) uses it and stays small.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from hashlib import sha256

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
"""C2SP tlog-tiles: a tile holds up to 256 hashes, a perfect subtree of height 8."""

# Never updated after this: each hash starts from a copy (copying only reads the original).
_LEAF_START = sha256(b"\x00")  # RFC 6962: leaf hash = SHA-256(0x00 || entry)
_NODE_START = sha256(b"\x01")  # interior node = SHA-256(0x01 || left || right)


def leaf_hashes(entries: Iterable[bytes | memoryview]) -> list[bytes]:
    """SHA-256(0x00 || entry) of each entry, in order."""
    out: list[bytes] = []
    append = out.append
    start = _LEAF_START.copy
    for data in entries:
        h = start()
        h.update(data)
        append(h.digest())
    return out


def leaf_hashes_in(data: bytes | memoryview, bounds: Iterable[tuple[int, int]]) -> list[bytes]:
    """``leaf_hashes`` of the entries ``data[start:end]`` for each (start, end) of ``bounds``:
    entries lying back to back in one buffer (a bundle) are hashed where they lie."""
    view = memoryview(data)
    out: list[bytes] = []
    append = out.append
    start = _LEAF_START.copy
    for lo, hi in bounds:
        h = start()
        h.update(view[lo:hi])
        append(h.digest())
    return out


def parent_row(row: Sequence[bytes]) -> list[bytes]:
    """The row of parents of an even-length row of node hashes (pairs left to right)."""
    if len(row) % 2:
        raise ValueError(f"a row of {len(row)} hashes does not split into pairs")
    out: list[bytes] = []
    append = out.append
    start = _NODE_START.copy
    pairs = iter(row)
    for left, right in zip(pairs, pairs, strict=True):
        h = start()
        h.update(left + right)
        append(h.digest())
    return out


def subtree_root(hashes: Sequence[bytes]) -> bytes:
    """Root of a perfect subtree whose bottom row is ``hashes`` (a power-of-two count)."""
    count = len(hashes)
    if count == 0 or count & (count - 1):
        raise ValueError(f"{count} hashes are not the bottom row of a perfect subtree")
    row = hashes
    while len(row) > 1:
        row = parent_row(row)
    return row[0]
