"""The assurance area's fake repository (uow.assurance)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.unit.fake_jobs import FakeJobRepository
from tests.unit.fake_policies import FakePolicyRepository
from tests.unit.fake_tools import FakeToolRepository
from tests.unit.fake_work_orders import FakeWorkOrderRepository
from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
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
from triage.ledger.entry import Entry


@area("assurance")
class FakeAssuranceRepository(FakeTables):
    """``AssuranceRepository``, in memory.

    The catalogues adopted, the provider's controls, applicability and evidence are projected
    here; the figures about bench work are read from the jobs, work orders, tools and policies
    fakes, as the SQL repository reads their tables."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        # Catalogues by SHA-256; adopting one again replaces its record (and its time).
        self.catalogues: dict[str, AdoptedCatalogue] = {}
        # The provider's control definitions, as recorded, by id.
        self.definitions: dict[str, dict[str, Any]] = {}
        # Control id -> (applicable, reason): the latest decision about each control.
        self.applicability: dict[str, tuple[bool, str]] = {}
        self.records: dict[str, Evidence] = {}

    @property
    def _jobs(self) -> FakeJobRepository:
        return self._database.repository("jobs", FakeJobRepository)

    # -- projections ------------------------------------------------------------------------

    @projects("assurance.catalogue_adopted")
    def _catalogue_adopted(self, entry: Entry, index: int) -> None:
        data = entry.data
        self.catalogues[data["sha256"]] = AdoptedCatalogue(
            name=data["name"],
            version=data["version"],
            sha256=data["sha256"],
            text=data["text"],
            adopted_by=entry.actor.id,
            adopted_at=entry.at,
        )

    @projects("assurance.control_added")
    def _control_added(self, entry: Entry, index: int) -> None:
        definition = dict(entry.data["control"])
        self.definitions[definition["id"]] = definition

    @projects("assurance.control_not_applicable", "assurance.control_applicable")
    def _applicability(self, entry: Entry, index: int) -> None:
        applicable = entry.type == "assurance.control_applicable"
        self.applicability[entry.data["control_id"]] = (applicable, entry.data["reason"])

    @projects("assurance.evidence_generated", "assurance.evidence_uploaded")
    def _evidence(self, entry: Entry, index: int) -> None:
        data = entry.data
        self.records[data["evidence_id"]] = Evidence(
            id=data["evidence_id"],
            kind="automatic" if entry.type == "assurance.evidence_generated" else "upload",
            name=data["name"],
            title=data["title"],
            sha256=data["sha256"],
            size=int(data["size"]),
            media_type=data["media_type"],
            filename=data.get("filename"),
            control_ids=tuple(data.get("control_ids", [])),
            summary=dict(data.get("summary", {})),
            recorded_by=entry.actor.id,
            recorded_at=entry.at,
        )

    # -- AssuranceRepository ----------------------------------------------------------------

    def adopted_catalogue(self) -> AdoptedCatalogue | None:
        # The latest adoption; at the same instant, the smallest digest (as the SQL orders).
        ordered = sorted(self.catalogues.values(), key=lambda c: c.sha256)
        return max(ordered, key=lambda c: c.adopted_at, default=None)

    def provider_controls(self) -> list[Control]:
        return [
            control_from(self.definitions[i], f"control {i}", provider=True)
            for i in sorted(self.definitions)
        ]

    def not_applicable(self) -> dict[str, str]:
        return {cid: reason for cid, (ok, reason) in self.applicability.items() if not ok}

    def evidence(self, evidence_id: str) -> Evidence | None:
        return self.records.get(evidence_id)

    def evidence_list(
        self, name: str | None, offset: int, limit: int
    ) -> tuple[list[Evidence], int]:
        chosen = [e for e in self.records.values() if name is None or e.name == name]
        chosen.sort(key=lambda e: (e.recorded_at, e.id))
        return chosen[offset : offset + limit], len(chosen)

    def latest_evidence(self) -> list[Evidence]:
        newest: dict[tuple[str, str], datetime] = {}
        for e in self.records.values():
            key = (e.kind, e.name)
            newest[key] = max(newest.get(key, e.recorded_at), e.recorded_at)
        latest = [e for e in self.records.values() if newest[(e.kind, e.name)] == e.recorded_at]
        return sorted(latest, key=lambda e: (e.name, e.id))

    def policy_in_force(self) -> PolicyInForce | None:
        policies = self._database.repository("policies", FakePolicyRepository).policies
        active = [p for p in policies.values() if p.active]
        if not active:
            return None
        policy = active[0]
        return PolicyInForce(policy.hash, policy.policy_id, policy.version, policy.activated_at)

    def decision_counts(self) -> list[DecisionCount]:
        """Decisions by outcome, by whom (the policy or an override) and under which policy."""
        counts: dict[tuple[str, str | None, str], int] = {}
        for d in self._jobs.decisions:
            key = (d.outcome, d.policy_hash, "policy" if d.justification is None else "override")
            counts[key] = counts.get(key, 0) + 1
        ordered = sorted(counts.items(), key=lambda kv: (kv[0][0], _nulls_first(kv[0][1])))
        return [DecisionCount(outcome, h, by, n) for (outcome, h, by), n in ordered]

    def outcomes_per_day(self, since: datetime) -> list[DayOutcomes]:
        counts: dict[tuple[str, str], int] = {}
        for d in self._jobs.decisions:
            if d.at >= since:
                key = (d.at.astimezone(UTC).date().isoformat(), d.outcome)
                counts[key] = counts.get(key, 0) + 1
        return [DayOutcomes(day, outcome, n) for (day, outcome), n in sorted(counts.items())]

    def resets_per_bench(self, since: datetime) -> list[BenchResets]:
        """Verified resets since ``since``, by the bench of the tool that did each."""
        orders = self._database.repository("work_orders", FakeWorkOrderRepository).orders
        tools = self._database.repository("tools", FakeToolRepository).tools
        counts: dict[str, int] = {}
        for result in self._jobs.results.values():
            if result.verified is not True or result.at < since:
                continue
            order = orders.get(result.work_order_id)
            tool = None if order is None else tools.get(order.tool_id)
            if tool is not None:  # the SQL inner join drops a reset without its tool
                counts[tool.bench] = counts.get(tool.bench, 0) + 1
        return [BenchResets(bench, n) for bench, n in sorted(counts.items())]

    def job_counts(self) -> list[JobCount]:
        counts: dict[tuple[str, str | None], int] = {}
        for job in self._jobs.jobs.values():
            key = (job.state.value, job.outcome)
            counts[key] = counts.get(key, 0) + 1
        ordered = sorted(counts.items(), key=lambda kv: (kv[0][0], _nulls_first(kv[0][1])))
        return [JobCount(state, outcome, n) for (state, outcome), n in ordered]


def _nulls_first(value: str | None) -> tuple[bool, str]:
    """Order as SQLite does: NULL before every value."""
    return value is not None, value or ""
