"""Records of the assurance area as the current-state tables hold them: assessments with their
findings, remedial actions, approval steps and attached evidence, the provider's recorded SEC
Party details, and evidence files.

``to_json`` gives each record as the API, the command line and the exports show it: dates as
YYYY-MM-DD, times as RFC 3339 UTC with a 'Z'.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from triage.domain.assessment import Kind, Result, SecParty, Severity
from triage.ledger.entry import format_time


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _time(value: datetime | None) -> str | None:
    return None if value is None else format_time(value)


@dataclass(frozen=True)
class RecordedParty:
    """The provider's SEC Party details, and who recorded them when."""

    party: SecParty
    recorded_by: str
    recorded_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "party_id": self.party.party_id,
            "name": self.party.name,
            "roles": list(self.party.roles),
            "recorded_by": self.recorded_by,
            "recorded_at": format_time(self.recorded_at),
        }


@dataclass(frozen=True)
class Finding:
    """A finding of the assessor against an assessed control, and the provider's response."""

    id: str
    assessment_id: str
    control_id: str
    severity: Severity
    description: str
    status: str  # open or closed
    raised_at: datetime
    response: str | None = None
    response_due: date | None = None
    responded_by: str | None = None
    responded_at: datetime | None = None
    closed_at: datetime | None = None
    closure: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def to_json(self) -> dict[str, Any]:
        """The finding on its own (as the finding's routes and commands answer)."""
        return {
            "id": self.id,
            "assessment_id": self.assessment_id,
            "control_id": self.control_id,
            "severity": self.severity.value,
            "description": self.description,
            "status": self.status,
            "raised_at": format_time(self.raised_at),
            "response": self.response,
            "response_due": _day(self.response_due),
            "responded_by": self.responded_by,
            "responded_at": _time(self.responded_at),
            "closed_at": _time(self.closed_at),
            "closure": self.closure,
        }

    def assessment_json(self) -> dict[str, Any]:
        """The finding within its assessment (the shape the exports read)."""
        return {
            "id": self.id,
            "control_id": self.control_id,
            "severity": self.severity.value,
            "description": self.description,
            "raised_at": format_time(self.raised_at),
            "response": None
            if self.response is None
            else {
                "text": self.response,
                "due": _day(self.response_due),
                "responded_at": _time(self.responded_at),
                "by": self.responded_by,
            },
            "status": self.status,
            "closure": self.closure,
        }


@dataclass(frozen=True)
class RemedialAction:
    """A remedial action for a finding, with an owner and a due date."""

    id: str
    finding_id: str
    description: str
    owner: str
    due: date
    status: str  # open or done
    done_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "finding_id": self.finding_id,
            "description": self.description,
            "owner": self.owner,
            "due": self.due.isoformat(),
            "status": self.status,
            "done_at": _time(self.done_at),
        }


@dataclass(frozen=True)
class ApprovalStep:
    """An additional step an approval is subject to, as recorded."""

    id: str
    assessment_id: str
    description: str
    due: date
    done_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The step on its own (as the step's route and command answer)."""
        return {
            "id": self.id,
            "assessment_id": self.assessment_id,
            "description": self.description,
            "due": self.due.isoformat(),
            "done_at": _time(self.done_at),
        }

    def assessment_json(self) -> dict[str, Any]:
        """The step within its assessment's outcome."""
        return {
            "id": self.id,
            "description": self.description,
            "due": self.due.isoformat(),
            "done_at": _time(self.done_at),
        }


@dataclass(frozen=True)
class AttachedEvidence:
    """Evidence put in front of the assessor, with the index of its ledger entry."""

    id: str
    kind: str
    name: str
    title: str
    sha256: str
    recorded_at: datetime
    filename: str | None
    media_type: str
    ledger_index: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "title": self.title,
            "sha256": self.sha256,
            "recorded_at": format_time(self.recorded_at),
            "filename": self.filename,
            "media_type": self.media_type,
            "ledger_index": self.ledger_index,
        }


@dataclass(frozen=True)
class AssessmentSummary:
    """An assessment as the schedule and the gate see it (no findings)."""

    id: str
    kind: Kind
    result: Result | None
    planned_at: date
    fieldwork_end: date | None
    decided_at: datetime | None


@dataclass(frozen=True)
class Assessment:
    """A security assessment with its findings, actions, outcome and attached evidence."""

    id: str
    kind: Kind
    assessor: str
    scope: str
    status: str
    planned_at: date
    fieldwork_start: date | None
    fieldwork_end: date | None
    controls: tuple[str, ...]
    findings: tuple[Finding, ...] = ()
    actions: tuple[RemedialAction, ...] = ()
    result: Result | None = None
    decided_at: datetime | None = None
    steps: tuple[ApprovalStep, ...] = ()
    evidence: tuple[AttachedEvidence, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The assessment as the API shows it and the exports (OSCAL, the evidence pack) read."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "title": self.kind.long_name,
            "assessor": self.assessor,
            "scope": self.scope,
            "status": self.status,
            "planned_at": self.planned_at.isoformat(),
            "fieldwork_start": _day(self.fieldwork_start),
            "fieldwork_end": _day(self.fieldwork_end),
            "controls": list(self.controls),
            "findings": [f.assessment_json() for f in self.findings],
            "actions": [a.to_json() for a in self.actions],
            "outcome": None
            if self.result is None
            else {
                "result": self.result.value,
                "decided_at": _time(self.decided_at),
                "steps": [s.assessment_json() for s in self.steps],
            },
            "evidence": [e.to_json() for e in self.evidence],
        }


@dataclass(frozen=True)
class Evidence:
    """A piece of evidence: a file stored by its SHA-256 and recorded in the ledger."""

    id: str
    kind: str  # automatic or upload
    name: str
    title: str
    sha256: str
    size: int
    media_type: str
    filename: str | None
    control_ids: tuple[str, ...]
    summary: Mapping[str, Any]  # the evidence document's headline figures, as stored JSON
    recorded_by: str
    recorded_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "title": self.title,
            "sha256": self.sha256,
            "size": self.size,
            "media_type": self.media_type,
            "filename": self.filename,
            "control_ids": list(self.control_ids),
            "summary": dict(self.summary),
            "recorded_by": self.recorded_by,
            "recorded_at": format_time(self.recorded_at),
        }


@dataclass(frozen=True)
class CheckedEvidence:
    """Evidence with whether its file still matches its SHA-256 (ok, missing or altered)."""

    evidence: Evidence
    integrity: str

    def to_json(self) -> dict[str, Any]:
        return {**self.evidence.to_json(), "integrity": self.integrity}


@dataclass(frozen=True)
class FlaggedEvidence:
    """Evidence whose file no longer matches its recorded SHA-256."""

    id: str
    name: str
    sha256: str
    state: str  # missing or altered

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "sha256": self.sha256, "state": self.state}
