"""SQL implementation of ``AssuranceRepository``: the catalogue in force, the provider's controls,
applicability, evidence, and the counts automatic evidence reports."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, RowMapping, func, select

from triage.adapters.days import utc_day
from triage.adapters.rows import utc
from triage.adapters.tables import (
    control_applicability,
    control_catalogue,
    decision,
    evidence,
    provider_control,
    reset_result,
    tamper_policy,
    tool,
    triage_job,
    work_order,
)
from triage.domain.assurance_records import (
    AdoptedCatalogue,
    BenchResets,
    DayOutcomes,
    DecisionCount,
    Evidence,
    JobCount,
    PolicyInForce,
)
from triage.domain.catalogue import Control, control_from


def _evidence(row: RowMapping) -> Evidence:
    return Evidence(
        id=row["id"],
        kind=row["kind"],
        name=row["name"],
        title=row["title"],
        sha256=row["sha256"],
        size=int(row["size"]),
        media_type=row["media_type"],
        filename=row["filename"],
        control_ids=tuple(json.loads(row["control_ids"])),
        summary=json.loads(row["summary"]),
        recorded_by=row["recorded_by"],
        recorded_at=utc(row["recorded_at"]),
    )


class SqlAssuranceRepository:
    """Reads of the assurance tables within the unit of work's transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def adopted_catalogue(self) -> AdoptedCatalogue | None:
        row = (
            self._conn.execute(
                select(
                    control_catalogue.c.name,
                    control_catalogue.c.version,
                    control_catalogue.c.sha256,
                    control_catalogue.c.text,
                    control_catalogue.c.adopted_by,
                    control_catalogue.c.adopted_at,
                )
                .order_by(control_catalogue.c.adopted_at.desc(), control_catalogue.c.sha256)
                .limit(1)
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        return AdoptedCatalogue(
            name=row["name"],
            version=row["version"],
            sha256=row["sha256"],
            text=row["text"],
            adopted_by=row["adopted_by"],
            adopted_at=utc(row["adopted_at"]),
        )

    def provider_controls(self) -> list[Control]:
        rows = self._conn.execute(
            select(provider_control.c.definition).order_by(provider_control.c.id)
        ).scalars()
        definitions = [json.loads(text) for text in rows]
        return [control_from(d, f"control {d['id']}", provider=True) for d in definitions]

    def not_applicable(self) -> dict[str, str]:
        rows = self._conn.execute(
            select(control_applicability.c.control_id, control_applicability.c.reason).where(
                control_applicability.c.applicable.is_(False)
            )
        )
        return {control_id: reason for control_id, reason in rows}

    def evidence(self, evidence_id: str) -> Evidence | None:
        row = (
            self._conn.execute(select(evidence).where(evidence.c.id == evidence_id))
            .mappings()
            .first()
        )
        return None if row is None else _evidence(row)

    def evidence_list(
        self, name: str | None, offset: int, limit: int
    ) -> tuple[list[Evidence], int]:
        where = [] if name is None else [evidence.c.name == name]
        total = self._conn.execute(
            select(func.count()).select_from(evidence).where(*where)
        ).scalar_one()
        rows = self._conn.execute(
            select(evidence)
            .where(*where)
            .order_by(evidence.c.recorded_at, evidence.c.id)
            .offset(offset)
            .limit(limit)
        ).mappings()
        return [_evidence(row) for row in rows], int(total)

    def latest_evidence(self) -> list[Evidence]:
        newest = (
            select(evidence.c.kind, evidence.c.name, func.max(evidence.c.recorded_at).label("at"))
            .group_by(evidence.c.kind, evidence.c.name)
            .subquery()
        )
        rows = self._conn.execute(
            select(evidence)
            .join(
                newest,
                (evidence.c.kind == newest.c.kind)
                & (evidence.c.name == newest.c.name)
                & (evidence.c.recorded_at == newest.c.at),
            )
            .order_by(evidence.c.name, evidence.c.id)
        ).mappings()
        return [_evidence(row) for row in rows]

    def policy_in_force(self) -> PolicyInForce | None:
        row = (
            self._conn.execute(
                select(
                    tamper_policy.c.hash,
                    tamper_policy.c.policy_id,
                    tamper_policy.c.version,
                    tamper_policy.c.activated_at,
                ).where(tamper_policy.c.active.is_(True))
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        return PolicyInForce(
            hash=row["hash"],
            policy_id=row["policy_id"],
            version=row["version"],
            activated_at=utc(row["activated_at"]),
        )

    def decision_counts(self) -> list[DecisionCount]:
        """Decisions by outcome, by whom (policy or a person) and under which policy."""
        by_policy = decision.c.justification.is_(None)
        rows = self._conn.execute(
            select(decision.c.outcome, decision.c.policy_hash, by_policy, func.count())
            .group_by(decision.c.outcome, decision.c.policy_hash, by_policy)
            .order_by(decision.c.outcome, decision.c.policy_hash)
        )
        return [
            DecisionCount(outcome, policy_hash, "policy" if automatic else "override", int(count))
            for outcome, policy_hash, automatic, count in rows
        ]

    def outcomes_per_day(self, since: datetime) -> list[DayOutcomes]:
        """Decisions (by the policy or an override) per day (UTC) and outcome since ``since``."""
        latest = self._conn.execute(select(func.max(decision.c.at))).scalar_one_or_none()
        if latest is None:
            return []
        day = utc_day(decision.c.at, since, utc(latest)).label("day")
        recent = select(day, decision.c.outcome).where(decision.c.at >= since).subquery()
        rows = self._conn.execute(
            select(recent.c.day, recent.c.outcome, func.count())
            .group_by(recent.c.day, recent.c.outcome)
            .order_by(recent.c.day, recent.c.outcome)
        )
        return [DayOutcomes(d, o, int(n)) for d, o, n in rows]

    def resets_per_bench(self, since: datetime) -> list[BenchResets]:
        """Verified resets per bench (the bench of the tool that did them) since ``since``."""
        rows = self._conn.execute(
            select(tool.c.bench, func.count())
            .select_from(
                reset_result.join(work_order, reset_result.c.work_order_id == work_order.c.id).join(
                    tool, work_order.c.tool_id == tool.c.id
                )
            )
            .where(reset_result.c.verified.is_(True), reset_result.c.at >= since)
            .group_by(tool.c.bench)
            .order_by(tool.c.bench)
        )
        return [BenchResets(bench, int(n)) for bench, n in rows]

    def job_counts(self) -> list[JobCount]:
        """Triage jobs by state and decided outcome."""
        rows = self._conn.execute(
            select(triage_job.c.state, triage_job.c.outcome, func.count())
            .group_by(triage_job.c.state, triage_job.c.outcome)
            .order_by(triage_job.c.state, triage_job.c.outcome)
        )
        return [JobCount(state, outcome, int(count)) for state, outcome, count in rows]
