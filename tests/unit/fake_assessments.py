"""The assessments' fake repository (uow.assessments)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import cast

from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
from triage.domain.assessment import Commissioning, Kind, Result, SecParty, Severity
from triage.domain.assurance_records import (
    ApprovalStep,
    Assessment,
    AssessmentSummary,
    AttachedEvidence,
    Finding,
    RecordedParty,
    RemedialAction,
)
from triage.ledger.entry import Entry, parse_time
from triage.services.ports import AssuranceRepository, JobRepository

_EVERY = 10**9


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


@dataclasses.dataclass
class _Planned:
    """An assessment as its own row holds it: without findings, actions, steps or evidence."""

    assessment: Assessment
    evidence_ids: list[str]
    created_at: datetime


@area("assessments")
class FakeAssessmentRepository(FakeTables):
    """``AssessmentRepository``, in memory.

    An assessment's attached evidence is read from the assurance fake and the triage volume
    from the jobs fake, as the SQL repository joins those tables."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.recorded_party: RecordedParty | None = None
        self.commissionings: dict[str, Commissioning] = {}  # by facility id
        self.planned: dict[str, _Planned] = {}
        self.findings: dict[str, Finding] = {}
        self.actions: dict[str, RemedialAction] = {}
        self.steps_by_id: dict[str, ApprovalStep] = {}

    # -- projections ------------------------------------------------------------------------

    @projects("provider.party_recorded")
    def _party(self, entry: Entry, index: int) -> None:
        data = entry.data
        party = SecParty(data["party_id"], data["name"], tuple(data["roles"]))
        self.recorded_party = RecordedParty(party, entry.actor.id, entry.at)

    @projects("facility.commissioning_started", "facility.commissioning_ended")
    def _commissioning(self, entry: Entry, index: int) -> None:
        self.commissionings.pop(entry.facility, None)
        if entry.type == "facility.commissioning_started":
            until = parse_time(entry.data["until"])
            self.commissionings[entry.facility] = Commissioning(until, entry.data["reason"])

    @projects("assessment.planned")
    def _planned(self, entry: Entry, index: int) -> None:
        data = entry.data
        planned_at = _day(data["planned_at"])
        assert planned_at is not None
        found = Assessment(
            id=data["assessment_id"],
            kind=Kind(data["kind"]),
            assessor=data["assessor"],
            scope=data["scope"],
            status="planned",
            planned_at=planned_at,
            fieldwork_start=None,
            fieldwork_end=None,
            controls=tuple(data["controls"]),
        )
        self.planned[found.id] = _Planned(found, [], entry.at)

    def _change(self, assessment_id: str, **values: object) -> None:
        row = self.planned.get(assessment_id)
        if row is not None:  # as an SQL update of no row: nothing happens
            row.assessment = dataclasses.replace(row.assessment, **values)  # type: ignore[arg-type]

    @projects("assessment.fieldwork_recorded")
    def _fieldwork(self, entry: Entry, index: int) -> None:
        data = entry.data
        self._change(
            data["assessment_id"],
            fieldwork_start=_day(data["start"]),
            fieldwork_end=_day(data["end"]),
            status="fieldwork",
        )

    @projects("assessment.evidence_attached")
    def _evidence(self, entry: Entry, index: int) -> None:
        row = self.planned.get(entry.data["assessment_id"])
        if row is not None:
            row.evidence_ids = list(entry.data["evidence_ids"])

    @projects("assessment.finding_raised")
    def _finding(self, entry: Entry, index: int) -> None:
        data = entry.data
        self.findings[data["finding_id"]] = Finding(
            id=data["finding_id"],
            assessment_id=data["assessment_id"],
            control_id=data["control_id"],
            severity=Severity(data["severity"]),
            description=data["description"],
            status="open",
            raised_at=entry.at,
        )

    def _change_finding(self, finding_id: str, **values: object) -> None:
        found = self.findings.get(finding_id)
        if found is not None:
            self.findings[finding_id] = dataclasses.replace(found, **values)  # type: ignore[arg-type]

    @projects("assessment.finding_responded")
    def _response(self, entry: Entry, index: int) -> None:
        data = entry.data
        self._change_finding(
            data["finding_id"],
            response=data["text"],
            response_due=_day(data["due"]),
            responded_by=entry.actor.id,
            responded_at=entry.at,
        )

    @projects("assessment.finding_closed")
    def _closed(self, entry: Entry, index: int) -> None:
        data = entry.data
        self._change_finding(
            data["finding_id"], status="closed", closed_at=entry.at, closure=data["reason"]
        )

    @projects("assessment.action_planned")
    def _action(self, entry: Entry, index: int) -> None:
        data = entry.data
        due = _day(data["due"])
        assert due is not None
        self.actions[data["action_id"]] = RemedialAction(
            id=data["action_id"],
            finding_id=data["finding_id"],
            description=data["description"],
            owner=data["owner"],
            due=due,
            status="open",
        )

    @projects("assessment.action_done")
    def _action_done(self, entry: Entry, index: int) -> None:
        found = self.actions.get(entry.data["action_id"])
        if found is not None:
            self.actions[found.id] = dataclasses.replace(found, status="done", done_at=entry.at)

    @projects("assessment.outcome_recorded")
    def _outcome(self, entry: Entry, index: int) -> None:
        data = entry.data
        self._change(
            data["assessment_id"],
            result=Result(data["result"]),
            decided_at=entry.at,
            status="decided",
        )
        for step in data["steps"]:
            due = _day(step["due"])
            assert due is not None
            self.steps_by_id[step["step_id"]] = ApprovalStep(
                id=step["step_id"],
                assessment_id=data["assessment_id"],
                description=step["description"],
                due=due,
            )

    @projects("assessment.step_done")
    def _step_done(self, entry: Entry, index: int) -> None:
        found = self.steps_by_id.get(entry.data["step_id"])
        if found is not None:
            self.steps_by_id[found.id] = dataclasses.replace(found, done_at=entry.at)

    # -- AssessmentRepository ---------------------------------------------------------------

    def party(self) -> SecParty | None:
        return None if self.recorded_party is None else self.recorded_party.party

    def party_record(self) -> RecordedParty | None:
        return self.recorded_party

    def commissioning(self, facility_id: str) -> Commissioning | None:
        return self.commissionings.get(facility_id)

    def summaries(self) -> list[AssessmentSummary]:
        rows = sorted(self.planned.values(), key=lambda r: (r.assessment.planned_at, r.created_at))
        return [
            AssessmentSummary(a.id, a.kind, a.result, a.planned_at, a.fieldwork_end, a.decided_at)
            for a in (row.assessment for row in rows)
        ]

    def steps(self, assessment_id: str) -> list[ApprovalStep]:
        found = [s for s in self.steps_by_id.values() if s.assessment_id == assessment_id]
        return sorted(found, key=lambda s: (s.due, s.id))

    def assessment(self, assessment_id: str) -> Assessment | None:
        row = self.planned.get(assessment_id)
        if row is None:
            return None
        findings = sorted(
            (f for f in self.findings.values() if f.assessment_id == assessment_id),
            key=lambda f: (f.raised_at, f.id),
        )
        ids = {f.id for f in findings}
        actions = sorted(
            (a for a in self.actions.values() if a.finding_id in ids),
            key=lambda a: (a.due, a.id),
        )
        return dataclasses.replace(
            row.assessment,
            findings=tuple(findings),
            actions=tuple(actions),
            steps=tuple(self.steps(assessment_id)),
            evidence=tuple(self._attached(row.evidence_ids)),
        )

    def _attached(self, evidence_ids: list[str]) -> list[AttachedEvidence]:
        store = cast(AssuranceRepository, self._database.areas["assurance"])
        found = [e for e in map(store.evidence, evidence_ids) if e is not None]
        return [
            AttachedEvidence(
                id=e.id,
                kind=e.kind,
                name=e.name,
                title=e.title,
                sha256=e.sha256,
                recorded_at=e.recorded_at,
                filename=e.filename,
                media_type=e.media_type,
            )
            for e in sorted({e.id: e for e in found}.values(), key=lambda e: (e.recorded_at, e.id))
        ]

    def finding(self, finding_id: str) -> Finding | None:
        return self.findings.get(finding_id)

    def action(self, action_id: str) -> RemedialAction | None:
        return self.actions.get(action_id)

    def step(self, step_id: str) -> ApprovalStep | None:
        return self.steps_by_id.get(step_id)

    def open_severities(self) -> list[str]:
        open_ = [f.severity.value for f in self.findings.values() if f.is_open]
        return list(dict.fromkeys(open_))

    def jobs_opened_since(self, since: datetime) -> int:
        jobs, _ = cast(JobRepository, self._database.areas["jobs"]).page(None, 0, _EVERY)
        return sum(job.opened_at >= since for job in jobs)
