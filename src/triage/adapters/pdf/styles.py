"""The look of the A4 documents (the certificate and the assessment report): page geometry,
colours and paragraph styles."""

from __future__ import annotations

from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm

MARGIN = 16 * mm
FRAME_PADDING = 6  # points reportlab's frame keeps inside the page margins
WIDTH = A4[0] - 2 * MARGIN
INK = colors.HexColor("#1a1a1a")
MUTED = colors.HexColor("#5f6368")
RULE = colors.HexColor("#b8bcc2")
SHADE = colors.HexColor("#eef1f4")


def style(name: str, **kwargs: Any) -> ParagraphStyle:
    """A paragraph style: Helvetica 9 on 11.5 in ink, unless told otherwise."""
    base: dict[str, Any] = {"fontName": "Helvetica", "fontSize": 9, "leading": 11.5}
    base["textColor"] = INK
    base.update(kwargs)
    return ParagraphStyle(name, **base)


SMALL = style("small", fontSize=8, leading=10, textColor=MUTED)
LABEL = style("label", fontSize=8, leading=11.5, textColor=MUTED)
BODY = style("body")
CELL = style("cell", fontSize=7.5, leading=9.2)
HEAD = style("head", fontName="Helvetica-Bold", fontSize=7.5, leading=9.2)
