"""The evidence pack handed to the assessor of a security assessment (FUSA, VUSA or USSA).

The pack is one zip: a PDF describing the assessment (its cover, every control with its status
and evidence, the findings with their responses, the remedial actions), every evidence file,
a ``manifest.json`` of the files' SHA-256 digests with where the ledger recorded each (and its
inclusion proof when given), and a ``README.txt`` saying how to check it all.

Each evidence file is put in the pack only if its bytes hash to the digest the ledger recorded:
an altered file is refused, never packed. The same inputs give the same bytes: entries are
sorted and stamped with the pack's generation time, and the PDF is built invariant.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

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
from triage.adapters.pdf.text import printable_text
from triage.domain.assurance_records import Assessment, AttachedEvidence
from triage.domain.catalogue import ControlReadiness
from triage.errors import InvalidInput
from triage.services.ports import EntryProof
from triage.services.proof_encoding import b64, inclusion_json

KIND_NAMES = {
    "FUSA": "Full User Security Assessment",
    "VUSA": "Verification User Security Assessment",
    "USSA": "User Security Self-Assessment",
}
MANIFEST = "manifest.json"
README = "README.txt"
EVIDENCE_DIR = "evidence"
PACK_FORMAT = "triage-evidence-pack/1"

_OUTCOMES = {
    "approval": "Approval",
    "approval_with_steps": "Approval with steps",
    "deferred": "Deferred",
    "rejection": "Rejection",
}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_EXTENSIONS = {  # a fixed map, so that a pack does not depend on the host's MIME tables
    "application/json": ".json",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "text/csv": ".csv",
    "text/markdown": ".md",
    "application/zip": ".zip",
    "image/png": ".png",
    "image/jpeg": ".jpg",
}
_CHECK_COMMAND = (  # what README.txt tells the assessor to run in the unpacked directory
    'python3 -c \'import hashlib, json; m = json.load(open("manifest.json")); '
    '[print("ok " if hashlib.sha256(open(f["path"], "rb").read()).hexdigest() == '
    'f["sha256"] else "BAD", f["path"]) for f in m["files"] + [m["pdf"]]]\''
)
_MAX_NAME = 100  # characters of a file's safe name, after its digest
_MAX_CELL = 1500  # characters of free text in a table cell (a cell cannot split across pages)
_SHORT_HASH = 12
_FILE_MODE = 0o644

_STRIPE = colors.HexColor("#f8f9fa")
_STATUS_COLOURS = {
    "ready": "#1b5e20",
    "fresh": "#1b5e20",
    "stale": "#8a5a00",
    "missing": "#b71c1c",
    "altered": "#b71c1c",
    "not_applicable": "#5f6368",
}


# -- public ------------------------------------------------------------------------------------


def pack_filename(assessment: Mapping[str, Any]) -> str:
    """The file name a pack is saved under, e.g. evidence-pack-FUSA-3f2a9c1d.zip."""
    kind = _safe_token(str(assessment.get("kind", "")), "assessment")[:8]
    short = _safe_token(str(assessment.get("id", ""))[:8], "pack")
    return f"evidence-pack-{kind}-{short}.zip"


def render_assessment_pdf(
    assessment: Mapping[str, Any],
    readiness: Sequence[Mapping[str, Any]],
    facility_name: str,
    catalogue_label: str,
    generated_at: datetime,
) -> bytes:
    """The assessment's PDF (A4): cover, controls with their evidence, findings and actions.

    Raises InvalidInput when the assessment has no id or an unknown kind.
    """
    assessment_id, kind = _identity(assessment)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN - FRAME_PADDING,
        rightMargin=MARGIN - FRAME_PADDING,
        topMargin=14 * mm,
        bottomMargin=16 * mm,
        title=printable_text(f"{KIND_NAMES[kind]} {assessment_id}"),
        author=printable_text(facility_name),
        subject=printable_text(f"Evidence pack, {catalogue_label}"),
        creator="device-triage",
        invariant=1,
    )
    footer_text = printable_text(
        f"{facility_name} - {kind} {assessment_id} - evidence pack generated {_time(generated_at)}"
    )

    def footer(canvas: Canvas, page_doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, 8 * mm, footer_text[:130])
        canvas.drawRightString(A4[0] - MARGIN, 8 * mm, f"Page {page_doc.page}")
        canvas.restoreState()

    hashes = _evidence_hashes(assessment)
    story: list[Flowable] = [
        *_cover(assessment, kind, facility_name, catalogue_label, generated_at),
        *_summary(assessment, readiness),
        PageBreak(),  # the cover is a page of its own; the controls start on the next
        *_controls(readiness, hashes),
        *_findings(assessment),
        *_actions(assessment),
        *_evidence_list(assessment),
    ]
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def build_pack(
    assessment: Mapping[str, Any],
    readiness: Sequence[Mapping[str, Any]],
    files: Sequence[tuple[Mapping[str, Any], bytes]],
    proofs: Mapping[str, Mapping[str, Any]],
    pdf: bytes,
    generated_at: datetime,
) -> bytes:
    """The evidence pack as zip bytes: the PDF, the evidence files, manifest.json, README.txt.

    Raises InvalidInput for a file whose bytes do not hash to its evidence's recorded sha256
    (an altered file is never packed), a file whose evidence does not match the assessment's
    record of it, an evidence id given twice, or a malformed inclusion proof.
    """
    assessment_id, kind = _identity(assessment)
    stamp = _zip_time(generated_at)
    recorded = {str(e.get("id")): e for e in assessment.get("evidence") or []}
    pdf_path = f"assessment-{_safe_token(assessment_id, 'assessment')}.pdf"
    contents: dict[str, bytes] = {pdf_path: pdf}
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for evidence, content in files:
        row, path = _file_row(evidence, content, recorded, proofs)
        if row["evidence_id"] in seen:
            raise InvalidInput(
                f"files: evidence {row['evidence_id']} is given twice; give each file once"
            )
        seen.add(row["evidence_id"])
        contents[path] = content  # the same digest and name is the same file: stored once
        rows.append(row)
    rows.sort(key=lambda r: (r["path"], r["evidence_id"]))
    missing = sorted(
        (
            {"evidence_id": eid, "name": str(e.get("name", "")), "sha256": e.get("sha256")}
            for eid, e in recorded.items()
            if eid not in seen
        ),
        key=lambda r: str(r["evidence_id"]),
    )
    manifest = {
        "format": PACK_FORMAT,
        "generated_at": _iso(generated_at),
        "assessment": {
            "id": assessment_id,
            "kind": kind,
            "kind_name": KIND_NAMES[kind],
            "assessor": assessment.get("assessor"),
            "status": assessment.get("status"),
            "controls": list(assessment.get("controls") or []),
            "control_statuses": {
                str(r.get("control", {}).get("id")): r.get("status") for r in readiness
            },
        },
        "pdf": {"path": pdf_path, "sha256": _sha256(pdf), "size": len(pdf)},
        "files": rows,
        "evidence_not_included": missing,
    }
    contents[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    contents[README] = _readme(assessment_id, kind, generated_at, pdf_path, len(rows)).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(contents):
            info = zipfile.ZipInfo(path, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, whatever the host, so that the bytes do not vary
            info.external_attr = (0o100000 | _FILE_MODE) << 16
            archive.writestr(info, contents[path], compresslevel=9)
    return buffer.getvalue()


# -- checks and the manifest -------------------------------------------------------------------


def _identity(assessment: Mapping[str, Any]) -> tuple[str, str]:
    assessment_id = assessment.get("id")
    if not isinstance(assessment_id, str) or not assessment_id.strip():
        raise InvalidInput("assessment.id: missing; give the assessment's id (a UUID)")
    kind = assessment.get("kind")
    if kind not in KIND_NAMES:
        raise InvalidInput(
            f"assessment.kind: {str(kind)[:20]!r} is not an assessment kind; give "
            + ", ".join(KIND_NAMES)
        )
    return assessment_id.strip(), str(kind)


def _file_row(
    evidence: Mapping[str, Any],
    content: bytes,
    recorded: Mapping[str, Mapping[str, Any]],
    proofs: Mapping[str, Mapping[str, Any]],
) -> tuple[dict[str, Any], str]:
    evidence_id = evidence.get("id")
    if not isinstance(evidence_id, str) or not evidence_id:
        raise InvalidInput("files: an evidence record has no id; give each file with its record")
    name = str(evidence.get("name") or "")
    what = f"evidence {evidence_id} ({name or 'unnamed'})"
    expected = evidence.get("sha256")
    if not isinstance(expected, str) or not _SHA256.match(expected):
        raise InvalidInput(f"{what}: sha256 must be the 64 lower-case hex digits the ledger holds")
    known = recorded.get(evidence_id)
    if known is not None and known.get("sha256") != expected:
        raise InvalidInput(
            f"{what}: its sha256 differs from the assessment's record of it; pass the evidence "
            "record as the ledger holds it"
        )
    actual = _sha256(content)
    if actual != expected:
        raise InvalidInput(
            f"{what}: the file's bytes hash to {actual[:_SHORT_HASH]}..., not the "
            f"{expected[:_SHORT_HASH]}... the ledger recorded; the stored file was altered or "
            "damaged, so it cannot go in a pack: restore it from a backup (or record it anew) "
            "and build the pack again"
        )
    path = f"{EVIDENCE_DIR}/{expected}-{_safe_name(evidence)}"
    proof = proofs.get(evidence_id)
    ledger_index = evidence.get("ledger_index")
    row: dict[str, Any] = {
        "path": path,
        "evidence_id": evidence_id,
        "name": name,
        "title": str(evidence.get("title") or ""),
        "kind": evidence.get("kind"),
        "sha256": expected,
        "size": len(content),
        "media_type": evidence.get("media_type"),
        "recorded_at": _json_value(evidence.get("recorded_at")),
        "ledger_index": ledger_index,
        "inclusion_proof": None if proof is None else _proof(proof, ledger_index, what),
    }
    return row, path


def _proof(proof: Mapping[str, Any], ledger_index: object, what: str) -> dict[str, Any]:
    """An inclusion proof as plain JSON, checked for shape (its hashes are checked by whoever
    verifies it, against a checkpoint signed with the facility's verifier key)."""
    index, size = proof.get("index"), proof.get("size")
    hashes = proof.get("proof")
    if (
        not _is_int(index)
        or not _is_int(size)
        or not isinstance(proof.get("leaf_hash"), str)
        or not isinstance(proof.get("root"), str)
        or not isinstance(hashes, list)
        or not all(isinstance(h, str) for h in hashes)
    ):
        raise InvalidInput(
            f"{what}: the inclusion proof must have index, size, leaf_hash, root and proof "
            "(a list of base64 hashes), as `triage ledger prove` prints it"
        )
    if ledger_index is not None and index != ledger_index:
        raise InvalidInput(
            f"{what}: the inclusion proof is of ledger entry {index}, but the evidence was "
            f"recorded at entry {ledger_index}; prove entry {ledger_index}"
        )
    found = {
        "index": index,
        "size": size,
        "leaf_hash": proof["leaf_hash"],
        "root": proof["root"],
        "proof": list(hashes),
    }
    # Optional, and what makes the pack checkable with nothing else but the verifier key: the
    # entry's own bytes (base64) and the signed checkpoint the proof is against.
    for key in ("entry", "checkpoint"):
        if key in proof:
            if not isinstance(proof[key], str):
                raise InvalidInput(f"{what}: the proof's {key} must be text")
            found[key] = proof[key]
    return found


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _safe_name(evidence: Mapping[str, Any]) -> str:
    """A plain file name from the evidence's filename (its last part only) or else its name:
    never a path, and only letters, digits, '.', '_' and '-'."""
    raw = str(evidence.get("filename") or "")
    base = re.split(r"[/\\]", raw)[-1]
    cleaned = _ascii(base)
    if not cleaned:
        cleaned = _ascii(str(evidence.get("name") or "")) or "evidence"
    if "." not in cleaned:
        cleaned += _EXTENSIONS.get(str(evidence.get("media_type") or "").lower(), "")
    return cleaned[-_MAX_NAME:].lstrip(".-") or "evidence"


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _UNSAFE.sub("_", folded).strip("._-")


def _safe_token(text: str, fallback: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]", "_", text.strip())[:64] or fallback


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _iso(at: datetime) -> str:
    return _utc(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _zip_time(at: datetime) -> tuple[int, int, int, int, int, int]:
    moment = _utc(at)
    if moment.year < 1980:
        raise InvalidInput("generated_at: a zip cannot hold times before 1980; give the time now")
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def _readme(
    assessment_id: str, kind: str, generated_at: datetime, pdf_path: str, count: int
) -> str:
    return f"""Evidence pack: {KIND_NAMES[kind]} ({kind}) {assessment_id}
Generated {_iso(generated_at)} by device-triage.

What is here
  {pdf_path}
      The assessment: its scope, dates and outcome, every control with its status and
      evidence, the findings with their responses, and the remedial actions.
  {EVIDENCE_DIR}/
      {count} evidence file{"" if count == 1 else "s"}, each named <sha256>-<name>.
  {MANIFEST}
      For each file: its path here, evidence id, name, title, kind, SHA-256, size, when it
      was recorded, the index of the ledger entry that recorded it and, when given, that
      entry's inclusion proof; and the SHA-256 of the PDF.

How to check it

1. Recompute the SHA-256 of every file and compare it with the manifest. For example, in
   the unpacked directory:

       sha256sum {pdf_path} {EVIDENCE_DIR}/*

   or, comparing with the manifest directly (each file's name also starts with its SHA-256):

       {_CHECK_COMMAND}

   Every file must match. A file that does not is not the file the facility recorded.

2. Check that each digest is the one the facility's tamper-evident ledger recorded. The
   manifest gives the index of the ledger entry that recorded each file (an
   assurance.evidence_uploaded or assurance.evidence_generated entry, whose data names the
   file's sha256). With the facility's verifier key (a line like
   device-triage.local/NAME+abcd1234+AX..., obtained from the facility by a channel you
   trust):
     - check the signature of the checkpoint given with each proof ("checkpoint", a signed
       note) with that key, or take one yourself (`triage ledger checkpoint`, or
       GET /api/v1/ledger);
     - decode the entry ("entry", base64): it is canonical JSON whose data names the file's
       sha256; its leaf hash is SHA-256(0x00 || the entry's bytes);
     - check the entry's inclusion proof against the checkpoint's root and size, with
       triage.ledger.rfc6962.verify_inclusion(leaf_hash, N, S, proof, root), or get a
       fresh proof from `triage ledger prove --index N --size S`;
   (`triage verify RECEIPT --key KEY` makes the same checks of a device's receipt.)
   The auditor's guide (docs/auditors-guide.md) shows each step. `triage ledger verify`
   recomputes the whole ledger at the facility.

3. The evidence the PDF lists but this pack does not hold (if any) is listed under
   "evidence_not_included" in the manifest.
"""


# -- the PDF -----------------------------------------------------------------------------------


_TITLE = style("title", fontName="Helvetica-Bold", fontSize=20, leading=24)
_SUBTITLE = style("subtitle", fontName="Helvetica-Bold", fontSize=12, leading=15)
# Headings (and the note under a heading) keep with what follows, never alone at a page's foot.
_SECTION = style(
    "section",
    fontName="Helvetica-Bold",
    fontSize=12,
    leading=15,
    spaceBefore=8,
    spaceAfter=4,
    keepWithNext=1,
)
_HEADING = style(
    "heading", fontName="Helvetica-Bold", fontSize=9.5, leading=12, spaceBefore=4, keepWithNext=1
)
_NOTE = style("note", fontSize=8, leading=10, textColor=MUTED, keepWithNext=1)
_CELL_MONO = style("cellmono", fontName="Courier", fontSize=6.5, leading=8.5)


def _markup(value: object, limit: int | None = None) -> str:
    """``value`` as escaped Paragraph markup; line breaks kept, cut at ``limit`` characters."""
    text = printable_text("" if value is None else str(value)).strip()
    if limit is not None and len(text) > limit:
        text = text[:limit].rstrip() + " ... (cut short here; the full text is in the record)"
    return "<br/>".join(escape(line) for line in text.split("\n"))


def _p(value: object, style: ParagraphStyle, limit: int | None = None) -> Paragraph:
    return Paragraph(_markup(value, limit), style)


def _status(status: object, style: ParagraphStyle = CELL) -> Paragraph:
    text = str(status or "unknown")
    colour = _STATUS_COLOURS.get(text, "#1a1a1a")
    label = escape(printable_text(text.replace("_", " ")))
    return Paragraph(f"<font color='{colour}'><b>{label}</b></font>", style)


def _time(value: object) -> str:
    """A timestamp as 2026-12-03 10:00 UTC; a date as it is; nothing as 'not recorded'."""
    if value is None or value == "":
        return "not recorded"
    moment: datetime | None = value if isinstance(value, datetime) else None
    if isinstance(value, str) and "T" in value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
    if moment is not None:
        return _utc(moment).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _table(
    rows: list[list[Any]], widths: Sequence[float], header: bool = True, shade_first: bool = False
) -> Table:
    table = Table(rows, colWidths=list(widths), repeatRows=1 if header else 0)
    commands: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
        ("LINEABOVE", (0, 0), (-1, 0), 0.6, RULE),
    ]
    if header:
        commands += [
            ("BACKGROUND", (0, 0), (-1, 0), SHADE),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, _STRIPE]),
        ]
    if shade_first:
        commands.append(("BACKGROUND", (0, 0), (0, -1), SHADE))
    table.setStyle(TableStyle(commands))
    return table


