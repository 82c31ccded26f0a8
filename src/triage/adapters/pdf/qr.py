"""QR codes drawn as vector squares: crisp at any printer resolution, and small."""

from __future__ import annotations

import segno
from reportlab.lib import colors
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable

QR_ERROR = "m"
QUIET_ZONE = 4  # modules of quiet zone, as the QR standard asks


def qr_rows(payload: str) -> list[bytes]:
    """The modules of a QR code of exactly ``payload``, row by row (bit 0 set: dark)."""
    return [bytes(row) for row in segno.make(payload, error=QR_ERROR, micro=False).matrix]


def draw_qr(canvas: Canvas, payload: str, x: float, y: float, side: float) -> None:
    """A QR code of exactly ``payload``, its quiet zone included in ``side``, with its bottom
    left corner at (x, y)."""
    rows = qr_rows(payload)
    unit = side / (len(rows) + 2 * QUIET_ZONE)
    canvas.saveState()
    canvas.setFillColor(colors.black)
    path = canvas.beginPath()
    for r, row in enumerate(rows):
        bottom = y + side - (r + QUIET_ZONE + 1) * unit
        c = 0
        while c < len(row):
            if not row[c] & 1:
                c += 1
                continue
            start = c
            while c < len(row) and row[c] & 1:
                c += 1
            path.rect(x + (start + QUIET_ZONE) * unit, bottom, (c - start) * unit, unit)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


class QrCode(Flowable):
    """A QR code as a flowable of ``side`` by ``side``, quiet zone included."""

    def __init__(self, payload: str, side: float) -> None:
        super().__init__()
        self._payload = payload
        self._side = side
        self.width = side
        self.height = side

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return self._side, self._side

    def draw(self) -> None:
        draw_qr(self.canv, self._payload, 0, 0, self._side)
