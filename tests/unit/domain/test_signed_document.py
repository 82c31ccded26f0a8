"""Signed documents: what a party outside the facility checks with a verifier key alone."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage.domain.signed_document import (
    FORMAT,
    parse_document,
    sign_document,
    verify_document,
)
from triage.ledger import note
from triage.ledger.errors import VerificationError

SIGNER, VERIFIER = note.generate_key("facility.example")
OTHER_SIGNER, OTHER_VERIFIER = note.generate_key("facility.example")
DOC = {"dispatch": "D-1", "devices": [{"id": "00-11-22-33-44-55-66-77", "seal": "S-1"}]}


def test_a_signed_document_verifies_from_its_file_with_the_verifier_key() -> None:
    signed = sign_document("dispatch-note", DOC, SIGNER)
    found = verify_document(signed.to_json(), [VERIFIER], kind="dispatch-note")
    assert found.document == DOC
    assert json.loads(signed.to_json())["format"] == FORMAT


def test_a_changed_document_is_refused_naming_the_digest() -> None:
    body = json.loads(sign_document("dispatch-note", DOC, SIGNER).to_json())
    body["document"]["devices"][0]["seal"] = "S-2"
    with pytest.raises(VerificationError, match="changed after it was signed"):
        verify_document(json.dumps(body), [VERIFIER])


def test_another_key_or_kind_is_refused() -> None:
    signed = sign_document("dispatch-note", DOC, SIGNER)
    with pytest.raises(VerificationError, match="no signature by a known key"):
        verify_document(signed.to_json(), [OTHER_VERIFIER])
    with pytest.raises(VerificationError, match="not a acknowledgement"):
        verify_document(signed.to_json(), [VERIFIER], kind="acknowledgement")
    # The kind inside the file changed to another one: the note was signed for the first.
    body = json.loads(signed.to_json())
    body["kind"] = "outcome-report"
    with pytest.raises(VerificationError, match="signed for another kind"):
        verify_document(json.dumps(body), [VERIFIER])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff", "not JSON"),
        (b"[]", "format"),
        (json.dumps({"format": FORMAT, "kind": "x", "document": [], "note": ""}), "JSON object"),
        (json.dumps({"format": FORMAT, "kind": "X!", "document": {}, "note": ""}), "kind"),
    ],
)
def test_what_is_not_a_signed_document_is_refused_clearly(data: bytes | str, message: str) -> None:
    with pytest.raises(VerificationError, match=message):
        parse_document(data)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_verify_and_raise_only_verification_errors(data: bytes) -> None:
    with pytest.raises(VerificationError):
        verify_document(data, [VERIFIER])
