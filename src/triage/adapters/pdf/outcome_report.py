"""A consignment's outcome report as a PDF: the counts, each device with its outcome, seal and
receipt digest, and a QR code of the report's digest. Built only from a report that verifies
against the facility's verifier key; the signed JSON stays the record."""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from triage.adapters.pdf.signed_pdf import SignedPage, grid, render, text
from triage.adapters.pdf.styles import SMALL, WIDTH
from triage.domain.outcome_report import KIND
from triage.domain.signed_document import verify_document

_COUNTS = (
    ("expected", "Expected"),
    ("arrived", "Arrived"),
    ("released", "Released"),
    ("quarantined", "Quarantined (still)"),
    ("destroyed", "Destroyed"),
    ("returned", "Returned to the manufacturer"),
    ("unfinished", "Not yet finished"),
    ("not_arrived", "Never arrived"),
)


def qr_payload(consignment_id: str, digest: str) -> str:
    """Exactly what the report's QR code encodes."""
    return f"DTO1 {consignment_id} sha256:{digest}"


def outcome_report_filename(reference: str) -> str:
    return f"outcome-{re.sub(r'[^A-Za-z0-9-]', '_', reference)[:60]}.pdf"


def render_outcome_report(signed_report: bytes, verifier_key: str) -> bytes:
    """A PDF of an outcome report; VerificationError when the report does not verify."""
    signed = verify_document(signed_report, [verifier_key], kind=KIND)
    doc: dict[str, Any] = signed.document
    consignment = doc.get("consignment", {})
    counts = doc.get("counts", {})
    facts = [
        ("Consignment", consignment.get("reference")),
        ("Asset owner", consignment.get("asset_owner")),
        ("Status", consignment.get("status")),
        ("Generated", doc.get("generated_at")),
        *((label, counts.get(name, 0)) for name, label in _COUNTS),
        ("Report digest (SHA-256)", signed.digest),
    ]
    devices = grid(
        ("Device", "Outcome", "Seal", "Receipt digest"),
        [
            (
                i.get("device_id"),
                text(i.get("outcome")).replace("_", " "),
                i.get("seal_serial"),
                i.get("receipt_digest"),
            )
            for i in doc.get("devices", [])
        ],
        [34 * mm, 26 * mm, 22 * mm, WIDTH - 82 * mm],
    )
    checkpoint = doc.get("checkpoint", {})
    body = [
        devices,
        Spacer(1, 5 * mm),
        Paragraph(
            "Every receipt digest is proven against the signed checkpoint of size "
            f"{escape(text(checkpoint.get('size')))}, root "
            f"{escape(text(checkpoint.get('root')))}.",
            SMALL,
        ),
        Paragraph(
            "The signed JSON report is the record: check it with the facility's verifier key "
            "(triage verify REPORT --key VKEY).",
            SMALL,
        ),
    ]
    return render(
        SignedPage(
            title=f"Outcome of consignment {text(consignment.get('reference'))}",
            heading=f"Consignment outcome: {text(doc.get('facility'))}",
            facts=facts,
            qr=qr_payload(str(consignment.get("id")), signed.digest),
            body=body,
            author=text(doc.get("facility")),
            digest=signed.digest,
        )
    )
