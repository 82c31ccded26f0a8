"""The triage certificate: one printable A4 page for a released device, built only from a
receipt that verifies against the facility's verifier key.

The page repeats what the receipt proves (the device, its decision, reset, seal and release, and
the ledger entries of its job) and carries a QR code of the receipt's digest, so whoever holds
the certificate and the receipt can check that they belong together and that the receipt is
in the facility's log. Nothing on the page comes from anywhere but the verified entries.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepInFrame,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from triage.adapters.pdf.qr import QrCode
from triage.adapters.pdf.styles import (
    BODY,
    CELL,
    FRAME_PADDING,
    HEAD,
    LABEL,
    MARGIN,
    MUTED,
    RULE,
    SHADE,
    SMALL,
    WIDTH,
    style,
)
from triage.adapters.pdf.text import wrap
from triage.domain.device import DeviceId, DeviceType, FieldError
from triage.errors import Conflict
from triage.ledger.entry import Entry
from triage.ledger.receipt import DIGEST_LABEL, VerifiedReceipt, receipt_digest, verify_receipt

RELEASED = "device.released"
_DEVICE_ENTRIES = ("device.received", "consignment.device_expected")
_DECISIONS = ("device.decided", "decision.overridden")
_TYPE_NAMES = {
    DeviceType.GSME: "Gas smart meter (GSME)",
    DeviceType.ESME: "Electricity smart meter (ESME)",
    DeviceType.CHF: "Communications hub function (CHF)",
    DeviceType.GPF: "Gas proxy function (GPF)",
    DeviceType.HCALCS: "HAN-connected auxiliary load control switch (HCALCS)",
    DeviceType.PPMID: "Prepayment meter interface device (PPMID)",
    DeviceType.TYPE2: "Type 2 device (IHD/CAD)",
}

_MAX_ROWS = 24  # entries tabled in full; a longer job shows its first and latest entries
_HEAD_ROWS = 6
_MAX_TEXT = 400
_QR_SIDE = 46 * mm
_ACCENT = colors.HexColor("#1b5e20")


@dataclass(frozen=True)
class _Facts:
    """What the certificate states, each taken from a verified entry of the released job."""

    device_id: str
    device: Mapping[str, Any]
    job_id: str
    job_entries: list[tuple[int, Entry]]
    decision: Entry | None
    policy_decision: Entry | None
    reset: Entry | None
    verification: Entry | None
    seal: Entry | None
    released: Entry


def certificate_filename(device_id: str) -> str:
    """The file name a certificate is saved under, e.g. triage-certificate-BC-33-...-3D.pdf."""
    safe = re.sub(r"[^A-Za-z0-9-]", "_", _canonical_id(device_id.strip()))[:64]
    return f"triage-certificate-{safe or 'device'}.pdf"


def qr_payload(receipt: str | bytes, verifier_key: str) -> str:
    """Exactly what the certificate's QR code encodes: the verified receipt's digest line."""
    return receipt_digest(receipt, verify_receipt(receipt, [verifier_key]))


def render_certificate(receipt: str | bytes, verifier_key: str, facility_name: str) -> bytes:
    """A PDF triage certificate for a released device, built only from a verified receipt.

    Raises VerificationError when the receipt does not verify with ``verifier_key``, and
    Conflict when its entries do not show the device released in its latest triage job.
    """
    verified = verify_receipt(receipt, [verifier_key])
    facts = _released_facts(verified)
    digest = receipt_digest(receipt, verified)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN - FRAME_PADDING,
        rightMargin=MARGIN - FRAME_PADDING,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=f"Triage certificate {facts.device_id}",
        author=facility_name,
        subject=digest,
        creator="device-triage",
        invariant=1,
    )
    story = _story(verified, facts, digest, verifier_key, facility_name)
    # One page, always: a job with unusually many entries or long texts is shrunk to fit.
    # The story sits in one fixed-width cell, so that shrinking scales it all alike.
    body = Table([[story]], colWidths=[WIDTH], style=_grid_style(padding=0))
    page = KeepInFrame(WIDTH, doc.height - 2 * FRAME_PADDING - 1, [body], mode="shrink")
    doc.build([page], onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue()


# -- what the receipt says ---------------------------------------------------------------------


def _released_facts(verified: VerifiedReceipt) -> _Facts:
    subject = verified.subject
    if subject.kind != "device":
        raise Conflict(
            f"a triage certificate is for a device; this receipt is about {subject.kind} "
            f"{subject.id}"
        )
    device_id = _canonical_id(subject.id)
    job_id = _latest_job(verified.entries)
    if job_id is None:
        raise Conflict(
            f"the receipt shows no triage job for device {device_id}: it was never received, "
            "so it cannot have been released"
        )
    job = [(i, e) for i, e in verified.entries if e.data.get("job_id") == job_id]
    released = _last(job, RELEASED)
    if released is None:
        state = next((str(e.data["state"]) for _, e in reversed(job) if "state" in e.data), "?")
        raise Conflict(
            f"device {device_id} was not released: its latest triage job {job_id} is "
            f"{state.replace('_', ' ')}; a certificate is only issued for a released device"
        )
    return _Facts(
        device_id=device_id,
        device=_device_data(job, verified.entries),
        job_id=job_id,
        job_entries=job,
        decision=_last(job, *_DECISIONS),
        policy_decision=_last(job, "device.decided"),
        reset=_last(job, "reset.completed"),
        verification=_last(job, "reset.verified"),
        seal=_last(job, "seal.fitted"),
        released=released,
    )


def _latest_job(entries: Sequence[tuple[int, Entry]]) -> str | None:
    for _, entry in reversed(entries):
        job_id = entry.data.get("job_id")
        if isinstance(job_id, str) and job_id:
            return job_id
    return None


def _last(entries: Sequence[tuple[int, Entry]], *types: str) -> Entry | None:
    return next((e for _, e in reversed(entries) if e.type in types), None)


def _device_data(
    job: Sequence[tuple[int, Entry]], everything: Sequence[tuple[int, Entry]]
) -> Mapping[str, Any]:
    """The device as recorded when its job was opened (else as the consignment expected it)."""
    for entries in (job, everything):
        for _, entry in reversed(entries):
            device = entry.data.get("device")
            if entry.type in _DEVICE_ENTRIES and isinstance(device, Mapping):
                return device
    return {}


def _canonical_id(device_id: str) -> str:
    try:
        return DeviceId.parse(device_id).value
    except FieldError:
        return device_id


def _type_name(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return _TYPE_NAMES[DeviceType(value)]
        except ValueError:
            return f"unknown GBCS device type {value}"
    return "not recorded"


def _when(entry: Entry | None) -> str:
    return "not recorded" if entry is None else _time(entry.at)


def _time(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")


def _actor(entry: Entry) -> str:
    return f"{entry.actor.kind} {entry.actor.id}"


def _text(value: object, missing: str = "not recorded") -> str:
    return missing if value is None or value == "" else str(value)


# -- the page ----------------------------------------------------------------------------------


_TITLE = style("title", fontName="Helvetica-Bold", fontSize=22, leading=26)
_FACILITY = style("facility", fontName="Helvetica-Bold", fontSize=12, leading=15)
_SMALL_RIGHT = style("smallright", fontSize=8, leading=10, textColor=MUTED, alignment=2)
_DEVICE_ID = style("device", fontName="Courier-Bold", fontSize=19, leading=23)
_SECTION = style("section", fontName="Helvetica-Bold", fontSize=10.5, leading=13, spaceBefore=2)
_MONO = style("mono", fontName="Courier", fontSize=8, leading=10)
_MONO_B = style("monob", fontName="Courier-Bold", fontSize=10, leading=12)
_DIGEST = style("digest", fontName="Courier", fontSize=6, leading=7.4, alignment=TA_CENTER)
_CAPTION = style("caption", fontSize=7, leading=9, textColor=MUTED, alignment=TA_CENTER)
_CELL_MONO = style("cellmono", fontName="Courier", fontSize=7.5, leading=9.2)
_BADGE = style(
    "badge", fontName="Helvetica-Bold", fontSize=11, leading=14, textColor=_ACCENT, alignment=2
)


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _story(
    verified: VerifiedReceipt,
    facts: _Facts,
    digest: str,
    verifier_key: str,
    facility_name: str,
) -> list[Flowable]:
    header = Table(
        [
            [_p("Triage certificate", _TITLE), _p("RELEASED", _BADGE)],
            [_p(facility_name, _FACILITY), _p(_time(facts.released.at), _SMALL_RIGHT)],
            [_p(f"Log origin: {verified.origin}", SMALL), ""],
        ],
        colWidths=[WIDTH * 0.7, WIDTH * 0.3],
        style=_grid_style(padding=0, line_below=True),
    )
    return [
        header,
        Spacer(1, 5 * mm),
        _device_block(facts, digest),
        Spacer(1, 5 * mm),
        _p("Triage", _SECTION),
        Spacer(1, 1.5 * mm),
        _triage_table(verified, facts),
        Spacer(1, 5 * mm),
        _p(f"Ledger entries of triage job {facts.job_id}", _SECTION),
        Spacer(1, 1.5 * mm),
        _entries_table(facts.job_entries),
        Spacer(1, 3 * mm),
        _p(
            f"The receipt holds {len(verified.entries)} ledger "
            f"{'entry' if len(verified.entries) == 1 else 'entries'} about this device, each "
            f"with its inclusion proof in the log of {verified.checkpoint.size} entries signed "
            f"by {verified.origin}; {len(facts.job_entries)} of them belong to this job.",
            SMALL,
        ),
        Spacer(1, 4 * mm),
        _verify_block(verifier_key),
    ]


def _grid_style(padding: float, line_below: bool = False) -> TableStyle:
    commands: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), padding),
        ("RIGHTPADDING", (0, 0), (-1, -1), padding),
        ("TOPPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
    ]
    if line_below:
        commands += [
            ("LINEBELOW", (0, -1), (-1, -1), 0.8, RULE),
            ("BOTTOMPADDING", (0, -1), (-1, -1), 6),
        ]
    return TableStyle(commands)


def _device_block(facts: _Facts, digest: str) -> Table:
    device = facts.device
    rows = [
        ("Device type", _type_name(device.get("type"))),
        ("Manufacturer", _text(device.get("manufacturer"))),
        ("Model", _text(device.get("model"))),
        ("Firmware", _text(device.get("firmware_version"))),
        ("Asset owner", _text(device.get("asset_owner"))),
        ("Triage job", facts.job_id),
    ]
    details = Table(
        [[_p(label, LABEL), _p(value, BODY)] for label, value in rows],
        colWidths=[26 * mm, None],
        style=_grid_style(padding=0),
    )
    left = [
        _p("Device ID (EUI-64)", LABEL),
        _p(facts.device_id, _DEVICE_ID),
        Spacer(1, 3 * mm),
        details,
    ]
    right = [
        QrCode(digest, _QR_SIDE),
        Spacer(1, 1 * mm),
        Paragraph("<br/>".join(escape(line) for line in wrap(digest, 44)), _DIGEST),
        Spacer(1, 1 * mm),
        _p("The QR code encodes exactly this receipt digest", _CAPTION),
    ]
    qr_width = _QR_SIDE + 14 * mm
    table = Table(
        [[left, right]],
        colWidths=[WIDTH - qr_width, qr_width],
        style=_grid_style(padding=0),
    )
    table.setStyle(TableStyle([("ALIGN", (1, 0), (1, 0), "CENTER")]))
    return table


def _triage_table(verified: VerifiedReceipt, facts: _Facts) -> Table:
    rows: list[tuple[str, str, ParagraphStyle]] = [
        ("Decision", _decision(facts), BODY),
        ("Tamper policy", _policy(facts.policy_decision), BODY),
        ("Reset", _reset(facts.reset), BODY),
        ("Verified", _verified(facts.verification), BODY),
        ("Seal serial", _text(facts.seal.data.get("serial") if facts.seal else None), _MONO_B),
        ("Released", f"{_time(facts.released.at)} by {_actor(facts.released)}", BODY),
        ("Ledger checkpoint", f"size {verified.checkpoint.size}", BODY),
        ("Checkpoint root", base64.b64encode(verified.checkpoint.root_hash).decode(), _MONO),
    ]
    table = Table(
        [[_p(label, LABEL), _p(value, style)] for label, value, style in rows],
        colWidths=[34 * mm, WIDTH - 34 * mm],
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 5),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("BACKGROUND", (0, 0), (0, -1), SHADE),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
                ("LINEABOVE", (0, 0), (-1, 0), 0.4, RULE),
            ]
        )
    )
    return table


def _decision(facts: _Facts) -> str:
    decision = facts.decision
    if decision is None:
        return "not recorded"
    outcome = _text(decision.data.get("outcome")).replace("_", " ")
    if decision.type == "decision.overridden":
        justification = _clip(
            _text(decision.data.get("justification"), "no justification recorded")
        )
        return (
            f"{outcome}, by override of {_actor(decision)} on {_time(decision.at)}: {justification}"
        )
    reasons = decision.data.get("reasons")
    texts = [str(r["text"]) for r in reasons or [] if isinstance(r, Mapping) and r.get("text")]
    because = f" ({'; '.join(texts)})" if texts else ""
    return _clip(f"{outcome}, by the tamper policy on {_time(decision.at)}{because}")


def _clip(text: str) -> str:
    """Long free text cut short for the page (the receipt holds it in full)."""
    if len(text) <= _MAX_TEXT:
        return text
    return text[: _MAX_TEXT - 30].rstrip() + "... (in full in the receipt)"


def _policy(decision: Entry | None) -> str:
    policy = decision.data.get("policy") if decision else None
    if not isinstance(policy, Mapping):
        return "not recorded"
    text = f"{_text(policy.get('id'))} version {_text(policy.get('version'))}"
    digest = policy.get("hash")
    return f"{text} (sha256 {str(digest)[:16]}...)" if digest else text


def _reset(entry: Entry | None) -> str:
    if entry is None:
        return "not recorded"
    return f"{_time(entry.at)}, work order {_text(entry.data.get('work_order_id'))}"


def _verified(entry: Entry | None) -> str:
    if entry is None:
        return "not recorded"
    return f"{_time(entry.at)}: every item of the reset profile read back cleared or kept"


def _entries_table(entries: Sequence[tuple[int, Entry]]) -> Table:
    data: list[list[Paragraph]] = [
        [_p(h, HEAD) for h in ("Index", "Time (UTC)", "Type", "Actor", "New state")]
    ]
    shown = list(entries)
    hidden = len(shown) - _MAX_ROWS
    if hidden > 0:
        shown = shown[:_HEAD_ROWS] + shown[_HEAD_ROWS + hidden :]
    for row, (index, entry) in enumerate(shown):
        if hidden > 0 and row == _HEAD_ROWS:
            data.append(
                [_p("", CELL), _p(f"... {hidden} entries not shown: see the receipt", CELL)]
            )
        data.append(
            [
                _p(str(index), _CELL_MONO),
                _p(entry.at.strftime("%Y-%m-%d %H:%M:%S"), _CELL_MONO),
                _p(entry.type, CELL),
                _p(_actor(entry), CELL),
                _p(_text(entry.data.get("state"), "").replace("_", " "), CELL),
            ]
        )
    table = Table(
        data,
        colWidths=[16 * mm, 37 * mm, 46 * mm, WIDTH - 129 * mm, 30 * mm],
        repeatRows=1,
    )
    gap = [("SPAN", (1, _HEAD_ROWS + 1), (-1, _HEAD_ROWS + 1))] if hidden > 0 else []
    table.setStyle(
        TableStyle(
            [
                *gap,
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, RULE),
                ("LINEBELOW", (0, -1), (-1, -1), 0.6, RULE),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f8f9fa")]),
            ]
        )
    )
    return table


def _verify_block(verifier_key: str) -> Table:
    text = Paragraph(
        f"<b>Verify:</b> <font face='Courier' size='7'>triage verify RECEIPT --key "
        f"{escape(verifier_key)}</font>",
        style("verify", fontSize=8, leading=10.5),
    )
    note = _p(
        "Anyone can check the receipt offline with the facility's verifier key above: the "
        "command proves every entry against the signed checkpoint and prints a line "
        f'"{DIGEST_LABEL} DTR1 ...": what follows "{DIGEST_LABEL}" must equal the line under '
        "the QR code.",
        SMALL,
    )
    table = Table([[text], [note]], colWidths=[WIDTH])
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.6, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
                ("RIGHTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, 0), 5),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 5),
            ]
        )
    )
    return table


def _footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont("Helvetica", 7)
    canvas.setFillColor(MUTED)
    canvas.drawString(
        MARGIN,
        8 * mm,
        "Printed from a receipt verified against the facility's signed ledger checkpoint.",
    )
    canvas.drawRightString(A4[0] - MARGIN, 8 * mm, f"Page {doc.page}")
    canvas.restoreState()
