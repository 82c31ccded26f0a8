"""Printable labels for seal bags and device bags: one label per page of 100 mm x 50 mm, the
size thermal label printers take.

A seal label carries a QR code of exactly the seal's serial, so that a scanner reading the bag
types the serial; a device label carries a QR code of exactly the Device ID (and, when a seal
is fitted, a smaller one of exactly its serial), so that a scanner at the bench types the
Device ID. The codes are drawn as vector squares (crisp at any printer resolution, and small);
the text beside them is shrunk, then cut short, to fit the label.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from triage.adapters.pdf.qr import draw_qr
from triage.adapters.pdf.text import printable_line
from triage.errors import InvalidInput
from triage.services.ports import DeviceLabel, SealLabel

__all__ = [
    "MAX_LABELS",
    "MAX_PAYLOAD",
    "PAGE_SIZE",
    "DeviceLabel",
    "SealLabel",
    "device_label_filename",
    "render_device_labels",
    "render_seal_labels",
    "seal_labels_filename",
]

MAX_LABELS = 1000
PAGE_SIZE = (100 * mm, 50 * mm)
MAX_PAYLOAD = 64  # characters a QR code carries; longer would print too dense to scan

_WIDTH, _HEIGHT = PAGE_SIZE
_MARGIN = 2 * mm
_QR_SIDE = _HEIGHT - 2 * _MARGIN  # the main code, quiet zone included, fills the label height
_SEAL_QR_SIDE = 21 * mm
_TEXT_LEFT = _MARGIN + _QR_SIDE + 1 * mm  # the code's quiet zone already sets it apart
_TEXT_WIDTH = _WIDTH - _MARGIN - _TEXT_LEFT
_ELLIPSIS = "..."
_MAX_TEXT = 300  # characters of free text considered before fitting; the rest cannot fit
_INK = colors.HexColor("#000000")
_MUTED = colors.HexColor("#333333")
_PRINTABLE_ASCII = re.compile(r"^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$")


def render_seal_labels(labels: Sequence[SealLabel], facility_name: str) -> bytes:
    """A PDF of seal-bag labels, one 100 x 50 mm page per label, in the order given.

    Raises InvalidInput for no labels, more than ``MAX_LABELS``, or a serial a QR code cannot
    carry so that a scanner types it back unchanged.
    """
    _check_count(labels, "seal")
    for number, label in enumerate(labels, start=1):
        _check_payload(label.serial, f"seal label {number}: serial")
    first = labels[0].serial
    title = f"Seal labels {first}" + (f" (x{len(labels)})" if len(labels) > 1 else "")
    canvas, buffer = _canvas(title, facility_name)
    for label in labels:
        _seal_page(canvas, label, facility_name)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_device_labels(labels: Sequence[DeviceLabel]) -> bytes:
    """A PDF of device-bag labels, one 100 x 50 mm page per label, in the order given.

    Raises InvalidInput for no labels, more than ``MAX_LABELS``, or a Device ID or seal serial
    a QR code cannot carry so that a scanner types it back unchanged.
    """
    _check_count(labels, "device")
    for number, label in enumerate(labels, start=1):
        _check_payload(label.device_id, f"device label {number}: device_id")
        if label.seal_serial is not None:
            _check_payload(
                label.seal_serial,
                f"device label {number}: seal_serial (None when no seal is fitted)",
            )
    first = labels[0]
    title = f"Device label {first.device_id}" if len(labels) == 1 else "Device labels"
    canvas, buffer = _canvas(title, first.facility_name)
    for label in labels:
        _device_page(canvas, label)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def seal_labels_filename(first_serial: str, count: int) -> str:
    """The file name seal labels are saved under, e.g. seal-labels-SL-000123-x50.pdf."""
    return f"seal-labels-{_safe(first_serial, 'seal')}-x{max(count, 0)}.pdf"


def device_label_filename(device_id: str) -> str:
    """The file name a device label is saved under, e.g. device-label-00-11-...-77.pdf."""
    return f"device-label-{_safe(device_id, 'device')}.pdf"


# -- checks ------------------------------------------------------------------------------------


def _check_count(labels: Sequence[object], kind: str) -> None:
    if not labels:
        raise InvalidInput(f"labels: no {kind} labels to print; give at least one")
    if len(labels) > MAX_LABELS:
        raise InvalidInput(
            f"labels: {len(labels)} {kind} labels given; at most {MAX_LABELS} in one print run, "
            "so split them into several"
        )


def _check_payload(value: str, field: str) -> None:
    """A QR payload must be printable ASCII with no space at either end, so that a scanner
    acting as a keyboard types back exactly what the label shows."""
    if not value or not value.strip():
        raise InvalidInput(f"{field}: empty; there is nothing to put in the QR code")
    if not _PRINTABLE_ASCII.match(value):
        raise InvalidInput(
            f"{field}: {value[:40]!r} cannot go in a QR code as it is: use printable ASCII "
            "characters only, with no space at either end"
        )
    if len(value) > MAX_PAYLOAD:
        raise InvalidInput(
            f"{field}: {len(value)} characters; a label's QR code takes at most {MAX_PAYLOAD}"
        )


def _safe(text: str, fallback: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]", "_", text.strip())[:64] or fallback


# -- the pages ---------------------------------------------------------------------------------


def _canvas(title: str, author: str) -> tuple[Canvas, io.BytesIO]:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=PAGE_SIZE, pageCompression=1, invariant=1)
    canvas.setTitle(printable_line(title))
    canvas.setAuthor(printable_line(author))
    canvas.setCreator("device-triage")
    return canvas, buffer


def _seal_page(canvas: Canvas, label: SealLabel, facility_name: str) -> None:
    draw_qr(canvas, label.serial, _MARGIN, _MARGIN, _QR_SIDE)
    top = _HEIGHT - _MARGIN
    lines = [
        (label.serial, "Helvetica-Bold", 22.0, 10.0, _INK),
        (f"Class: {label.seal_class}", "Helvetica-Bold", 9.0, 5.0, _INK),
        (f"Supplier: {label.supplier}", "Helvetica", 8.0, 5.0, _INK),
        (f"Batch {label.batch_id}", "Helvetica", 7.0, 4.5, _MUTED),
    ]
    _draw_lines(canvas, lines, top, _TEXT_WIDTH)
    _draw_footer(canvas, facility_name, _TEXT_WIDTH)


def _device_page(canvas: Canvas, label: DeviceLabel) -> None:
    draw_qr(canvas, label.device_id, _MARGIN, _MARGIN, _QR_SIDE)
    seal = f"Seal {label.seal_serial}" if label.seal_serial else "Seal: not fitted"
    lines = [
        (label.device_id, "Helvetica-Bold", 16.0, 8.0, _INK),
        (label.device_type, "Helvetica-Bold", 11.0, 6.0, _INK),
        (seal, "Helvetica-Bold", 9.0, 5.0, _INK),
        (f"Job {label.job_id}", "Helvetica", 7.0, 4.5, _MUTED),
    ]
    _draw_lines(canvas, lines, _HEIGHT - _MARGIN, _TEXT_WIDTH)
    footer_width = _TEXT_WIDTH
    if label.seal_serial:
        # The seal's own code sits in the bottom right corner, its quiet zone at the margin.
        left = _WIDTH - _MARGIN - _SEAL_QR_SIDE
        draw_qr(canvas, label.seal_serial, left, _MARGIN, _SEAL_QR_SIDE)
        footer_width = left - _TEXT_LEFT
    _draw_footer(canvas, label.facility_name, footer_width)


_Line = tuple[str, str, float, float, colors.Color]


def _draw_lines(canvas: Canvas, lines: Sequence[_Line], top: float, width: float) -> None:
    """Draw lines from ``top`` down, each shrunk or cut to ``width``."""
    y = top
    for text, font, size, min_size, color in lines:
        fitted, fitted_size = _fit(text, font, size, min_size, width)
        y -= fitted_size * 1.05
        canvas.setFillColor(color)
        canvas.setFont(font, fitted_size)
        canvas.drawString(_TEXT_LEFT, y, fitted)
        y -= fitted_size * 0.45


def _draw_footer(canvas: Canvas, facility_name: str, width: float) -> None:
    """The facility's name at the foot of the text column."""
    text, size = _fit(facility_name, "Helvetica", 7.0, 4.5, width)
    canvas.setFillColor(_MUTED)
    canvas.setFont("Helvetica", size)
    canvas.drawString(_TEXT_LEFT, _MARGIN + 1.5 * mm, text)


def _fit(text: str, font: str, size: float, min_size: float, width: float) -> tuple[str, float]:
    """``text`` on one line no wider than ``width``: shrunk down to ``min_size`` points, and if
    still too wide, cut short with an ellipsis."""
    line = printable_line(text)[:_MAX_TEXT]
    natural = stringWidth(line, font, size)
    if natural <= width:
        return line, size
    scaled = int(size * width / natural * 10) / 10  # round down, so that it fits
    if scaled >= min_size:
        return line, scaled
    while line and stringWidth(line.rstrip() + _ELLIPSIS, font, min_size) > width:
        line = line[:-1]
    return line.rstrip() + _ELLIPSIS, min_size
