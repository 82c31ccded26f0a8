"""The control catalogue: what a Triage Facility must show an assessor, control by control.

The catalogue is data (``domain/controls/*.yaml``), versioned: clause numbers drift between SEC
versions, so nothing here names a clause. Each control says what it requires in our words and
which evidence an assessor expects, and whether the system produces that evidence itself
(``automatic``, by a named generator) or the provider uploads it. Providers add controls of
their own and mark controls not applicable, with a reason; both are ledger entries.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from triage.domain.bounded import InputLimitError, load_yaml
from triage.errors import InvalidInput
from triage.ledger.entry import format_time

MAX_CATALOGUE_BYTES = 1024 * 1024
# The evidence the system can produce from its own record, by generator name.
AUTOMATIC = (
    "ledger_verification",
    "replay_check",
    "access_review",
    "tool_inventory",
    "breaches",
    "seal_reconciliation",
    "tamper_policy",
    "triage_outcomes",
    "assessments",
    "remediation",
    "incident_register",
)
_ID = re.compile(r"^[A-Z][A-Za-z0-9.-]{0,31}$")
_NAME = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")
_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+-]{0,31}$")
PROVIDER_PREFIX = "P-"  # ids of the provider's own controls, never clashing with the catalogue's


class CatalogueError(InvalidInput):
    """A catalogue file, or a provider's control, that is not well formed."""


@dataclass(frozen=True)
class Expected:
    """One piece of evidence a control expects."""

    kind: str  # "automatic" or "upload"
    name: str  # the generator (automatic) or the document's short name (upload)
    title: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "title": self.title}


@dataclass(frozen=True)
class Control:
    """One requirement and the evidence that shows it is met."""

    id: str
    clause: str
    group: str
    title: str
    requirement: str
    evidence: tuple[Expected, ...]
    provider: bool = False  # added by the provider, not from the catalogue file

    @property
    def produced_by_system(self) -> str:
        """'all', 'some' or 'none' of the expected evidence is produced by the system."""
        automatic = sum(e.kind == "automatic" for e in self.evidence)
        if automatic == len(self.evidence):
            return "all"
        return "some" if automatic else "none"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "clause": self.clause,
            "group": self.group,
            "title": self.title,
            "requirement": self.requirement,
            "evidence": [e.to_json() for e in self.evidence],
            "produced_by_system": self.produced_by_system,
            "provider": self.provider,
        }


@dataclass(frozen=True)
class Catalogue:
    """A catalogue file as loaded: its identity, version, digest and controls in order."""

    name: str
    title: str
    version: str
    published: str
    source: str
    sha256: str
    controls: tuple[Control, ...]

    def control(self, control_id: str) -> Control | None:
        return next((c for c in self.controls if c.id == control_id), None)


def _text(obj: dict[str, Any], key: str, where: str, longest: int = 2000) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(f"{where}: '{key}' must be non-empty text")
    cleaned = " ".join(value.split())
    if len(cleaned) > longest:
        raise CatalogueError(f"{where}: '{key}' is longer than {longest} characters")
    return cleaned


def _expected(raw: Any, where: str) -> Expected:
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: each evidence item is a mapping with kind, name, title")
    unknown = set(raw) - {"kind", "name", "title"}
    if unknown:
        raise CatalogueError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    kind = raw.get("kind")
    name = _text(raw, "name", where, 64)
    if kind == "automatic":
        if name not in AUTOMATIC:
            raise CatalogueError(
                f"{where}: no automatic evidence named {name!r}; the system produces "
                + ", ".join(AUTOMATIC)
            )
    elif kind == "upload":
        if not _NAME.match(name):
            raise CatalogueError(f"{where}: upload name {name!r}: 2-64 of a-z, 0-9, '_', '-'")
    else:
        raise CatalogueError(f"{where}: evidence kind must be 'automatic' or 'upload'")
    return Expected(kind, name, _text(raw, "title", where, 200))


def control_from(raw: Any, where: str, provider: bool = False) -> Control:
    """One control from its mapping, checked."""
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: a control is a mapping")
    allowed = {"id", "clause", "group", "title", "requirement", "evidence"}
    unknown = set(raw) - allowed
    if unknown:
        raise CatalogueError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    control_id = _text(raw, "id", where, 32)
    if not _ID.match(control_id):
        raise CatalogueError(f"{where}: id {control_id!r}: a letter, then letters, digits, '.' '-'")
    if provider != control_id.startswith(PROVIDER_PREFIX):
        raise CatalogueError(
            f"{where}: the provider's own controls, and only they, have ids starting "
            f"{PROVIDER_PREFIX!r}"
        )
    items = raw.get("evidence")
    if not isinstance(items, list) or not items:
        raise CatalogueError(f"{where}: 'evidence' lists at least one expected piece of evidence")
    evidence = tuple(_expected(e, f"{where} evidence {i + 1}") for i, e in enumerate(items))
    names = [(e.kind, e.name) for e in evidence]
    if len(set(names)) != len(names):
        raise CatalogueError(f"{where}: the same evidence is listed twice")
    return Control(
        id=control_id,
        clause=_text(raw, "clause", where, 64),
        group=_text(raw, "group", where, 64),
        title=_text(raw, "title", where, 200),
        requirement=_text(raw, "requirement", where),
        evidence=evidence,
        provider=provider,
    )


