"""Entry bundles: 256 entries in one stored value, read back exactly or refused as malformed."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.ledger.bundle import BUNDLE_SIZE, pack_bundle, unpack_bundle
from triage.ledger.errors import VerificationError

FULL = [f"entry {n}".encode() * (n % 5) for n in range(BUNDLE_SIZE)]  # some are empty


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(max_size=40), min_size=BUNDLE_SIZE, max_size=BUNDLE_SIZE))
def test_a_bundle_reads_back_as_the_entries_packed(entries: list[bytes]) -> None:
    assert unpack_bundle(pack_bundle(entries)) == entries


def test_an_entry_larger_than_64_kib_fits() -> None:
    big = [b"x" * 100_000, *FULL[1:]]
    assert unpack_bundle(pack_bundle(big))[0] == big[0]


def test_only_a_full_tile_of_entries_is_a_bundle() -> None:
    with pytest.raises(ValueError, match="holds 256 entries, not 255"):
        pack_bundle(FULL[:-1])


def test_a_malformed_bundle_is_refused_never_misread() -> None:
    packed = pack_bundle(FULL)
    with pytest.raises(VerificationError, match="offsets end at"):
        unpack_bundle(packed[:-1])  # one byte short
    with pytest.raises(VerificationError, match="offsets end at"):
        unpack_bundle(packed + b"x")  # one byte more
    with pytest.raises(VerificationError, match="no offset table"):
        unpack_bundle(packed[:100])
    ends = list(struct.unpack_from(f">{BUNDLE_SIZE}I", packed))
    assert ends[10] < ends[11]  # entry 11 is not empty
    ends[10], ends[11] = ends[11], ends[10]
    swapped = struct.pack(f">{BUNDLE_SIZE}I", *ends) + packed[4 * BUNDLE_SIZE :]
    with pytest.raises(VerificationError, match="go backwards"):
        unpack_bundle(swapped)
