"""The dispatch note as a PDF: the devices, their seals and digests, the handover fields left
to fill in, and a QR code of the note's digest and the dispatch id. Built only from a note that
verifies against the facility's verifier key; the JSON note stays the signed record."""

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
from triage.domain.dispatch import NOTE_KIND
from triage.domain.signed_document import verify_document

TITLE = style("title", fontName="Helvetica-Bold", fontSize=15, leading=19)
_QR_SIDE = 38 * mm


def qr_payload(dispatch_id: str, note_digest: str) -> str:
    """Exactly what the note's QR code encodes."""
    return f"DTN1 {dispatch_id} sha256:{note_digest}"


def dispatch_note_filename(dispatch_id: str) -> str:
    return f"dispatch-note-{re.sub(r'[^A-Za-z0-9-]', '_', dispatch_id)[:40]}.pdf"


def render_dispatch_note(signed_note: bytes, verifier_key: str) -> bytes:
    """A PDF of a dispatch note; VerificationError when the note does not verify."""
    signed = verify_document(signed_note, [verifier_key], kind=NOTE_KIND)
    doc: dict[str, Any] = signed.document
    buffer = io.BytesIO()
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=f"Dispatch note {doc.get('dispatch_id')}",
        author=_text(doc.get("facility_name")),
        subject=signed.digest,
        creator="device-triage",
        invariant=1,
    )
    facts = [
        ("Dispatch", doc.get("dispatch_id")),
        ("Asset owner", doc.get("asset_owner")),
        ("Destination", str(doc.get("destination", "")).replace("_", " ")),
        ("RMA reference", doc.get("reference") or "-"),
        ("Closed", f"{doc.get('closed_at')} by {doc.get('closed_by')}"),
        ("Note digest (SHA-256)", signed.digest),
    ]
    head = Table(
        [
            [
                [
                    Paragraph(f"Dispatch note: {_text(doc.get('facility_name'))}", TITLE),
                    Spacer(1, 4 * mm),
                    *(Paragraph(f"<b>{escape(k)}</b>: {escape(_text(v))}", BODY) for k, v in facts),
                ],
                QrCode(qr_payload(str(doc.get("dispatch_id")), signed.digest), _QR_SIDE),
            ]
        ],
        colWidths=[WIDTH - _QR_SIDE, _QR_SIDE],
        style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]),
    )
    manifest = doc.get("manifest", {})
    rows: list[list[Any]] = [
        [Paragraph(h, HEAD) for h in ("Device", "Seal", "Receipt digest", "Certificate SHA-256")]
    ]
    for item in manifest.get("devices", []):
        rows.append(
            [
                Paragraph(escape(_text(item.get("device_id"))), CELL),
                Paragraph(escape(_text(item.get("seal_serial")) or "-"), CELL),
                Paragraph(escape(_text(item.get("receipt_digest"))), CELL),
                Paragraph(escape(_text(item.get("certificate_sha256")) or "-"), CELL),
            ]
        )
    devices = Table(
        rows,
        colWidths=[32 * mm, 22 * mm, WIDTH - 32 * mm - 22 * mm - 50 * mm, 50 * mm],
        repeatRows=1,
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
            ]
        ),
    )
    checkpoint = manifest.get("checkpoint", {})
    size, root = _text(checkpoint.get("size")), _text(checkpoint.get("root_hash"))
    story = [
        head,
        Spacer(1, 6 * mm),
        Paragraph(f"{len(rows) - 1} device(s), each seal viewed, verified, tugged, twisted", BODY),
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
    pdf.build(story)
    return buffer.getvalue()


def _text(value: object) -> str:
    return "" if value is None else printable_line(str(value))
