"""The batch certificate of destruction as a PDF: built only from a signed document of its kind
that verifies with the facility's key, each device with its sec. 4.8 fields."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from triage.adapters.pdf.destruction_batch import qr_payload, render_destruction_batch
from triage.domain.signed_document import sign_document
from triage.ledger import note
from triage.ledger.errors import VerificationError

SIGNER, VERIFIER = note.generate_key("facility.example/batch")
DEVICE = {
    "device_id": "BC-33-AC-FF-FE-FA-55-3D",
    "manufacturer": "Acme Metering",
    "model": "E470",
    "media_type": "smart metering device, ESME",
    "media_source": "MAP-1",
    "confidentiality": "moderate",
    "sanitisation": {
        "description": "Shredded to 2 mm.",
        "method": "Shred",
        "category": "destroy",
        "tool": "industrial shredder",
        "verification": "visual inspection",
    },
    "destination": "WEEE recycling",
    "destroyed_by": "sup",
    "role": "supervisor",
    "destroyed_on": "2026-12-01",
    "site": "bay 2",
    "contact": None,
    "reference": "DC-1",
    "evidence": [{"sha256": "ab" * 32, "media_type": "image/jpeg", "size": 10}],
    "witness": "wit",
    "witnessed_at": "2026-12-01T10:00:00Z",
    "witness_statement": "seen",
}
DOCUMENT = {"facility": "Unit Facility", "devices": [DEVICE], "selection": {"since": "2026-12-01"}}


def test_each_device_is_printed_with_its_fields_and_the_digest() -> None:
    signed = sign_document("destruction-batch", DOCUMENT, SIGNER)

    pdf = render_destruction_batch(signed.to_json(), VERIFIER)

    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    for fact in (
        "Certificate of destruction (batch)",
        "Serial number BC-33-AC-FF-FE-FA-55-3D",
        "Manufacturer Acme Metering",
        "Method used Shred, NIST SP 800-88 category DESTROY",
        "Tool used industrial shredder",
        "Performed by sup (supervisor)",
        "Witness wit on 2026-12-01T10:00:00Z: seen",
        "Contact the facility",
        signed.digest,
    ):
        assert fact in text, fact
    assert qr_payload(signed.digest) == f"DTD1 destruction-batch sha256:{signed.digest}"


def test_only_a_batch_certificate_that_verifies_is_printed() -> None:
    other = sign_document("dispatch-note", DOCUMENT, SIGNER)
    with pytest.raises(VerificationError, match="not a destruction-batch"):
        render_destruction_batch(other.to_json(), VERIFIER)
    changed = sign_document("destruction-batch", DOCUMENT, SIGNER).to_json()
    with pytest.raises(VerificationError, match="changed after it was signed"):
        render_destruction_batch(changed.replace(b"Acme Metering", b"Acme Meterinh"), VERIFIER)
