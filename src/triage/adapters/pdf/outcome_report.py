"""A consignment's outcome report as a PDF: the counts, each device with its outcome, seal and
receipt digest, and a QR code of the report's digest. Built only from a report that verifies
against the facility's verifier key; the signed JSON stays the record."""

from __future__ import annotations

import io
import re
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from triage.adapters.pdf.qr import QrCode
from triage.adapters.pdf.styles import BODY, CELL, HEAD, MARGIN, RULE, SHADE, SMALL, WIDTH, style
from triage.adapters.pdf.text import printable_line
from triage.domain.outcome_report import KIND
from triage.domain.signed_document import verify_document

TITLE = style("outcome-title", fontName="Helvetica-Bold", fontSize=15, leading=19)
_QR_SIDE = 38 * mm
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
    buffer = io.BytesIO()
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=f"Outcome of consignment {_text(consignment.get('reference'))}",
        author=_text(doc.get("facility")),
        subject=signed.digest,
        creator="device-triage",
        invariant=1,
    )
    counts = doc.get("counts", {})
    facts = [
        ("Consignment", consignment.get("reference")),
        ("Asset owner", consignment.get("asset_owner")),
        ("Status", consignment.get("status")),
        ("Generated", doc.get("generated_at")),
        *((label, counts.get(name, 0)) for name, label in _COUNTS),
        ("Report digest (SHA-256)", signed.digest),
    ]
    head = Table(
        [
            [
                [
                    Paragraph(f"Consignment outcome: {escape(_text(doc.get('facility')))}", TITLE),
                    Spacer(1, 4 * mm),
                    *(Paragraph(f"<b>{escape(k)}</b>: {escape(_text(v))}", BODY) for k, v in facts),
                ],
                QrCode(qr_payload(str(consignment.get("id")), signed.digest), _QR_SIDE),
            ]
        ],
        colWidths=[WIDTH - _QR_SIDE, _QR_SIDE],
        style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]),
    )
    rows: list[list[Any]] = [
        [Paragraph(h, HEAD) for h in ("Device", "Outcome", "Seal", "Receipt digest")]
    ]
    for item in doc.get("devices", []):
        rows.append(
            [
                Paragraph(escape(_text(item.get("device_id"))), CELL),
                Paragraph(escape(_text(item.get("outcome")).replace("_", " ")), CELL),
                Paragraph(escape(_text(item.get("seal_serial")) or "-"), CELL),
                Paragraph(escape(_text(item.get("receipt_digest")) or "-"), CELL),
            ]
        )
    devices = Table(
        rows,
        colWidths=[34 * mm, 26 * mm, 22 * mm, WIDTH - 82 * mm],
        repeatRows=1,
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
            ]
        ),
    )
    checkpoint = doc.get("checkpoint", {})
    story = [
        head,
        Spacer(1, 6 * mm),
        devices,
        Spacer(1, 5 * mm),
        Paragraph(
            "Every receipt digest is proven against the signed checkpoint of size "
            f"{escape(_text(checkpoint.get('size')))}, root "
            f"{escape(_text(checkpoint.get('root')))}.",
            SMALL,
        ),
        Paragraph(
            "The signed JSON report is the record: check it with the facility's verifier key "
            "(triage verify REPORT --key VKEY).",
            SMALL,
        ),
    ]
    pdf.build(story)
    return buffer.getvalue()


def _text(value: object) -> str:
    return "" if value is None else printable_line(str(value))