def _cover(
    assessment: Mapping[str, Any],
    kind: str,
    facility_name: str,
    catalogue_label: str,
    generated_at: datetime,
) -> list[Flowable]:
    start, end = assessment.get("fieldwork_start"), assessment.get("fieldwork_end")
    if start or end:
        fieldwork = f"{_time(start) if start else 'not started'} to {_time(end) if end else '...'}"
    else:
        fieldwork = "not yet scheduled"
    facts: list[tuple[str, Paragraph]] = [
        ("Facility", _p(facility_name, BODY)),
        ("Assessment", _p(f"{KIND_NAMES[kind]} ({kind})", BODY)),
        ("Assessment id", _p(assessment.get("id"), BODY)),
        ("Assessor", _p(assessment.get("assessor") or "not recorded", BODY)),
        ("Scope", _p(assessment.get("scope") or "not recorded", BODY, _MAX_CELL)),
        ("Planned", _p(_time(assessment.get("planned_at")), BODY)),
        ("Fieldwork", _p(fieldwork, BODY)),
        ("Status", _status(assessment.get("status"), BODY)),
        ("Outcome", _p(_outcome_text(assessment.get("outcome")), BODY)),
        ("Control catalogue", _p(catalogue_label, BODY)),
        ("Pack generated", _p(_time(generated_at), BODY)),
    ]
    story: list[Flowable] = [
        _p("Evidence pack", _TITLE),
        Spacer(1, 1 * mm),
        _p(f"{KIND_NAMES[kind]} ({kind})", _SUBTITLE),
        _p(facility_name, SMALL),
        Spacer(1, 5 * mm),
        _table(
            [[_p(label, LABEL), value] for label, value in facts],
            [34 * mm, WIDTH - 34 * mm],
            header=False,
            shade_first=True,
        ),
    ]
    outcome = assessment.get("outcome")
    steps = outcome.get("steps") if isinstance(outcome, Mapping) else None
    if steps:
        rows: list[list[Any]] = [[_p(h, HEAD) for h in ("#", "Step", "Due", "Done")]]
        for number, step in enumerate(steps, start=1):
            done = step.get("done_at")
            rows.append(
                [
                    _p(str(number), CELL),
                    _p(step.get("description"), CELL, _MAX_CELL),
                    _p(_time(step.get("due")), CELL),
                    _p(_time(done) if done else "not yet", CELL),
                ]
            )
        story += [
            Spacer(1, 4 * mm),
            _p("Steps the outcome requires", _HEADING),
            _table(rows, [8 * mm, WIDTH - 68 * mm, 25 * mm, 35 * mm]),
        ]
    return story


