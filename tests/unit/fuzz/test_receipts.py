"""Hostile input to the parsers of receipts and ledger exports: whatever the text or bytes, each
parser either returns a valid value or raises its own documented error, never another exception;
and what a formatter writes, its parser reads back unchanged (strategies and keys:
``strategies.py``)."""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.unit.fuzz.strategies import (
    FACILITY_VERIFIER,
    FUZZ,
    LEDGER_EXPORT,
    RECEIPT,
    as_bytes,
    json_values,
    mutated,
    nasty_text,
)
from triage.ledger.errors import VerificationError
from triage.ledger.export import verify_export
from triage.ledger.receipt import verify_receipt

# -- receipts --------------------------------------------------------------------------------


@FUZZ
@given(st.one_of(nasty_text, st.binary(max_size=300), json_values.map(json.dumps)))
def test_any_receipt_is_verified_or_refused(data: str | bytes) -> None:
    with contextlib.suppress(VerificationError):
        verify_receipt(data, [FACILITY_VERIFIER])


@FUZZ
@given(mutated(RECEIPT))
def test_a_changed_receipt_is_refused_or_proves_the_same_entries(changed: str) -> None:
    try:
        verified = verify_receipt(changed, [FACILITY_VERIFIER])
    except VerificationError:
        return
    original = verify_receipt(RECEIPT, [FACILITY_VERIFIER])
    assert verified.entries == original.entries
    assert verified.checkpoint == original.checkpoint


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=300),
        nasty_text.map(as_bytes),
        mutated(LEDGER_EXPORT.decode()).map(as_bytes),
    )
)
def test_any_ledger_export_is_verified_or_refused_and_a_changed_one_holds_the_same_entries(
    data: bytes,
) -> None:
    try:
        verified = verify_export(io.BytesIO(data), [FACILITY_VERIFIER])
    except VerificationError:
        return
    # Whatever passes is the signed log itself: the same entries, byte for byte.
    assert data.split(b"\n")[1:] == LEDGER_EXPORT.split(b"\n")[1:]
    assert verified.checkpoint.size == 5


@st.composite
def receipts_with_one_part_replaced(draw: st.DrawFn) -> dict[str, Any]:
    obj = json.loads(RECEIPT)
    where = draw(st.sampled_from(["top", "subject", "entry"]))
    value = draw(json_values)
    if where == "top":
        obj[draw(st.sampled_from(sorted(obj)))] = value
    elif where == "subject":
        obj["subject"][draw(st.sampled_from(["kind", "id"]))] = value
    else:
        item = obj["entries"][draw(st.integers(0, len(obj["entries"]) - 1))]
        item[draw(st.sampled_from(["index", "entry", "proof"]))] = value
    return dict(obj)


@FUZZ
@given(receipts_with_one_part_replaced())
def test_a_receipt_with_any_part_replaced_is_refused_or_unchanged(obj: dict[str, Any]) -> None:
    try:
        verified = verify_receipt(json.dumps(obj), [FACILITY_VERIFIER])
    except VerificationError:
        return
    assert verified.entries == verify_receipt(RECEIPT, [FACILITY_VERIFIER]).entries
