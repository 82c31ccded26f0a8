"""The triage certificate of a released device and the certificate of destruction of a destroyed
one: each one printable A4 page, built only from a receipt that verifies against the facility's
verifier key.

The page repeats what the receipt proves (the device, its decision, reset (each item of the
reset profile cleared or kept), seal and release; or its disposal: who destroyed it, how, under
which reference, and the ledger entry that records it) and the ledger entries of its job, and
carries a QR code of the receipt's digest and of the checkpoint the receipt is proven against
(a signed note carrying the witnesses' cosignatures, issue 21), so whoever holds the certificate
and the receipt can check that they belong together and that the receipt is in the facility's
log, and whoever holds only the certificate can check the checkpoint against a witness policy.
Nothing on the page comes from anywhere but the verified receipt.
"""

from __future__ import annotations

import base64
import io
import json
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
from triage.domain.lifecycle import TRANSITIONS, Action
from triage.domain.reset_profile import EMPTY_DIGEST
from triage.errors import Conflict
from triage.ledger.entry import Entry
from triage.ledger.receipt import DIGEST_LABEL, VerifiedReceipt, receipt_digest, verify_receipt

RELEASED = TRANSITIONS[Action.RELEASE].entry_type
DESTROYED = TRANSITIONS[Action.DESTROY].entry_type
QUARANTINED = TRANSITIONS[Action.QUARANTINE].entry_type
WITNESSED = "disposal.witnessed"
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
_DESTROYED_ACCENT = colors.HexColor("#8e1b1b")


@dataclass(frozen=True)
class _Job:
    """The device's latest triage job in a verified receipt: the job a certificate is about."""

    device_id: str
    device: Mapping[str, Any]  # as recorded when the job was opened
    job_id: str
    entries: list[tuple[int, Entry]]  # the job's entries, oldest first

    def state(self) -> str:
        """The state the job's latest step left it in, as words."""
        found = next((e.data["state"] for _, e in reversed(self.entries) if "state" in e.data), "?")
        return str(found).replace("_", " ")


@dataclass(frozen=True)
class _Facts:
    """What the triage certificate states, each taken from a verified entry of the released
    job."""

    job: _Job
    decision: Entry | None
    policy_decision: Entry | None
    reset: Entry | None
    verification: Entry | None
    seal: Entry | None
    released: Entry


@dataclass(frozen=True)
class _Destruction:
    """What the certificate of destruction states, from the verified entries of the job that
    ended with the device destroyed."""

    job: _Job
    destroyed: Entry
    index: int  # the destruction entry's index in the ledger
    quarantine: Entry | None  # why the device was set aside before it was destroyed
    witness: Entry | None  # the second person who confirmed the destruction


def certificate_filename(device_id: str) -> str:
    """The file name a certificate is saved under, e.g. triage-certificate-BC-33-...-3D.pdf."""
    return f"triage-certificate-{_file_id(device_id)}.pdf"


def destruction_certificate_filename(device_id: str) -> str:
    """The file name a certificate of destruction is saved under, e.g.
    certificate-of-destruction-BC-33-...-3D.pdf."""
    return f"certificate-of-destruction-{_file_id(device_id)}.pdf"


def _file_id(device_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]", "_", _canonical_id(device_id.strip()))[:64] or "device"


def qr_payload(receipt: str | bytes, verifier_key: str) -> str:
    """Exactly what the certificate's QR code encodes: the verified receipt's digest line, a
    newline, then the checkpoint the receipt is proven against as a signed note with the
    witnesses' cosignatures it carries (ending in its newline)."""
    verified = verify_receipt(receipt, [verifier_key])
    return _payload(receipt, receipt_digest(receipt, verified))


def _payload(receipt: str | bytes, digest: str) -> str:
    """The QR code's text for a receipt that verified, whose digest line is ``digest``."""
    checkpoint = json.loads(receipt)["checkpoint"]
    return f"{digest}\n{checkpoint}"


def render_certificate(receipt: str | bytes, verifier_key: str, facility_name: str) -> bytes:
    """A PDF triage certificate for a released device, built only from a verified receipt.

    Raises VerificationError when the receipt does not verify with ``verifier_key``, and
    Conflict when its entries do not show the device released in its latest triage job.
    """
    verified = verify_receipt(receipt, [verifier_key])
    facts = _released_facts(verified)
    digest = receipt_digest(receipt, verified)
    payload = _payload(receipt, digest)
    story = _story(verified, facts, digest, payload, verifier_key, facility_name)
    return _build(f"Triage certificate {facts.job.device_id}", facility_name, digest, story)