def _outcome_text(outcome: object) -> str:
    if not isinstance(outcome, Mapping):
        return "not yet decided"
    result = str(outcome.get("result") or "")
    name = _OUTCOMES.get(result, result.replace("_", " ") or "not recorded")
    steps = outcome.get("steps") or []
    tail = f"; {len(steps)} step{'' if len(steps) == 1 else 's'} required (below)" if steps else ""
    return f"{name}, decided {_time(outcome.get('decided_at'))}{tail}"


def _summary(
    assessment: Mapping[str, Any], readiness: Sequence[Mapping[str, Any]]
) -> list[Flowable]:
    counts: dict[str, int] = {}
    for row in readiness:
        status = str(row.get("status"))
        counts[status] = counts.get(status, 0) + 1
    order = ("ready", "stale", "missing", "not_applicable")
    parts = [f"{counts.get(s, 0)} {s.replace('_', ' ')}" for s in order]
    parts += [f"{n} {s}" for s, n in sorted(counts.items()) if s not in order]
    findings = list(assessment.get("findings") or [])
    actions = list(assessment.get("actions") or [])
    open_findings = sum(f.get("status") != "closed" for f in findings)
    open_actions = sum(a.get("status") != "done" for a in actions)
    lines = [
        f"Controls: {len(readiness)} ({', '.join(parts)}).",
        f"Findings: {len(findings)} ({open_findings} open). "
        f"Remedial actions: {len(actions)} ({open_actions} open).",
    ]
    return [Spacer(1, 4 * mm), *(_p(line, BODY) for line in lines)]


