"""The jobs' fake repository (uow.jobs): triage jobs, their decisions and reset results."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
from triage.adapters.projector import canonical
from triage.domain.job import TriageJob
from triage.domain.lifecycle import JobState
from triage.domain.work_order_record import ResetResult
from triage.ledger.entry import Entry


@dataclass(frozen=True)
class DecisionRow:
    """One decision on a job: the policy's (no justification) or a supervisor's override."""

    job_id: str
    seq: int
    outcome: str
    reasons: tuple[str, ...]  # the texts of the policy's reasons (none for an override)
    policy_hash: str | None
    decided_by: str
    justification: str | None
    at: datetime


@area("jobs")
class FakeJobRepository(FakeTables):
    """``JobRepository``, in memory. Other areas' fakes read its records where the SQL
    repositories join these tables."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.jobs: dict[str, TriageJob] = {}
        self.decisions: list[DecisionRow] = []
        self.results: dict[str, ResetResult] = {}  # by work order id
        self.updated: dict[str, datetime] = {}  # by job id: its last change of state

    # -- the port ------------------------------------------------------------------------------
    def get(self, job_id: str) -> TriageJob | None:
        return self.jobs.get(job_id)

    def _in_order(self) -> list[TriageJob]:
        return sorted(self.jobs.values(), key=lambda j: (j.opened_at, j.id))

    def open_for_device(self, device_id: str) -> TriageJob | None:
        for job in self._in_order():
            if job.device_id == device_id and job.closed_at is None:
                return job
        return None

    def open_for_devices(self, device_ids: Sequence[str]) -> dict[str, str]:
        wanted = set(device_ids)
        return {
            job.device_id: job.id
            for job in self._in_order()
            if job.device_id in wanted and job.closed_at is None
        }

    def for_device(self, device_id: str) -> list[TriageJob]:
        return [job for job in self._in_order() if job.device_id == device_id]

    def page(
        self, state: JobState | None, offset: int, limit: int, owner: str | None = None
    ) -> tuple[list[TriageJob], int]:
        # Imported here: the devices' fake imports this module.
        from tests.unit.fake_devices import FakeDeviceRepository

        devices = self._database.repository("devices", FakeDeviceRepository).devices
        found = [
            j
            for j in self._in_order()
            if (state is None or j.state is state)
            and (owner is None or devices[j.device_id].asset_owner == owner)
        ]
        return found[offset : offset + limit], len(found)

    def count_by_state(self) -> dict[JobState, int]:
        counted: dict[JobState, int] = {}
        for job in self._in_order():
            counted[job.state] = counted.get(job.state, 0) + 1
        return counted

    def decision_count(self, job_id: str) -> int:
        return sum(1 for row in self.decisions if row.job_id == job_id)

    def latest_reasons(self, job_ids: Sequence[str]) -> dict[str, list[str]]:
        wanted = set(job_ids)
        found: dict[str, list[str]] = {}
        for row in sorted(self.decisions, key=lambda r: (r.job_id, r.seq)):
            if row.job_id in wanted:
                found[row.job_id] = list(row.reasons)
        return found

    def reset_results(self, job_id: str) -> list[ResetResult]:
        found = [r for r in self.results.values() if r.job_id == job_id]
        return sorted(found, key=lambda r: r.at)

    # -- projections ---------------------------------------------------------------------------
    @projects("device.received")
    def _received(self, entry: Entry, index: int) -> None:
        data = entry.data
        self.jobs[data["job_id"]] = TriageJob.received(
            data["job_id"], entry.subject.id, data.get("consignment_id"), entry.at
        )
        self.updated[data["job_id"]] = entry.at

    def _move(self, entry: Entry, **changes: Any) -> None:
        """The job of a step entry takes the entry's state (and ``changes``); a final state
        closes it."""
        job = self.jobs.get(entry.data["job_id"])
        if job is None:
            return
        state = JobState(entry.data["state"])
        closed_at = entry.at if state.is_final else job.closed_at
        self.jobs[job.id] = dataclasses.replace(job, state=state, closed_at=closed_at, **changes)
        self.updated[job.id] = entry.at

    @projects("device.inspected")
    def _inspected(self, entry: Entry, index: int) -> None:
        self._move(entry, inspector_id=entry.actor.id)

    @projects("device.decided", "decision.overridden")
    def _decided(self, entry: Entry, index: int) -> None:
        data = entry.data
        self.decisions.append(
            DecisionRow(
                job_id=data["job_id"],
                seq=data["seq"],
                outcome=data["outcome"],
                reasons=tuple(r["text"] for r in data.get("reasons", [])),
                policy_hash=(data.get("policy") or {}).get("hash"),
                decided_by=entry.actor.id,
                justification=data.get("justification"),
                at=entry.at,
            )
        )
        self._move(entry, outcome=data["outcome"])

    @projects("reset.authorised")
    def _authorised(self, entry: Entry, index: int) -> None:
        # The work order itself is the work orders' fake's.
        self._move(entry, reset_attempts=entry.data["attempt"])

    @projects("work_order.withdrawn")
    def _order_withdrawn(self, entry: Entry, index: int) -> None:
        # A reset order withdrawn gives back its attempt; the job's state does not change.
        job = self.jobs.get(entry.data["job_id"])
        if job is not None and "reset_attempts" in entry.data:
            self.jobs[job.id] = dataclasses.replace(
                job, reset_attempts=entry.data["reset_attempts"]
            )

    @projects("reset.completed", "reset.failed")
    def _reset_result(self, entry: Entry, index: int) -> None:
        data = entry.data
        order_id = data["work_order_id"]
        self.results[order_id] = ResetResult(
            work_order_id=order_id,
            job_id=data["job_id"],
            outcome="completed" if entry.type == "reset.completed" else "failed",
            verified=None,
            failures=(),
            before=canonical(data.get("before", {})),
            after=canonical(data.get("after", {})),
            detail=data.get("detail", ""),
            signed=data.get("signed", ""),
            at=entry.at,
        )
        self._move(entry)

    @projects("reset.verified", "reset.verification_failed")
    def _verification(self, entry: Entry, index: int) -> None:
        order_id = entry.data["work_order_id"]
        result = self.results.get(order_id)
        if result is not None:
            self.results[order_id] = dataclasses.replace(
                result,
                verified=entry.type == "reset.verified",
                failures=tuple(entry.data.get("failures", [])),
            )
        self._move(entry)

    @projects("seal.fitted")
    def _seal_fitted(self, entry: Entry, index: int) -> None:
        # The register's side of a fitting is the seals fake's.
        self._move(entry, seal_serial=entry.data["serial"])

    @projects("seal.broken")
    def _seal_broken(self, entry: Entry, index: int) -> None:
        # Found broken before dispatch (a job step): the job goes back for another reset and a
        # new seal. A seal found broken elsewhere moves no job.
        if "state" in entry.data:
            self._move(entry, seal_serial=None)

    @projects(
        "device.released",
        "device.quarantined",
        "device.returned_to_manufacturer",
        "device.returned_to_dcc",
        "device.destroyed",
    )
    def _moved(self, entry: Entry, index: int) -> None:
        # The work orders it withdraws are the work orders' fake's.
        self._move(entry)