def render_destruction_certificate(
    receipt: str | bytes, verifier_key: str, facility_name: str
) -> bytes:
    """A PDF certificate of destruction for a destroyed device, built only from a verified
    receipt: who destroyed it, how and under which reference, as recorded at disposal, and the
    ledger entry that records it with the checkpoint that proves it.

    Raises VerificationError when the receipt does not verify with ``verifier_key``, and
    Conflict when its entries do not show the device destroyed in its latest triage job.
    """
    verified = verify_receipt(receipt, [verifier_key])
    facts = _destroyed_facts(verified)
    digest = receipt_digest(receipt, verified)
    payload = _payload(receipt, digest)
    story = _destruction_story(verified, facts, digest, payload, verifier_key, facility_name)
    return _build(f"Certificate of destruction {facts.job.device_id}", facility_name, digest, story)


def _build(title: str, facility_name: str, digest: str, story: list[Flowable]) -> bytes:
    """One A4 page of ``story``, with the receipt digest as the document's subject."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN - FRAME_PADDING,
        rightMargin=MARGIN - FRAME_PADDING,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=title,
        author=facility_name,
        subject=digest,
        creator="device-triage",
        invariant=1,
    )
    # One page, always: a job with unusually many entries or long texts is shrunk to fit.
    # The story sits in one fixed-width cell, so that shrinking scales it all alike.
    body = Table([[story]], colWidths=[WIDTH], style=_grid_style(padding=0))
    page = KeepInFrame(WIDTH, doc.height - 2 * FRAME_PADDING - 1, [body], mode="shrink")
    doc.build([page], onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue()


# -- what the receipt says ---------------------------------------------------------------------


def _latest_triage_job(verified: VerifiedReceipt, ending: str) -> _Job:
    """The device's latest triage job in the receipt; Conflict when the receipt is not about a
    device or shows no job (``ending`` says what the certificate needs the job to have done)."""
    subject = verified.subject
    if subject.kind != "device":
        raise Conflict(
            f"a certificate is for a device; this receipt is about {subject.kind} {subject.id}"
        )
    device_id = _canonical_id(subject.id)
    job_id = _latest_job(verified.entries)
    if job_id is None:
        raise Conflict(
            f"the receipt shows no triage job for device {device_id}: it was never received, "
            f"so it cannot have been {ending}"
        )
    job = [(i, e) for i, e in verified.entries if e.data.get("job_id") == job_id]
    return _Job(device_id, _device_data(job, verified.entries), job_id, job)


def _released_facts(verified: VerifiedReceipt) -> _Facts:
    job = _latest_triage_job(verified, "released")
    released = _last(job.entries, RELEASED)
    if released is None:
        raise Conflict(
            f"device {job.device_id} was not released: its latest triage job {job.job_id} is "
            f"{job.state()}; a certificate is only issued for a released device"
        )
    verification = _last(job.entries, "reset.verified")
    return _Facts(
        job=job,
        decision=_last(job.entries, *_DECISIONS),
        policy_decision=_last(job.entries, "device.decided"),
        reset=_verified_reset(job.entries, verification),
        verification=verification,
        seal=_last(job.entries, "seal.fitted"),
        released=released,
    )


def _destroyed_facts(verified: VerifiedReceipt) -> _Destruction:
    job = _latest_triage_job(verified, "destroyed")
    found = next(((i, e) for i, e in reversed(job.entries) if e.type == DESTROYED), None)
    if found is None:
        raise Conflict(
            f"device {job.device_id} was not destroyed: its latest triage job {job.job_id} is "
            f"{job.state()}; a certificate of destruction is only issued for a destroyed device"
        )
    index, destroyed = found
    witness = _last(job.entries, WITNESSED)
    return _Destruction(job, destroyed, index, _last(job.entries, QUARANTINED), witness)


def _verified_reset(
    entries: Sequence[tuple[int, Entry]], verification: Entry | None
) -> Entry | None:
    """The completed reset the verification checked (the latest one, when none was verified)."""
    if verification is not None:
        order = verification.data.get("work_order_id")
        for _, entry in reversed(entries):
            if entry.type == "reset.completed" and entry.data.get("work_order_id") == order:
                return entry
    return _last(entries, "reset.completed")


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


def _badge(accent: colors.Color) -> ParagraphStyle:
    """The badge at the top right: what became of the device, in its colour."""
    return style(
        "badge", fontName="Helvetica-Bold", fontSize=11, leading=14, textColor=accent, alignment=2
    )


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _story(
    verified: VerifiedReceipt,
    facts: _Facts,
    digest: str,
    payload: str,
    verifier_key: str,
    facility_name: str,
) -> list[Flowable]:
    released = facts.released
    return [
        _header(verified, "Triage certificate", "RELEASED", _ACCENT, facility_name, released.at),
        Spacer(1, 5 * mm),
        _device_block(facts.job, digest, payload),
        Spacer(1, 5 * mm),
        _p("Triage", _SECTION),
        Spacer(1, 1.5 * mm),
        _facts_table(
            [
                ("Decision", _decision(facts), BODY),
                ("Tamper policy", _policy(facts.policy_decision), BODY),
                ("Reset", _reset(facts.reset), BODY),
                ("Verified", _verified(facts.verification), BODY),
                *_reset_items(facts.reset if facts.verification is not None else None),
                (
                    "Seal serial",
                    _text(facts.seal.data.get("serial") if facts.seal else None),
                    _MONO_B,
                ),
                ("Released", f"{_time(released.at)} by {_actor(released)}", BODY),
                *_checkpoint_rows(verified),
            ]
        ),
        *_job_and_receipt(verified, facts.job, verifier_key),
    ]


def _destruction_story(
    verified: VerifiedReceipt,
    facts: _Destruction,
    digest: str,
    payload: str,
    verifier_key: str,
    facility_name: str,
) -> list[Flowable]:
    destroyed = facts.destroyed
    title = "Certificate of destruction"
    set_aside = "not recorded"
    if facts.quarantine is not None:
        reason = _text(facts.quarantine.data.get("reason"), "no reason recorded")
        set_aside = _clip(f"{_time(facts.quarantine.at)} by {_actor(facts.quarantine)}: {reason}")
    method = destroyed.data.get("method")
    if isinstance(method, Mapping):
        section = "Sanitisation (NIST SP 800-88 Rev.1, section 4.8)"
        rows = _sanitisation_rows(facts, method)
    else:
        # Destroyed before destruction evidence was recorded: what was recorded then.
        section = "Disposal"
        rows = [
            ("Destroyed", f"{_time(destroyed.at)} by {_actor(destroyed)}", BODY),
            ("Method", TRANSITIONS[Action.DESTROY].description, BODY),
        ]
    return [
        _header(verified, title, "DESTROYED", _DESTROYED_ACCENT, facility_name, destroyed.at),
        Spacer(1, 5 * mm),
        _device_block(facts.job, digest, payload),
        Spacer(1, 5 * mm),
        _p(section, _SECTION),
        Spacer(1, 1.5 * mm),
        _facts_table(
            [
                *rows,
                ("Reference", _text(destroyed.data.get("reference")), _MONO_B),
                ("Quarantined", set_aside, BODY),
                ("Ledger entry", f"index {facts.index} ({destroyed.type})", BODY),
                *_checkpoint_rows(verified),
            ]
        ),
        *_job_and_receipt(verified, facts.job, verifier_key),
    ]


def _sanitisation_rows(
    facts: _Destruction, method: Mapping[str, Any]
) -> list[tuple[str, str, ParagraphStyle]]:
    """The NIST SP 800-88 sec. 4.8 fields of a destruction recorded with its method: the
    device (media), how it was sanitised and verified, by whom, when, where and who saw it."""
    destroyed, data = facts.destroyed, facts.destroyed.data
    device = facts.job.device
    role = data.get("role")
    by = f"{_actor(destroyed)} ({role})" if role else _actor(destroyed)
    contact = _text(data.get("contact"), "the facility")
    return [
        ("Manufacturer", _text(data.get("manufacturer") or device.get("manufacturer")), BODY),
        ("Model", _text(data.get("model") or device.get("model")), BODY),
        ("Serial number", facts.job.device_id, _MONO_B),
        ("Media type", _type_name(data.get("device_type", device.get("type"))), BODY),
        ("Media source", _text(data.get("asset_owner") or device.get("asset_owner")), BODY),
        ("Confidentiality", f"{_text(method.get('confidentiality'))} (before sanitisation)", BODY),
        ("Sanitisation", _clip(_text(method.get("description"))), BODY),
        (
            "Method used",
            f"{_text(method.get('name'))}, NIST SP 800-88 category "
            f"{_text(method.get('category')).upper()}",
            BODY,
        ),
        ("Tool used", _text(method.get("tool")), BODY),
        ("Verification", _text(method.get("verification")), BODY),
        ("Destination", _text(method.get("destination")), BODY),
        ("Performed by", by, BODY),
        ("Date", f"{_text(data.get('destroyed_on'))} (recorded {_time(destroyed.at)})", BODY),
        ("Location", _clip(_text(data.get("site"))), BODY),
        ("Contact", _clip(contact), BODY),
        ("Witness", _witness(facts.witness), BODY),
        ("Evidence", _evidence(data.get("evidence")), _CELL_MONO),
    ]


def _witness(entry: Entry | None) -> str:
    if entry is None:
        return "not witnessed"
    statement = _text(entry.data.get("statement"), "no statement recorded")
    return _clip(f"{_actor(entry)} on {_time(entry.at)}: {statement}")


def _evidence(files: object) -> str:
    """Each photo or video by its SHA-256, media type and size."""
    if not isinstance(files, Sequence) or not files:
        return "none recorded"
    lines = [
        f"sha256 {f.get('sha256')} ({f.get('media_type')}, {f.get('size')} bytes)"
        for f in files
        if isinstance(f, Mapping)
    ]
    return _clip("; ".join(lines))


def _header(
    verified: VerifiedReceipt,
    title: str,
    badge: str,
    accent: colors.Color,
    facility_name: str,
    at: datetime,
) -> Table:
    return Table(
        [
            [_p(title, _TITLE), _p(badge, _badge(accent))],
            [_p(facility_name, _FACILITY), _p(_time(at), _SMALL_RIGHT)],
            [_p(f"Log origin: {verified.origin}", SMALL), ""],
        ],
        colWidths=[WIDTH * 0.7, WIDTH * 0.3],
        style=_grid_style(padding=0, line_below=True),
    )


def _checkpoint_rows(verified: VerifiedReceipt) -> list[tuple[str, str, ParagraphStyle]]:
    """The signed checkpoint every entry of the receipt is proven against."""
    return [
        ("Ledger checkpoint", f"size {verified.checkpoint.size}", BODY),
        ("Checkpoint root", base64.b64encode(verified.checkpoint.root_hash).decode(), _MONO),
    ]


def _job_and_receipt(verified: VerifiedReceipt, job: _Job, verifier_key: str) -> list[Flowable]:
    """The job's entries, what the receipt holds, and how to verify it."""
    count = len(verified.entries)
    return [
        Spacer(1, 5 * mm),
        _p(f"Ledger entries of triage job {job.job_id}", _SECTION),
        Spacer(1, 1.5 * mm),
        _entries_table(job.entries),
        Spacer(1, 3 * mm),
        _p(
            f"The receipt holds {count} ledger {'entry' if count == 1 else 'entries'} about "
            f"this device, each with its inclusion proof in the log of "
            f"{verified.checkpoint.size} entries signed by {verified.origin}; "
            f"{len(job.entries)} of them belong to this job.",
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


def _device_block(job: _Job, digest: str, payload: str) -> Table:
    device = job.device
    rows = [
        ("Device type", _type_name(device.get("type"))),
        ("Manufacturer", _text(device.get("manufacturer"))),
        ("Model", _text(device.get("model"))),
        ("Firmware", _text(device.get("firmware_version"))),
        ("Asset owner", _text(device.get("asset_owner"))),
        ("Triage job", job.job_id),
    ]
    details = Table(
        [[_p(label, LABEL), _p(value, BODY)] for label, value in rows],
        colWidths=[26 * mm, None],
        style=_grid_style(padding=0),
    )
    left = [
        _p("Device ID (EUI-64)", LABEL),
        _p(job.device_id, _DEVICE_ID),
        Spacer(1, 3 * mm),
        details,
    ]
    right = [
        QrCode(payload, _QR_SIDE),
        Spacer(1, 1 * mm),
        Paragraph("<br/>".join(escape(line) for line in wrap(digest, 44)), _DIGEST),
        Spacer(1, 1 * mm),
        _p(
            "The QR code encodes this receipt digest, then the checkpoint with its witnesses' "
            "cosignatures",
            _CAPTION,
        ),
    ]
    qr_width = _QR_SIDE + 14 * mm
    table = Table(
        [[left, right]],
        colWidths=[WIDTH - qr_width, qr_width],
        style=_grid_style(padding=0),
    )
    table.setStyle(TableStyle([("ALIGN", (1, 0), (1, 0), "CENTER")]))
    return table


def _facts_table(rows: Sequence[tuple[str, str, ParagraphStyle]]) -> Table:
    """Labelled facts, a row each, the labels shaded."""
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


def _reset_items(reset: Entry | None) -> list[tuple[str, str, ParagraphStyle]]:
    """Each item the tool read back after the verified reset, as cleared or kept: a cleared
    item reads back empty, a kept one exactly as it was before (the reset profile's check).
    Nothing when no verified reset recorded its read-back."""
    before = reset.data.get("before") if reset is not None else None
    after = reset.data.get("after") if reset is not None else None
    if not isinstance(before, Mapping) or not isinstance(after, Mapping) or not after:
        return []
    cleared = sorted(item for item, digest in after.items() if digest == EMPTY_DIGEST)
    kept = sorted(
        item
        for item, digest in after.items()
        if digest != EMPTY_DIGEST and before.get(item) == digest
    )
    return [
        (f"Cleared ({len(cleared)})", ", ".join(cleared) or "none", BODY),
        (f"Kept ({len(kept)})", ", ".join(kept) or "none", BODY),
    ]


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
