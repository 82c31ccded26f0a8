"""A batch certificate of destruction as a PDF: each device destroyed with the NIST SP 800-88
Rev.1 sec. 4.8 fields, and a QR code of the signed document's digest. Built only from a signed
document that verifies against the facility's verifier key; the signed JSON stays the record."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, Paragraph, Spacer, Table, TableStyle

from triage.adapters.pdf.signed_pdf import SignedPage, render, text
from triage.adapters.pdf.styles import CELL, LABEL, RULE, SHADE, SMALL, WIDTH, style
from triage.domain.signed_document import verify_document

KIND = "destruction-batch"
DEVICE = style("batch-device", fontName="Courier-Bold", fontSize=10, leading=12)


def qr_payload(digest: str) -> str:
    """Exactly what the certificate's QR code encodes: the signed document's digest."""
    return f"DTD1 {KIND} sha256:{digest}"


def destruction_batch_filename(digest: str) -> str:
    """The file name a batch certificate is saved under (its digest names it)."""
    return f"certificate-of-destruction-batch-{re.sub(r'[^0-9a-f]', '', digest)[:16]}.pdf"


def render_destruction_batch(signed_batch: bytes, verifier_key: str) -> bytes:
    """A PDF of a batch certificate of destruction; VerificationError when the signed document
    does not verify with ``verifier_key`` or is not a batch certificate."""
    signed = verify_document(signed_batch, [verifier_key], kind=KIND)
    doc: dict[str, Any] = signed.document
    devices = [d for d in doc.get("devices", []) if isinstance(d, Mapping)]
    selection = doc.get("selection", {})
    facts = [
        ("Facility", doc.get("facility")),
        ("Log origin", doc.get("log_origin")),
        ("Standard", doc.get("standard")),
        ("Devices", len(devices)),
        ("Selection", _selection(selection if isinstance(selection, Mapping) else {})),
        ("Signed document digest (SHA-256)", signed.digest),
    ]
    story: list[Flowable] = []
    for device in devices:
        story += [CondPageBreak(60 * mm), _device(device), Spacer(1, 4 * mm)]
    story.append(
        Paragraph(
            "The signed JSON document is the record: it verifies with the facility's verifier "
            f"key ({escape(text(verifier_key))}) as a signed document of kind {KIND}; the QR "
            "code encodes its digest. Each device's own certificate of destruction is proven "
            "by its receipt against the facility's ledger.",
            SMALL,
        )
    )
    return render(
        SignedPage(
            title="Certificate of destruction (batch)",
            heading="Certificate of destruction (batch)",
            facts=facts,
            qr=qr_payload(signed.digest),
            body=story,
            author=text(doc.get("facility")),
            digest=signed.digest,
        )
    )


def _device(device: Mapping[str, Any]) -> Table:
    """One device's sec. 4.8 fields."""
    sanitisation = device.get("sanitisation")
    how: Mapping[str, Any] = sanitisation if isinstance(sanitisation, Mapping) else {}
    evidence = device.get("evidence") or []
    files = "; ".join(
        f"sha256 {text(f.get('sha256'))} ({text(f.get('media_type'))})"
        for f in evidence
        if isinstance(f, Mapping)
    )
    role = device.get("role")
    witnessed = f"{text(device.get('witness'))} on {text(device.get('witnessed_at'))}"
    rows = [
        ("Manufacturer", device.get("manufacturer")),
        ("Model", device.get("model")),
        ("Media type", device.get("media_type")),
        ("Media source", device.get("media_source")),
        ("Confidentiality", f"{text(device.get('confidentiality'))} (before sanitisation)"),
        ("Sanitisation", how.get("description")),
        (
            "Method used",
            f"{text(how.get('method'))}, NIST SP 800-88 category "
            f"{text(how.get('category')).upper()}",
        ),
        ("Tool used", how.get("tool")),
        ("Verification", how.get("verification")),
        ("Destination", device.get("destination")),
        (
            "Performed by",
            f"{text(device.get('destroyed_by'))} ({text(role)})"
            if role
            else device.get("destroyed_by"),
        ),
        ("Date", device.get("destroyed_on")),
        ("Location", device.get("site")),
        ("Contact", device.get("contact") or "the facility"),
        ("Witness", f"{witnessed}: {text(device.get('witness_statement'))}"),
        ("Reference", device.get("reference")),
        ("Evidence", files or "none recorded"),
    ]
    body = [
        [
            Paragraph("Serial number", LABEL),
            Paragraph(escape(text(device.get("device_id"))), DEVICE),
        ],
        *([Paragraph(escape(k), LABEL), Paragraph(escape(text(v)), CELL)] for k, v in rows),
    ]
    return Table(
        body,
        colWidths=[32 * mm, WIDTH - 32 * mm],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (0, -1), SHADE),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
                ("LINEABOVE", (0, 0), (-1, 0), 0.8, RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        ),
    )


def _selection(selection: Mapping[str, Any]) -> str:
    parts = []
    if selection.get("devices"):
        parts.append(f"{len(selection['devices'])} devices named")
    if selection.get("since"):
        parts.append(f"destroyed from {selection['since']}")
    if selection.get("until"):
        parts.append(f"destroyed until {selection['until']}")
    return ", ".join(parts) or "-"
