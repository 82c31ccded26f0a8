"""SQL implementation of ``AssessmentRepository``: the provider, commissioning mode and the
assessments with their findings, actions and steps."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, RowMapping, bindparam, func, select

from triage.adapters.fastsql import Statement
from triage.adapters.rows import utc
from triage.adapters.tables import (
    approval_step,
    assessment,
    commissioning,
    evidence,
    finding,
    remedial_action,
    sec_party,
    triage_job,
)
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

# The assessment standing check of the device path (compiled once: fastsql): the provider,
# commissioning mode and the assessments' summaries.
_PARTY = Statement(
    select(
        sec_party.c.party_id,
        sec_party.c.name,
        sec_party.c.roles,
        sec_party.c.recorded_by,
        sec_party.c.recorded_at,
    )
)
_COMMISSIONING = Statement(
    select(commissioning.c.until, commissioning.c.reason).where(
        commissioning.c.facility_id == bindparam("facility_id")
    )
)
_SUMMARIES = Statement(
    select(
        assessment.c.id,
        assessment.c.kind,
        assessment.c.result,
        assessment.c.planned_at,
        assessment.c.fieldwork_end,
        assessment.c.decided_at,
    ).order_by(assessment.c.planned_at, assessment.c.created_at)
)


def _result(value: str | None) -> Result | None:
    return None if value is None else Result(value)


def _finding(row: RowMapping) -> Finding:
    return Finding(
        id=row["id"],
        assessment_id=row["assessment_id"],
        control_id=row["control_id"],
        severity=Severity(row["severity"]),
        description=row["description"],
        status=row["status"],
        raised_at=utc(row["raised_at"]),
        response=row["response"],
        response_due=row["response_due"],
        responded_by=row["responded_by"],
        responded_at=utc(row["responded_at"]),
        closed_at=utc(row["closed_at"]),
        closure=row["closure"],
    )


def _action(row: RowMapping) -> RemedialAction:
    return RemedialAction(
        id=row["id"],
        finding_id=row["finding_id"],
        description=row["description"],
        owner=row["owner"],
        due=row["due"],
        status=row["status"],
        done_at=utc(row["done_at"]),
    )


def _step(row: RowMapping) -> ApprovalStep:
    return ApprovalStep(
        id=row["id"],
        assessment_id=row["assessment_id"],
        description=row["description"],
        due=row["due"],
        done_at=utc(row["done_at"]),
    )


def _attached(row: RowMapping) -> AttachedEvidence:
    return AttachedEvidence(
        id=row["id"],
        kind=row["kind"],
        name=row["name"],
        title=row["title"],
        sha256=row["sha256"],
        recorded_at=utc(row["recorded_at"]),
        filename=row["filename"],
        media_type=row["media_type"],
    )


class SqlAssessmentRepository:
    """Reads of the provider and assessment tables within the unit of work's transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def party(self) -> SecParty | None:
        row = _PARTY.first(self._conn)
        if row is None:
            return None
        party_id, name, roles, _by, _at = row
        return SecParty(party_id, name, tuple(json.loads(roles)))

    def party_record(self) -> RecordedParty | None:
        row = _PARTY.first(self._conn)
        if row is None:
            return None
        party_id, name, roles, recorded_by, recorded_at = row
        party = SecParty(party_id, name, tuple(json.loads(roles)))
        return RecordedParty(party, recorded_by, utc(recorded_at))

    def commissioning(self, facility_id: str) -> Commissioning | None:
        row = _COMMISSIONING.first(self._conn, facility_id=facility_id)
        if row is None:
            return None
        until, reason = row
        return Commissioning(utc(until), reason)

    def summaries(self) -> list[AssessmentSummary]:
        return [
            AssessmentSummary(
                assessment_id,
                Kind(kind),
                _result(result),
                planned_at,
                fieldwork_end,
                utc(decided_at),
            )
            for assessment_id, kind, result, planned_at, fieldwork_end, decided_at in (
                _SUMMARIES.rows(self._conn)
            )
        ]

    def steps(self, assessment_id: str) -> list[ApprovalStep]:
        rows = self._conn.execute(
            select(approval_step)
            .where(approval_step.c.assessment_id == assessment_id)
            .order_by(approval_step.c.due, approval_step.c.id)
        ).mappings()
        return [_step(row) for row in rows]

    def assessment(self, assessment_id: str) -> Assessment | None:
        row = (
            self._conn.execute(select(assessment).where(assessment.c.id == assessment_id))
            .mappings()
            .first()
        )
        if row is None:
            return None
        evidence_ids = json.loads(row["evidence_ids"])
        findings = [
            _finding(f)
            for f in self._conn.execute(
                select(finding)
                .where(finding.c.assessment_id == assessment_id)
                .order_by(finding.c.raised_at, finding.c.id)
            ).mappings()
        ]
        ids = [f.id for f in findings]
        actions = (
            [
                _action(a)
                for a in self._conn.execute(
                    select(remedial_action)
                    .where(remedial_action.c.finding_id.in_(ids))
                    .order_by(remedial_action.c.due, remedial_action.c.id)
                ).mappings()
            ]
            if ids
            else []
        )
        attached = (
            [
                _attached(e)
                for e in self._conn.execute(
                    select(
                        evidence.c.id,
                        evidence.c.kind,
                        evidence.c.name,
                        evidence.c.title,
                        evidence.c.sha256,
                        evidence.c.recorded_at,
                        evidence.c.filename,
                        evidence.c.media_type,
                    )
                    .where(evidence.c.id.in_(evidence_ids))
                    .order_by(evidence.c.recorded_at, evidence.c.id)
                ).mappings()
            ]
            if evidence_ids
            else []
        )
        return Assessment(
            id=row["id"],
            kind=Kind(row["kind"]),
            assessor=row["assessor"],
            scope=row["scope"],
            status=row["status"],
            planned_at=row["planned_at"],
            fieldwork_start=row["fieldwork_start"],
            fieldwork_end=row["fieldwork_end"],
            controls=tuple(json.loads(row["controls"])),
            findings=tuple(findings),
            actions=tuple(actions),
            result=_result(row["result"]),
            decided_at=utc(row["decided_at"]),
            steps=tuple(self.steps(assessment_id)),
            evidence=tuple(attached),
        )

    def finding(self, finding_id: str) -> Finding | None:
        row = (
            self._conn.execute(select(finding).where(finding.c.id == finding_id)).mappings().first()
        )
        return None if row is None else _finding(row)

    def action(self, action_id: str) -> RemedialAction | None:
        row = (
            self._conn.execute(select(remedial_action).where(remedial_action.c.id == action_id))
            .mappings()
            .first()
        )
        return None if row is None else _action(row)

    def step(self, step_id: str) -> ApprovalStep | None:
        row = (
            self._conn.execute(select(approval_step).where(approval_step.c.id == step_id))
            .mappings()
            .first()
        )
        return None if row is None else _step(row)

    def open_severities(self) -> list[str]:
        return list(
            self._conn.execute(
                select(finding.c.severity).where(finding.c.status == "open").distinct()
            ).scalars()
        )

    def jobs_opened_since(self, since: datetime) -> int:
        return int(
            self._conn.execute(
                select(func.count()).select_from(triage_job).where(triage_job.c.opened_at >= since)
            ).scalar_one()
        )
