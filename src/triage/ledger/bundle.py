"""Entry bundles: the entries of one full level-0 tile (256 of them) stored together.

Bundle N holds entries 256N to 256N+255, the leaves of tile 0/N, as in C2SP tlog-tiles' entry
bundles; ours start with the 256 end offsets of the entries as big-endian uint32 (C2SP's
uint16 length prefixes would cap an entry at 64 KiB), then the entries' bytes back to back.
Storing a full tile's entries as one value is what lets a bulk append write a few large values
instead of a row per entry, and lets verification read them back the same way.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from itertools import accumulate
from operator import le

from triage.ledger import hashing
from triage.ledger.errors import VerificationError
from triage.ledger.hashing import TILE_WIDTH

BUNDLE_SIZE = TILE_WIDTH
_OFFSETS = struct.Struct(f">{BUNDLE_SIZE}I")
_HEADER = _OFFSETS.size
MAX_BUNDLE_BYTES = 2**32 - 1


def pack_bundle(entries: Sequence[bytes]) -> bytes:
    """The stored form of exactly ``BUNDLE_SIZE`` entries."""
    if len(entries) != BUNDLE_SIZE:
        raise ValueError(f"a bundle holds {BUNDLE_SIZE} entries, not {len(entries)}")
    ends = list(accumulate(map(len, entries)))
    if ends[-1] > MAX_BUNDLE_BYTES:
        raise ValueError(f"a bundle holds at most {MAX_BUNDLE_BYTES} bytes of entries")
    return _OFFSETS.pack(*ends) + b"".join(entries)


def unpack_bundle(data: bytes) -> list[bytes]:
    """The entries of a stored bundle; VerificationError if it is not a well-formed bundle."""
    if len(data) < _HEADER:
        raise VerificationError(f"an entry bundle of {len(data)} bytes has no offset table")
    ends = _OFFSETS.unpack_from(data)
    payload = memoryview(data)[_HEADER:]
    if ends[-1] != len(payload):
        raise VerificationError(
            f"an entry bundle's offsets end at {ends[-1]} but it holds {len(payload)} bytes"
        )
    entries = []
    start = 0
    for end in ends:
        if end < start:
            raise VerificationError("an entry bundle's offsets go backwards")
        entries.append(bytes(payload[start:end]))
        start = end
    return entries


def bundle_entry(data: bytes, position: int) -> bytes:
    """The entry at ``position`` (0 to 255) of a stored bundle, without copying the others
    out; VerificationError if the bundle is not well-formed, as ``unpack_bundle`` says."""
    if not 0 <= position < BUNDLE_SIZE:
        raise IndexError(f"a bundle has no entry {position}")
    if len(data) < _HEADER:
        raise VerificationError(f"an entry bundle of {len(data)} bytes has no offset table")
    ends = _OFFSETS.unpack_from(data)
    if ends[-1] != len(data) - _HEADER:
        raise VerificationError(
            f"an entry bundle's offsets end at {ends[-1]} but it holds {len(data) - _HEADER} bytes"
        )
    if not all(map(le, ends, ends[1:])):
        raise VerificationError("an entry bundle's offsets go backwards")
    start = ends[position - 1] if position else 0
    return data[_HEADER + start : _HEADER + ends[position]]


def bundle_leaf_hashes(data: bytes) -> list[bytes] | None:
    """The leaf hashes of a stored bundle's entries, or None if it is not a well-formed bundle.

    What ``leaf_hashes(unpack_bundle(data))`` gives, for verification's hot loop: each entry is
    hashed where it lies in the bundle (a view, not a copy) and no list of entries is built.
    """
    if len(data) < _HEADER:
        return None
    ends = _OFFSETS.unpack_from(data)
    if ends[-1] != len(data) - _HEADER:
        return None
    starts = (0, *ends[:-1])
    if not all(map(le, starts, ends)):  # offsets going backwards
        return None
    return hashing.leaf_hashes_in(memoryview(data)[_HEADER:], zip(starts, ends, strict=True))


# -- C2SP tlog-tiles entry bundles, as served by the read API

MAX_SPEC_ENTRY_BYTES = 0xFFFF
"""The largest entry a C2SP entry bundle can carry (a big-endian uint16 length prefix)."""

SPEC_LENGTH_BYTES = 2
WIDE_LENGTH_BYTES = 4
"""The wide form (``tile/entries-u32/``): the same bundle with uint32 lengths, for a bundle
holding an entry over 64 KiB, which the C2SP form cannot carry (a signed dispatch document of a
few hundred devices, a long security log)."""


def format_entry_bundle(entries: Sequence[bytes], length_bytes: int = SPEC_LENGTH_BYTES) -> bytes:
    """A (full or partial) bundle: each entry behind its big-endian length, of ``length_bytes``
    bytes (2: the C2SP form; 4: the wide form).

    ValueError for an empty bundle, more than ``BUNDLE_SIZE`` entries, or an entry too long for
    the length prefix.
    """
    if not 1 <= len(entries) <= BUNDLE_SIZE:
        raise ValueError(f"an entry bundle holds 1 to {BUNDLE_SIZE} entries, not {len(entries)}")
    largest = (1 << (8 * length_bytes)) - 1
    parts = []
    for data in entries:
        if len(data) > largest:
            raise ValueError(
                f"an entry of {len(data)} bytes does not fit an entry bundle with "
                f"{length_bytes}-byte lengths (at most {largest})"
            )
        parts.append(len(data).to_bytes(length_bytes, "big"))
        parts.append(data)
    return b"".join(parts)


def parse_entry_bundle(
    data: bytes, width: int | None = None, length_bytes: int = SPEC_LENGTH_BYTES
) -> list[bytes]:
    """The entries of an entry bundle (``length_bytes`` as in ``format_entry_bundle``);
    VerificationError if it is malformed or (with ``width``) does not hold exactly ``width``
    entries."""
    entries: list[bytes] = []
    view = memoryview(data)
    at = 0
    while at < len(view):
        if at + length_bytes > len(view):
            raise VerificationError(f"entry bundle: a length prefix is cut off at byte {at}")
        length = int.from_bytes(view[at : at + length_bytes], "big")
        at += length_bytes
        if at + length > len(view):
            raise VerificationError(
                f"entry bundle: entry {len(entries)} says {length} bytes, {len(view) - at} remain"
            )
        entries.append(bytes(view[at : at + length]))
        at += length
        if len(entries) > BUNDLE_SIZE:
            raise VerificationError(f"entry bundle: more than {BUNDLE_SIZE} entries")
    if width is not None and len(entries) != width:
        raise VerificationError(f"entry bundle holds {len(entries)} entries, not {width}")
    return entries
