"""The dispatch note as a PDF: the devices, their seals and digests, the handover fields left
to fill in, and a QR code of the note's digest and the dispatch id. Built only from a note that
verifies against the facility's verifier key; the JSON note stays the signed record."""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from triage.adapters.pdf.signed_pdf import SignedPage, grid, render, text
from triage.adapters.pdf.styles import BODY, SMALL, WIDTH
from triage.domain.dispatch import NOTE_KIND
from triage.domain.signed_document import verify_document


def qr_payload(dispatch_id: str, note_digest: str) -> str:
    """Exactly what the note's QR code encodes."""
    return f"DTN1 {dispatch_id} sha256:{note_digest}"


def dispatch_note_filename(dispatch_id: str) -> str:
    return f"dispatch-note-{re.sub(r'[^A-Za-z0-9-]', '_', dispatch_id)[:40]}.pdf"


def render_dispatch_note(signed_note: bytes, verifier_key: str) -> bytes:
    """A PDF of a dispatch note; VerificationError when the note does not verify."""
    signed = verify_document(signed_note, [verifier_key], kind=NOTE_KIND)
    doc: dict[str, Any] = signed.document
    facts = [
        ("Dispatch", doc.get("dispatch_id")),
        ("Asset owner", doc.get("asset_owner")),
        ("Destination", str(doc.get("destination", "")).replace("_", " ")),
        ("RMA reference", doc.get("reference") or "-"),
        ("Closed", f"{doc.get('closed_at')} by {doc.get('closed_by')}"),
        ("Note digest (SHA-256)", signed.digest),
    ]
    manifest = doc.get("manifest", {})
    items = manifest.get("devices", [])
    devices = grid(
        ("Device", "Seal", "Receipt digest", "Certificate SHA-256"),
        [
            (
                i.get("device_id"),
                i.get("seal_serial"),
                i.get("receipt_digest"),
                i.get("certificate_sha256"),
            )
            for i in items
        ],
        [32 * mm, 22 * mm, WIDTH - 32 * mm - 22 * mm - 50 * mm, 50 * mm],
    )
    checkpoint = manifest.get("checkpoint", {})
    size, root = text(checkpoint.get("size")), text(checkpoint.get("root_hash"))
    body = [
        Paragraph(f"{len(items)} device(s), each seal viewed, verified, tugged, twisted", BODY),
        Spacer(1, 2 * mm),
        devices,
        Spacer(1, 5 * mm),
        Paragraph(
            "Receipts are proven against the signed checkpoint of size "
            f"{escape(size)}, root {escape(root)}.",
            SMALL,
        ),
        Paragraph(
            "The signed JSON note is the record: check it with the facility's verifier key "
            "(triage dispatch verify-note NOTE --key VKEY).",
            SMALL,
        ),
    ]
    return render(
        SignedPage(
            title=f"Dispatch note {doc.get('dispatch_id')}",
            heading=f"Dispatch note: {text(doc.get('facility_name'))}",
            facts=facts,
            qr=qr_payload(str(doc.get("dispatch_id")), signed.digest),
            body=body,
            author=text(doc.get("facility_name")),
            digest=signed.digest,
        )
    )
