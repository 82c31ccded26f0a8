"""The bulk hashing that appends and verification use gives exactly the RFC 6962 hashes, and the
check of full tiles from their bundles vouches only for tiles that are exactly as they should be."""

from __future__ import annotations

import struct
import subprocess
import sys

import pytest

from triage.ledger import hashing, rfc6962
from triage.ledger.bundle import BUNDLE_SIZE, bundle_leaf_hashes, pack_bundle, unpack_bundle
from triage.ledger.scan_worker import check_bundles, perfect_nodes
from triage.ledger.tiles import perfect_nodes as tiles_perfect_nodes

ENTRIES = [f"entry {n}".encode() * (n % 7) for n in range(3 * BUNDLE_SIZE)]  # some are empty


def _bundle(tile: int) -> bytes:
    return pack_bundle(ENTRIES[tile * BUNDLE_SIZE : (tile + 1) * BUNDLE_SIZE])


def _tile(tile: int) -> bytes:
    return b"".join(rfc6962.leaf_hashes(ENTRIES[tile * BUNDLE_SIZE : (tile + 1) * BUNDLE_SIZE]))


def test_leaf_hashes_are_rfc6962_leaf_hashes() -> None:
    assert hashing.leaf_hashes(ENTRIES[:50]) == [rfc6962.leaf_hash(e) for e in ENTRIES[:50]]
    assert hashing.leaf_hashes([memoryview(b"abc")]) == [rfc6962.leaf_hash(b"abc")]


@pytest.mark.parametrize("count", [1, 2, 4, 64, 256])
def test_subtree_root_is_the_rfc6962_root(count: int) -> None:
    leaves = rfc6962.leaf_hashes(ENTRIES[:count])
    assert hashing.subtree_root(leaves) == rfc6962.root_hash(leaves)


@pytest.mark.parametrize("count", [0, 3, 255])
def test_subtree_root_refuses_a_row_that_is_no_perfect_subtree(count: int) -> None:
    with pytest.raises(ValueError, match="perfect subtree"):
        hashing.subtree_root(rfc6962.leaf_hashes(ENTRIES[:count]))


def test_a_bundle_hashes_as_its_entries() -> None:
    data = _bundle(1)
    assert bundle_leaf_hashes(data) == rfc6962.leaf_hashes(unpack_bundle(data))


def test_a_malformed_bundle_gives_no_hashes() -> None:
    data = _bundle(0)
    assert bundle_leaf_hashes(data[:-1]) is None  # offsets end beyond the bytes
    assert bundle_leaf_hashes(data + b"x") is None  # bytes beyond the offsets
    assert bundle_leaf_hashes(data[:100]) is None  # no offset table
    ends = list(struct.unpack_from(f">{BUNDLE_SIZE}I", data))
    ends[10], ends[11] = ends[11], ends[10] - 1  # one offset goes backwards
    backwards = struct.pack(f">{BUNDLE_SIZE}I", *ends) + data[4 * BUNDLE_SIZE :]
    assert ends[11] < ends[10]
    assert bundle_leaf_hashes(backwards) is None


def test_sound_tiles_are_vouched_for_with_their_roots() -> None:
    bundles = [(t, _bundle(t)) for t in range(3)]
    stored = {t: _tile(t) for t in range(3)}
    cut = BUNDLE_SIZE + 100  # a checkpoint size inside tile 1
    answer = check_bundles(bundles, stored, 0, 3, [cut])
    assert answer is not None
    roots, prefixes = answer
    assert roots == [
        hashing.subtree_root(rfc6962.leaf_hashes(unpack_bundle(b))) for _, b in bundles
    ]
    leaves = rfc6962.leaf_hashes(unpack_bundle(bundles[1][1]))
    assert prefixes == {cut: tiles_perfect_nodes(100, leaves)}
    assert perfect_nodes(100, leaves) == tiles_perfect_nodes(100, leaves)


def test_anything_amiss_is_left_to_the_entry_by_entry_scan() -> None:
    bundles = [(t, _bundle(t)) for t in range(3)]
    stored = {t: _tile(t) for t in range(3)}
    assert check_bundles(bundles[:2], stored, 0, 3, []) is None  # the last bundle is missing
    assert check_bundles([bundles[0], bundles[2]], stored, 0, 3, []) is None  # a gap
    assert check_bundles(bundles, {0: stored[0], 2: stored[2]}, 0, 3, []) is None  # no tile
    altered = {**stored, 1: stored[1][:-1] + b"\x00"}
    assert check_bundles(bundles, altered, 0, 3, []) is None  # a leaf hash differs
    short = {**stored, 1: stored[1][:-32]}
    assert check_bundles(bundles, short, 0, 3, []) is None  # a tile holds too few hashes
    broken = [bundles[0], (1, bundles[1][1][:-1]), bundles[2]]
    assert check_bundles(broken, stored, 0, 3, []) is None  # a malformed bundle


def test_a_verification_worker_loads_no_database_toolkit_or_application() -> None:
    # A worker is meant to be small: the driver and the hashing, not SQLAlchemy or the app.
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, triage.adapters.scan_worker; print(' '.join(sorted(sys.modules)))",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert "triage.adapters.scan_worker" in loaded
    assert not [name for name in loaded if name.startswith(("sqlalchemy", "triage.services"))]
    assert [name for name in loaded if name.startswith("triage.adapters.")] == [
        "triage.adapters.scan_worker"
    ]


def test_one_entry_is_read_from_a_bundle_as_unpacking_it_would() -> None:
    from triage.ledger.bundle import bundle_entry, pack_bundle, unpack_bundle
    from triage.ledger.errors import VerificationError

    entries = [f"entry {i}".encode() * (i % 3) for i in range(256)]
    packed = pack_bundle(entries)
    assert [bundle_entry(packed, i) for i in range(256)] == unpack_bundle(packed) == entries
    for broken in (packed[:-1], packed[:100], packed[:4] + b"\xff" * 4 + packed[8:]):
        with pytest.raises(VerificationError):
            bundle_entry(broken, 5)
    with pytest.raises(IndexError):
        bundle_entry(packed, 256)