def parse_catalogue(text: str) -> Catalogue:
    """A catalogue from its YAML text, checked strictly (every problem names where it is)."""
    try:
        raw = load_yaml(text, "catalogue", max_bytes=MAX_CATALOGUE_BYTES)
    except InputLimitError as exc:
        raise CatalogueError(str(exc)) from None
    if not isinstance(raw, dict):
        raise CatalogueError("catalogue: the file must be a mapping")
    unknown = set(raw) - {"catalogue", "title", "version", "published", "source", "controls"}
    if unknown:
        raise CatalogueError(f"catalogue: unknown keys {', '.join(sorted(unknown))}")
    version = raw.get("version")
    if not isinstance(version, str | int | float) or isinstance(version, bool):
        raise CatalogueError("catalogue: 'version' must be a short version string like 2026.11.1")
    version = str(version)
    if not _VERSION.fullmatch(version):
        raise CatalogueError("catalogue: 'version' must be a short version string like 2026.11.1")
    items = raw.get("controls")
    if not isinstance(items, list) or not items:
        raise CatalogueError("catalogue: 'controls' must list at least one control")
    controls = tuple(control_from(c, f"control {i + 1}") for i, c in enumerate(items))
    ids = [c.id for c in controls]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise CatalogueError(f"catalogue: control ids listed twice: {', '.join(twice)}")
    return Catalogue(
        name=_text(raw, "catalogue", "catalogue", 64),
        title=_text(raw, "title", "catalogue", 200),
        version=version,
        published=str(raw.get("published", "")),
        source=_text(raw, "source", "catalogue"),
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        controls=controls,
    )


_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]")


def evidence_filename(name: str) -> str:
    """An uploaded file's name as shown and offered for download: a name, never a path (a name
    with a directory in it is refused), with unusual characters replaced."""
    text = name.strip()
    if "/" in text or "\\" in text or text in {".", ".."} or "\x00" in text:
        raise InvalidInput(f"filename: {text[:60]!r} is a path; give the file's name alone")
    cleaned = _UNSAFE.sub("_", text).strip(" .")
    if len(cleaned) > 120:  # shortened before the extension, which is kept
        stem, dot, extension = cleaned.rpartition(".")
        keep = f"{dot}{extension}" if dot and stem and len(extension) <= 10 else ""
        cleaned = (cleaned[: 120 - len(keep)] if not keep else stem[: 120 - len(keep)]).rstrip(
            " ."
        ) + keep
    if not cleaned:
        raise InvalidInput("filename: give the file's name (like pen-test-2026.pdf)")
    return cleaned


def upload_name(name: str) -> str:
    """The short name an uploaded document is filed under (as in the catalogue)."""
    cleaned = name.strip().lower()
    if not _NAME.match(cleaned):
        raise InvalidInput(
            "name: 2-64 of a-z, 0-9, '_' and '-', starting with a letter (like penetration-test)"
        )
    return cleaned


# -- readiness: is each control's evidence present and fresh? --------------------------------

FRESH_DAYS = {"automatic": 31, "upload": 366}  # older than this, evidence is stale


@dataclass(frozen=True)
class EvidenceRecord:
    """What readiness needs of one stored piece of evidence."""

    id: str
    kind: str
    name: str
    recorded_at: datetime
    integrity: str = "ok"  # ok, missing or altered (the file against its recorded digest)


@dataclass(frozen=True)
class ExpectedState:
    """One piece of evidence a control expects, and the latest on record for it."""

    expected: Expected
    state: str  # fresh, stale, missing or altered
    evidence_id: str | None
    recorded_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.expected.to_json(),
            "state": self.state,
            "evidence_id": self.evidence_id,
            "recorded_at": None if self.recorded_at is None else format_time(self.recorded_at),
        }


@dataclass(frozen=True)
class ControlReadiness:
    """A control with its evidence's states and its own: ready, stale, missing or
    not_applicable (with the reason)."""

    control: Control
    status: str
    reason: str | None
    evidence: tuple[ExpectedState, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "control": self.control.to_json(),
            "status": self.status,
            "reason": self.reason,
            "evidence": [e.to_json() for e in self.evidence],
        }


def readiness(
    controls: Sequence[Control],
    not_applicable: Mapping[str, str],
    records: Sequence[EvidenceRecord],
    at: datetime,
) -> list[ControlReadiness]:
    """For each control: every expected piece of evidence as fresh, stale, missing or altered,
    and the control as ready, stale, missing or not_applicable (with the reason)."""
    latest: dict[tuple[str, str], EvidenceRecord] = {}
    for record in records:
        key = (record.kind, record.name)
        if key not in latest or record.recorded_at > latest[key].recorded_at:
            latest[key] = record
    rows = []
    for control in controls:
        items = []
        for expected in control.evidence:
            found = latest.get((expected.kind, expected.name))
            if found is None:
                state = "missing"
            elif found.integrity != "ok":
                state = "altered" if found.integrity == "altered" else "missing"
            elif at - found.recorded_at > timedelta(days=FRESH_DAYS[expected.kind]):
                state = "stale"
            else:
                state = "fresh"
            items.append(
                ExpectedState(
                    expected,
                    state,
                    None if found is None else found.id,
                    None if found is None else found.recorded_at,
                )
            )
        states = {item.state for item in items}
        if control.id in not_applicable:
            status = "not_applicable"
        elif states & {"missing", "altered"}:
            status = "missing"
        elif "stale" in states:
            status = "stale"
        else:
            status = "ready"
        rows.append(ControlReadiness(control, status, not_applicable.get(control.id), tuple(items)))
    return rows
