"""SQL implementation of ``AssessmentRepository``: the provider, commissioning mode and the
assessments with their findings, actions and steps."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, func, select

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
from triage.domain.assessment import Commissioning, SecParty
from triage.ledger.entry import format_time


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(utc(value))
    if isinstance(value, date):
        return value.isoformat()
    return value


def _row(row: RowMapping) -> dict[str, Any]:
    return {k: _plain(v) for k, v in row.items()}


class SqlAssessmentRepository:
    """Reads of the provider and assessment tables within the unit of work's transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def party(self) -> SecParty | None:
        row = self._conn.execute(select(sec_party)).mappings().first()
        if row is None:
            return None
        return SecParty(row["party_id"], row["name"], tuple(json.loads(row["roles"])))

    def party_record(self) -> dict[str, Any] | None:
        row = self._conn.execute(select(sec_party)).mappings().first()
        if row is None:
            return None
        found = _row(row)
        found["roles"] = json.loads(found["roles"])
        return found

    def commissioning(self, facility_id: str) -> Commissioning | None:
        row = (
            self._conn.execute(
                select(commissioning).where(commissioning.c.facility_id == facility_id)
            )
            .mappings()
            .first()
        )
        return None if row is None else Commissioning(utc(row["until"]), row["reason"])

    def summaries(self) -> list[dict[str, Any]]:
        rows = self._conn.execute(
            select(
                assessment.c.id,
                assessment.c.kind,
                assessment.c.result,
                assessment.c.planned_at,
                assessment.c.fieldwork_end,
                assessment.c.decided_at,
            ).order_by(assessment.c.planned_at, assessment.c.created_at)
        ).mappings()
        return [_row(row) for row in rows]

    def steps(self, assessment_id: str) -> list[dict[str, Any]]:
        rows = self._conn.execute(
            select(approval_step)
            .where(approval_step.c.assessment_id == assessment_id)
            .order_by(approval_step.c.due, approval_step.c.id)
        ).mappings()
        return [_row(row) for row in rows]

    def assessment(self, assessment_id: str) -> dict[str, Any] | None:
        row = (
            self._conn.execute(select(assessment).where(assessment.c.id == assessment_id))
            .mappings()
            .first()
        )
        if row is None:
            return None
        found = _row(row)
        found["controls"] = json.loads(found["controls"])
        evidence_ids = json.loads(found.pop("evidence_ids"))
        findings = [
            _row(f)
            for f in self._conn.execute(
                select(finding)
                .where(finding.c.assessment_id == assessment_id)
                .order_by(finding.c.raised_at, finding.c.id)
            ).mappings()
        ]
        ids = [f["id"] for f in findings]
        actions = (
            [
                _row(a)
                for a in self._conn.execute(
                    select(remedial_action)
                    .where(remedial_action.c.finding_id.in_(ids))
                    .order_by(remedial_action.c.due, remedial_action.c.id)
                ).mappings()
            ]
            if ids
            else []
        )
        steps = self.steps(assessment_id)
        attached = (
            [
                _row(e)
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
        found.update(findings=findings, actions=actions, steps=steps, evidence=attached)
        return found

    def finding(self, finding_id: str) -> dict[str, Any] | None:
        row = (
            self._conn.execute(select(finding).where(finding.c.id == finding_id)).mappings().first()
        )
        return None if row is None else _row(row)

    def action(self, action_id: str) -> dict[str, Any] | None:
        row = (
            self._conn.execute(select(remedial_action).where(remedial_action.c.id == action_id))
            .mappings()
            .first()
        )
        return None if row is None else _row(row)

    def step(self, step_id: str) -> dict[str, Any] | None:
        row = (
            self._conn.execute(select(approval_step).where(approval_step.c.id == step_id))
            .mappings()
            .first()
        )
        return None if row is None else _row(row)

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