def _evidence_hashes(assessment: Mapping[str, Any]) -> dict[str, str]:
    return {
        str(e.get("id")): str(e.get("sha256"))
        for e in assessment.get("evidence") or []
        if isinstance(e.get("sha256"), str)
    }


def _controls(readiness: Sequence[Mapping[str, Any]], hashes: Mapping[str, str]) -> list[Flowable]:
    story: list[Flowable] = [_p("Controls", _SECTION)]
    if not readiness:
        return [*story, _p("No controls are in this assessment's scope.", BODY)]
    rows: list[list[Any]] = [
        [_p(h, HEAD) for h in ("Control", "Title", "Status", "Evidence expected")]
    ]
    for row in readiness:
        control = row.get("control") or {}
        status: list[Flowable] = [_status(row.get("status"))]
        if row.get("reason"):
            status.append(_p(row["reason"], CELL, 300))
        rows.append(
            [
                _p(control.get("id"), CELL),
                _p(control.get("title"), CELL, 400),
                status,
                _evidence_cell(row.get("evidence") or [], hashes),
            ]
        )
    widths = [18 * mm, 55 * mm, 24 * mm, WIDTH - 97 * mm]
    return [*story, _table(rows, widths)]


def _evidence_cell(items: Sequence[Mapping[str, Any]], hashes: Mapping[str, str]) -> list[Any]:
    if not items:
        return [_p("none expected", CELL)]
    cell: list[Any] = []
    for item in items[:20]:
        state = str(item.get("state") or "unknown")
        colour = _STATUS_COLOURS.get(state, "#1a1a1a")
        sha = item.get("sha256") or hashes.get(str(item.get("evidence_id")))
        details = [f"<font color='{colour}'><b>{escape(state)}</b></font>"]
        if item.get("recorded_at"):
            details.append(escape(_time(item["recorded_at"])))
        if sha:
            details.append(f"<font face='Courier'>sha256 {escape(str(sha)[:_SHORT_HASH])}</font>")
        cell.append(
            Paragraph(
                f"{_markup(item.get('title') or item.get('name'), 200)}: " + ", ".join(details),
                CELL,
            )
        )
    if len(items) > 20:
        cell.append(_p(f"and {len(items) - 20} more", CELL))
    return cell


