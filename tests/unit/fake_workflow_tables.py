"""The workflow half of the fake ``TriageRepository``: facility settings, consignments,
devices, jobs, work orders, reset results and intake exceptions."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from tests.unit.fakes import FakeTables, projects
from triage.adapters.projector import canonical
from triage.domain.consignment import Consignment, ConsignmentStatus
from triage.domain.device import Device, DeviceId, DeviceType, InventoryStatus
from triage.domain.facility import DEFAULT_MAX_RESET_ATTEMPTS, DEFAULT_WORK_ORDER_MINUTES
from triage.domain.intake_exception import IntakeException
from triage.domain.job import TriageJob
from triage.domain.lifecycle import JobState
from triage.domain.work_order_record import ResetResult, StoredWorkOrder
from triage.ledger.entry import Entry, parse_time


@dataclass
class ExpectedDevice:
    """A device a consignment's manifest lists, as the manifest has it, and whether it came."""

    consignment_id: str
    device: Device
    arrived: bool = False


@dataclass(frozen=True)
class DecisionRow:
    """One decision on a job: the policy's (no justification) or a supervisor's override."""

    job_id: str
    seq: int
    outcome: str
    policy_hash: str | None
    decided_by: str
    justification: str | None
    at: datetime


@dataclass
class WorkflowRows:
    """The workflow's tables. Other areas' fakes read them where the SQL repositories join
    these tables (``database.areas["triage"].workflow``)."""

    settings: tuple[int, int] | None = None  # (max reset attempts, work order minutes)
    consignments: dict[str, Consignment] = field(default_factory=dict)  # counts left at 0
    expected: list[ExpectedDevice] = field(default_factory=list)
    devices: dict[str, Device] = field(default_factory=dict)
    jobs: dict[str, TriageJob] = field(default_factory=dict)
    decisions: list[DecisionRow] = field(default_factory=list)
    work_orders: dict[str, StoredWorkOrder] = field(default_factory=dict)
    results: dict[str, ResetResult] = field(default_factory=dict)  # by work order id
    exceptions: dict[str, IntakeException] = field(default_factory=dict)


def _device(device_id: str, data: Mapping[str, Any]) -> Device:
    """A device from the ``device`` object of an entry (the subject names its id)."""
    return Device(
        id=DeviceId.parse(device_id),
        type=DeviceType(data["type"]),
        manufacturer=data["manufacturer"],
        model=data["model"],
        firmware_version=data["firmware_version"],
        inventory_status=InventoryStatus(data["inventory_status"]),
        asset_owner=data["asset_owner"],
        smets_version=data.get("smets_version"),
        chf_id=DeviceId.parse(data["chf_id"]) if data.get("chf_id") else None,
    )


