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

from triage.domain.assessment import Due, Kind, Result, SecParty, Severity
from triage.domain.catalogue import Catalogue, Control
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


# -- the facility's standing (assessment.status) ---------------------------------------------


@dataclass(frozen=True)
class StepState:
    """An additional step of the last approval, and whether it is overdue today."""

    id: str
    description: str
    due: date
    done_at: datetime | None
    overdue: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "description": self.description,
            "due": self.due.isoformat(),
            "done_at": _time(self.done_at),
            "overdue": self.overdue,
        }


@dataclass(frozen=True)
class Approval:
    """Whether the facility is approved now, why, and the last outcome's steps."""

    approved: bool
    why: str
    result: Result | None
    steps: tuple[StepState, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "approved": self.approved,
            "why": self.why,
            "result": None if self.result is None else self.result.value,
            "steps": [s.to_json() for s in self.steps],
        }


@dataclass(frozen=True)
class CommissioningState:
    """Commissioning mode as recorded, and whether it is on now."""

    until: datetime
    reason: str
    active: bool

    def to_json(self) -> dict[str, Any]:
        return {"until": format_time(self.until), "reason": self.reason, "active": self.active}


@dataclass(frozen=True)
class NextAssessment:
    """The assessment due next (the schedule's answer), with the year's triage volume that
    counts towards its type."""

    schedule: Due
    devices_last_12_months: int

    def to_json(self) -> dict[str, Any]:
        return {**self.schedule.to_json(), "devices_last_12_months": self.devices_last_12_months}


@dataclass(frozen=True)
class OverdueFinding:
    """A finding still open after the date its response promised."""

    assessment_id: str
    finding_id: str
    control_id: str
    due: date

    def to_json(self) -> dict[str, Any]:
        return {
            "assessment_id": self.assessment_id,
            "finding_id": self.finding_id,
            "control_id": self.control_id,
            "due": self.due.isoformat(),
        }


@dataclass(frozen=True)
class OverdueAction:
    """A remedial action still open after its due date."""

    assessment_id: str
    action_id: str
    owner: str
    due: date

    def to_json(self) -> dict[str, Any]:
        return {
            "assessment_id": self.assessment_id,
            "action_id": self.action_id,
            "owner": self.owner,
            "due": self.due.isoformat(),
        }


@dataclass(frozen=True)
class AssuranceStatus:
    """The provider, the approval, commissioning mode, whether triage may go ahead, the next
    assessment, and what is overdue."""

    party: RecordedParty | None
    approval: Approval
    commissioning: CommissioningState | None
    may_triage: bool
    may_triage_because: str
    next_assessment: NextAssessment
    overdue_findings: tuple[OverdueFinding, ...]
    overdue_actions: tuple[OverdueAction, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "party": None if self.party is None else self.party.to_json(),
            "approval": self.approval.to_json(),
            "commissioning": None if self.commissioning is None else self.commissioning.to_json(),
            "may_triage": self.may_triage,
            "may_triage_because": self.may_triage_because,
            "next_assessment": self.next_assessment.to_json(),
            "overdue": {
                "findings": [f.to_json() for f in self.overdue_findings],
                "actions": [a.to_json() for a in self.overdue_actions],
            },
        }


# -- controls ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdoptedCatalogue:
    """The catalogue put in force last: its identity, YAML text, and who adopted it when."""

    name: str
    version: str
    sha256: str
    text: str
    adopted_by: str
    adopted_at: datetime


@dataclass(frozen=True)
class ControlStatus:
    """A control in force, with whether it applies to this facility (and why not)."""

    control: Control
    applicable: bool
    reason: str | None

    def to_json(self) -> dict[str, Any]:
        return {**self.control.to_json(), "applicable": self.applicable, "reason": self.reason}


@dataclass(frozen=True)
class ControlsInForce:
    """The catalogue in force (or the packaged one, not yet adopted) and every control."""

    catalogue: Catalogue
    adopted: AdoptedCatalogue | None
    packaged: Catalogue
    controls: tuple[ControlStatus, ...]

    def to_json(self) -> dict[str, Any]:
        adopted = self.adopted
        return {
            "catalogue": {
                "name": self.catalogue.name,
                "title": self.catalogue.title,
                "version": self.catalogue.version,
                "sha256": self.catalogue.sha256,
                "source": self.catalogue.source,
                "adopted": adopted is not None,
                "adopted_at": None if adopted is None else format_time(adopted.adopted_at),
                "adopted_by": None if adopted is None else adopted.adopted_by,
                "packaged_version": self.packaged.version,
                "packaged_differs": self.packaged.sha256 != self.catalogue.sha256,
            },
            "controls": [c.to_json() for c in self.controls],
        }


@dataclass(frozen=True)
class Applicability:
    """A control marked applicable or not, with the reason given."""

    control_id: str
    applicable: bool
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"control_id": self.control_id, "applicable": self.applicable, "reason": self.reason}


# -- what automatic evidence and the dashboards count ----------------------------------------


@dataclass(frozen=True)
class PolicyInForce:
    """The active tamper policy: its hash, id, version and when it was activated."""

    hash: str
    policy_id: str
    version: str
    activated_at: datetime


@dataclass(frozen=True)
class DecisionCount:
    """Decisions of one outcome, by the policy or an override, under one policy hash."""

    outcome: str
    policy_hash: str | None
    by: str  # policy or override
    count: int


@dataclass(frozen=True)
class DayOutcomes:
    """Decisions of one outcome on one day (UTC, YYYY-MM-DD)."""

    day: str
    outcome: str
    count: int


@dataclass(frozen=True)
class BenchResets:
    """Verified resets done by the tools of one bench (none: tools not kept at a bench)."""

    bench: str | None
    count: int


@dataclass(frozen=True)
class JobCount:
    """Triage jobs in one state with one decided outcome (none while undecided)."""

    state: str
    outcome: str | None
    count: int