def _findings(assessment: Mapping[str, Any]) -> list[Flowable]:
    findings = list(assessment.get("findings") or [])
    story: list[Flowable] = [_p("Findings", _SECTION)]
    if not findings:
        return [*story, _p("No findings were raised.", BODY)]
    for number, finding in enumerate(findings, start=1):
        heading = (
            f"Finding {number}: control {finding.get('control_id') or 'not given'}, "
            f"{finding.get('severity') or 'unrated'} severity, {finding.get('status') or 'open'}"
        )
        story.append(_p(heading, _HEADING))
        story.append(
            _p(f"Raised {_time(finding.get('raised_at'))}. Id {finding.get('id')}.", _NOTE)
        )
        story.append(_p(finding.get("description"), BODY))
        response = finding.get("response")
        if isinstance(response, Mapping):
            story.append(
                _p(
                    f"Response by {response.get('by') or 'not recorded'}, "
                    f"{_time(response.get('responded_at'))}; due {_time(response.get('due'))}:",
                    _NOTE,
                )
            )
            story.append(_p(response.get("text"), BODY))
        else:
            story.append(_p("No response yet.", LABEL))
        story.append(Spacer(1, 2 * mm))
    return story


def _actions(assessment: Mapping[str, Any]) -> list[Flowable]:
    actions = list(assessment.get("actions") or [])
    story: list[Flowable] = [_p("Remedial actions", _SECTION)]
    if not actions:
        return [*story, _p("No remedial actions were set.", BODY)]
    numbers = {str(f.get("id")): n for n, f in enumerate(assessment.get("findings") or [], start=1)}
    rows: list[list[Any]] = [[_p(h, HEAD) for h in ("Finding", "Action", "Owner", "Due", "Status")]]
    for action in actions:
        number = numbers.get(str(action.get("finding_id")))
        done = action.get("done_at")
        status = str(action.get("status") or "open")
        rows.append(
            [
                _p(f"Finding {number}" if number else "not linked", CELL),
                _p(action.get("description"), CELL, _MAX_CELL),
                _p(action.get("owner") or "not assigned", CELL),
                _p(_time(action.get("due")), CELL),
                _p(f"{status}, {_time(done)}" if done else status, CELL),
            ]
        )
    widths = [18 * mm, WIDTH - 106 * mm, 28 * mm, 24 * mm, 36 * mm]
    return [*story, _table(rows, widths)]


