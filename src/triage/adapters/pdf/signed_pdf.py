"""The PDF of a signed document (a dispatch note, a consignment outcome report, a batch
certificate of destruction): the document's facts beside a QR code of its digest, then its
body. Each is printed only from a document that verifies with the facility's verifier key; the
signed JSON stays the record, the PDF is its readable copy."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from triage.adapters.pdf.qr import QrCode
from triage.adapters.pdf.styles import BODY, CELL, HEAD, MARGIN, RULE, SHADE, WIDTH, style
from triage.adapters.pdf.text import printable_line

TITLE = style("signed-title", fontName="Helvetica-Bold", fontSize=15, leading=19)
QR_SIDE = 38 * mm


@dataclass(frozen=True)
class SignedPage:
    """What one signed document's PDF shows."""

    title: str  # the PDF's title (its metadata)
    heading: str  # the first line of the page
    facts: Sequence[tuple[str, object]]  # label, value: beside the QR code
    qr: str  # exactly what the QR code encodes
    body: Sequence[Flowable]
    author: str
    digest: str  # the signed document's SHA-256 (the PDF's subject)


def render(page: SignedPage) -> bytes:
    """The PDF, the same bytes for the same page (reportlab's invariant mode)."""
    buffer = io.BytesIO()
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=page.title,
        author=text(page.author),
        subject=page.digest,
        creator="device-triage",
        invariant=1,
    )
    head = Table(
        [
            [
                [
                    Paragraph(escape(text(page.heading)), TITLE),
                    Spacer(1, 4 * mm),
                    *(
                        Paragraph(f"<b>{escape(k)}</b>: {escape(text(v))}", BODY)
                        for k, v in page.facts
                    ),
                ],
                QrCode(page.qr, QR_SIDE),
            ]
        ],
        colWidths=[WIDTH - QR_SIDE, QR_SIDE],
        style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]),
    )
    pdf.build([head, Spacer(1, 6 * mm), *page.body])
    return buffer.getvalue()


def grid(header: Sequence[str], rows: Sequence[Sequence[object]], widths: Sequence[float]) -> Table:
    """A table of one row per item under a shaded header row (repeated on each page); an empty
    value prints as '-'. A row taller than a page (a long text in a narrow column) is split
    across pages rather than refused."""
    cells: list[list[Any]] = [[Paragraph(h, HEAD) for h in header]]
    cells += [[Paragraph(escape(text(v) or "-"), CELL) for v in row] for row in rows]
    return Table(
        cells,
        colWidths=list(widths),
        repeatRows=1,
        splitInRow=1,
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
            ]
        ),
    )


def text(value: object) -> str:
    """A value as one printable line ('' for None)."""
    return "" if value is None else printable_line(str(value))