class WorkflowTables(FakeTables):
    """Facility settings, consignments, devices, jobs, work orders, results, exceptions."""

    @cached_property
    def workflow(self) -> WorkflowRows:
        # Made on first use: the composed repository's ``__init__`` is not this class's.
        return WorkflowRows()

    # -- reads (the ``TriageRepository`` port) ----------------------------------------------

    def settings(self) -> tuple[int, int]:
        return self.workflow.settings or (DEFAULT_MAX_RESET_ATTEMPTS, DEFAULT_WORK_ORDER_MINUTES)

    def consignment(self, consignment_id: str) -> Consignment | None:
        found = self.workflow.consignments.get(consignment_id)
        return None if found is None else self._counted(found)

    def consignment_by_reference(self, asset_owner: str, reference: str) -> Consignment | None:
        for found in self.workflow.consignments.values():
            if (found.asset_owner, found.reference) == (asset_owner, reference):
                return self._counted(found)
        return None

    def consignments(self, offset: int, limit: int) -> tuple[list[Consignment], int]:
        every = sorted(self.workflow.consignments.values(), key=lambda c: (c.created_at, c.id))
        return [self._counted(c) for c in every[offset : offset + limit]], len(every)

    def _counted(self, found: Consignment) -> Consignment:
        rows = [row for row in self.workflow.expected if row.consignment_id == found.id]
        arrived = sum(1 for row in rows if row.arrived)
        return dataclasses.replace(found, expected=len(rows), arrived=arrived)

    def _awaited(self) -> list[ExpectedDevice]:
        """Manifest rows of open consignments whose device has not arrived."""
        open_ids = {
            c.id for c in self.workflow.consignments.values() if c.status is ConsignmentStatus.OPEN
        }
        return [r for r in self.workflow.expected if r.consignment_id in open_ids and not r.arrived]

    def expected_in_open_consignment(self, device_id: str) -> tuple[str, Device, bool] | None:
        for row in self._awaited():
            if row.device.id.value == device_id:
                return row.consignment_id, row.device, row.arrived
        return None

    def expected_devices(self, device_ids: Sequence[str]) -> dict[str, str]:
        wanted = set(device_ids)
        return {
            row.device.id.value: row.consignment_id
            for row in self._awaited()
            if row.device.id.value in wanted
        }

    def missing_devices(self, consignment_id: str) -> list[str]:
        return sorted(
            row.device.id.value
            for row in self.workflow.expected
            if row.consignment_id == consignment_id and not row.arrived
        )

    def device(self, device_id: str) -> Device | None:
        return self.workflow.devices.get(device_id)

    def job(self, job_id: str) -> TriageJob | None:
        return self.workflow.jobs.get(job_id)

    def _jobs_in_order(self) -> list[TriageJob]:
        return sorted(self.workflow.jobs.values(), key=lambda j: (j.opened_at, j.id))

    def open_job_for_device(self, device_id: str) -> TriageJob | None:
        for job in self._jobs_in_order():
            if job.device_id == device_id and job.closed_at is None:
                return job
        return None

    def open_jobs_for_devices(self, device_ids: Sequence[str]) -> dict[str, str]:
        wanted = set(device_ids)
        return {
            job.device_id: job.id
            for job in self._jobs_in_order()
            if job.device_id in wanted and job.closed_at is None
        }

    def jobs_for_device(self, device_id: str) -> list[TriageJob]:
        return [job for job in self._jobs_in_order() if job.device_id == device_id]

    def jobs(self, state: JobState | None, offset: int, limit: int) -> tuple[list[TriageJob], int]:
        found = [j for j in self._jobs_in_order() if state is None or j.state is state]
        return found[offset : offset + limit], len(found)

    def decision_count(self, job_id: str) -> int:
        return sum(1 for row in self.workflow.decisions if row.job_id == job_id)

    def work_order(self, work_order_id: str) -> StoredWorkOrder | None:
        return self.workflow.work_orders.get(work_order_id)

    def _live(self, now: datetime) -> list[StoredWorkOrder]:
        """Orders issued and not yet expired at ``now``, oldest first."""
        return sorted(
            (
                order
                for order in self.workflow.work_orders.values()
                if order.status == "issued" and order.expires_at > now
            ),
            key=lambda order: order.issued_at,
        )

    def issued_work_orders(self, tool_id: str, now: datetime) -> list[StoredWorkOrder]:
        return [order for order in self._live(now) if order.tool_id == tool_id]

    def live_work_order(self, job_id: str, now: datetime) -> StoredWorkOrder | None:
        return next((order for order in self._live(now) if order.job_id == job_id), None)

    def expired_work_orders(self, before: datetime, limit: int) -> list[StoredWorkOrder]:
        expired = [
            order
            for order in self.workflow.work_orders.values()
            if order.status == "issued" and order.expires_at <= before
        ]
        return sorted(expired, key=lambda order: (order.expires_at, order.id))[:limit]

    def reset_results(self, job_id: str) -> list[ResetResult]:
        found = [r for r in self.workflow.results.values() if r.job_id == job_id]
        return sorted(found, key=lambda r: r.at)

    def exceptions(
        self, status: str | None, offset: int, limit: int
    ) -> tuple[list[IntakeException], int]:
        found = sorted(
            (e for e in self.workflow.exceptions.values() if status is None or e.status == status),
            key=lambda e: e.raised_at,
        )
        return found[offset : offset + limit], len(found)

    def exception(self, exception_id: str) -> IntakeException | None:
        return self.workflow.exceptions.get(exception_id)

    # -- projections ------------------------------------------------------------------------

    @projects("facility.created")
    def _facility_created(self, entry: Entry, index: int) -> None:
        self.workflow.settings = (
            entry.data.get("max_reset_attempts", DEFAULT_MAX_RESET_ATTEMPTS),
            entry.data.get("work_order_minutes", DEFAULT_WORK_ORDER_MINUTES),
        )

    @projects("facility.settings_changed")
    def _settings_changed(self, entry: Entry, index: int) -> None:
        # As the SQL update: no settings row (no facility.created), nothing to change.
        if self.workflow.settings is not None:
            data = entry.data
            self.workflow.settings = (data["max_reset_attempts"], data["work_order_minutes"])

    @projects("consignment.created")
    def _consignment_created(self, entry: Entry, index: int) -> None:
        self.workflow.consignments[entry.subject.id] = Consignment(
            id=entry.subject.id,
            reference=entry.data["reference"],
            asset_owner=entry.data["asset_owner"],
            status=ConsignmentStatus.OPEN,
            created_at=entry.at,
            closed_at=None,
        )

    @projects("consignment.device_expected")
    def _device_expected(self, entry: Entry, index: int) -> None:
        device = _device(entry.subject.id, entry.data["device"])
        self.workflow.expected.append(ExpectedDevice(entry.data["consignment_id"], device))

    @projects("consignment.closed")
    def _consignment_closed(self, entry: Entry, index: int) -> None:
        found = self.workflow.consignments.get(entry.subject.id)
        if found is not None:
            self.workflow.consignments[found.id] = dataclasses.replace(
                found, status=ConsignmentStatus.CLOSED, closed_at=entry.at
            )

    @projects("device.received")
    def _device_received(self, entry: Entry, index: int) -> None:
        data, device_id = entry.data, entry.subject.id
        self.workflow.devices[device_id] = _device(device_id, data["device"])
        consignment_id = data.get("consignment_id")
        self.workflow.jobs[data["job_id"]] = TriageJob(
            id=data["job_id"],
            device_id=device_id,
            consignment_id=consignment_id,
            state=JobState.RECEIVED,
            inspector_id=None,
            outcome=None,
            reset_attempts=0,
            seal_serial=None,
            opened_at=entry.at,
            closed_at=None,
        )
        for row in self.workflow.expected:
            if row.consignment_id == consignment_id and row.device.id.value == device_id:
                row.arrived = True

    def _move_job(self, entry: Entry, **changes: Any) -> None:
        """The job of a step entry takes the entry's state (and ``changes``); a final state
        closes it."""
        job = self.workflow.jobs.get(entry.data["job_id"])
        if job is None:
            return
        state = JobState(entry.data["state"])
        closed_at = entry.at if state.is_final else job.closed_at
        self.workflow.jobs[job.id] = dataclasses.replace(
            job, state=state, closed_at=closed_at, **changes
        )

    def _set_orders(self, job_id: str, status: str) -> None:
        """Every order of the job still issued takes ``status``."""
        for order in list(self.workflow.work_orders.values()):
            if order.job_id == job_id and order.status == "issued":
                self.workflow.work_orders[order.id] = dataclasses.replace(order, status=status)

    @projects("device.inspected")
    def _inspected(self, entry: Entry, index: int) -> None:
        self._move_job(entry, inspector_id=entry.actor.id)

    @projects("device.decided", "decision.overridden")
    def _decided(self, entry: Entry, index: int) -> None:
        data = entry.data
        self.workflow.decisions.append(
            DecisionRow(
                job_id=data["job_id"],
                seq=data["seq"],
                outcome=data["outcome"],
                policy_hash=(data.get("policy") or {}).get("hash"),
                decided_by=entry.actor.id,
                justification=data.get("justification"),
                at=entry.at,
            )
        )
        self._move_job(entry, outcome=data["outcome"])

    @projects("reset.authorised")
    def _authorised(self, entry: Entry, index: int) -> None:
        data = entry.data
        self._set_orders(data["job_id"], "superseded")
        self.workflow.work_orders[data["work_order_id"]] = StoredWorkOrder(
            id=data["work_order_id"],
            job_id=data["job_id"],
            tool_id=data["tool_id"],
            device_id=entry.subject.id,
            operator_id=data["operator_id"],
            nonce=data["nonce"],
            profile=data["profile"],
            status="issued",
            issued_at=parse_time(data["issued_at"]),
            expires_at=parse_time(data["expires_at"]),
            signed=data["signed"],
        )
        self._move_job(entry, reset_attempts=data["attempt"])

    @projects("reset.completed", "reset.failed")
    def _reset_result(self, entry: Entry, index: int) -> None:
        data = entry.data
        outcome = "completed" if entry.type == "reset.completed" else "failed"
        order_id = data["work_order_id"]
        self.workflow.results[order_id] = ResetResult(
            work_order_id=order_id,
            job_id=data["job_id"],
            outcome=outcome,
            verified=None,
            failures=(),
            before=canonical(data.get("before", {})),
            after=canonical(data.get("after", {})),
            detail=data.get("detail", ""),
            signed=data.get("signed", ""),
            at=entry.at,
        )
        order = self.workflow.work_orders.get(order_id)
        if order is not None:
            status = "expired" if data.get("expired") else outcome
            self.workflow.work_orders[order_id] = dataclasses.replace(order, status=status)
        self._move_job(entry)

    @projects("reset.verified", "reset.verification_failed")
    def _verification(self, entry: Entry, index: int) -> None:
        order_id = entry.data["work_order_id"]
        result = self.workflow.results.get(order_id)
        if result is not None:
            self.workflow.results[order_id] = dataclasses.replace(
                result,
                verified=entry.type == "reset.verified",
                failures=tuple(entry.data.get("failures", [])),
            )
        self._move_job(entry)

    @projects("seal.fitted")
    def _seal_fitted(self, entry: Entry, index: int) -> None:
        # The register's side of a fitting is the seals fake's.
        self._move_job(entry, seal_serial=entry.data["serial"])

    @projects("seal.broken")
    def _seal_broken(self, entry: Entry, index: int) -> None:
        # Found broken before dispatch (a job step): the job goes back for another reset and a
        # new seal. A seal found broken elsewhere moves no job.
        if "state" in entry.data:
            self._move_job(entry, seal_serial=None)

    @projects(
        "device.released",
        "device.quarantined",
        "device.returned_to_manufacturer",
        "device.destroyed",
    )
    def _job_moved(self, entry: Entry, index: int) -> None:
        # A device set aside or gone keeps no work order a tool could still carry out.
        self._set_orders(entry.data["job_id"], "withdrawn")
        self._move_job(entry)

    @projects("exception.raised")
    def _exception_raised(self, entry: Entry, index: int) -> None:
        exception_id = entry.data["exception_id"]
        self.workflow.exceptions[exception_id] = IntakeException(
            id=exception_id,
            kind=entry.data["kind"],
            device_id=entry.subject.id,
            detail=entry.data["detail"],
            status="open",
            raised_by=entry.actor.id,
            raised_at=entry.at,
        )

    @projects("exception.resolved")
    def _exception_resolved(self, entry: Entry, index: int) -> None:
        exception_id = entry.data["exception_id"]
        found = self.workflow.exceptions.get(exception_id)
        if found is not None:
            self.workflow.exceptions[exception_id] = dataclasses.replace(
                found,
                status="resolved",
                resolved_by=entry.actor.id,
                resolution=entry.data["resolution"],
                resolved_at=entry.at,
            )