def _evidence_list(assessment: Mapping[str, Any]) -> list[Flowable]:
    evidence = list(assessment.get("evidence") or [])
    story: list[Flowable] = [_p("Evidence recorded for this assessment", _SECTION)]
    if not evidence:
        return [*story, _p("No evidence is recorded for this assessment.", BODY)]
    story.append(
        _p(
            "Each file is in the pack under evidence/ named by its SHA-256; the ledger entry at "
            "the index shown recorded that digest.",
            _NOTE,
        )
    )
    rows: list[list[Any]] = [
        [_p(h, HEAD) for h in ("Evidence", "Recorded", "Ledger entry", "SHA-256")]
    ]
    for item in evidence:
        index = item.get("ledger_index")
        rows.append(
            [
                _p(
                    f"{item.get('title') or item.get('name')} ({item.get('kind')}, "
                    f"{item.get('name')})",
                    CELL,
                    300,
                ),
                _p(_time(item.get("recorded_at")), CELL),
                _p("not recorded" if index is None else str(index), CELL),
                _p(item.get("sha256"), _CELL_MONO),
            ]
        )
    widths = [WIDTH - 134 * mm, 26 * mm, 16 * mm, 92 * mm]
    return [*story, _table(rows, widths)]


class EvidencePacks:
    """``PackBuilder``: the report and the pack above from the services' records."""

    def report(
        self,
        assessment: Assessment,
        readiness: Sequence[ControlReadiness],
        facility_name: str,
        catalogue_label: str,
        at: datetime,
    ) -> bytes:
        rows = [r.to_json() for r in readiness]
        return render_assessment_pdf(assessment.to_json(), rows, facility_name, catalogue_label, at)

    def pack(
        self,
        assessment: Assessment,
        readiness: Sequence[ControlReadiness],
        files: Sequence[tuple[AttachedEvidence, bytes]],
        proofs: Mapping[str, EntryProof],
        report: bytes,
        at: datetime,
    ) -> bytes:
        proofs_json = {
            evidence_id: {
                **inclusion_json(p.proof),
                "entry": b64(p.entry),
                "checkpoint": p.checkpoint,
            }
            for evidence_id, p in proofs.items()
        }
        listed = [(item.to_json(), content) for item, content in files]
        rows = [r.to_json() for r in readiness]
        return build_pack(assessment.to_json(), rows, listed, proofs_json, report, at)

    def filename(self, assessment: Assessment) -> str:
        return pack_filename(assessment.to_json())
