"""Consignments, devices, jobs, reset results and intake exceptions as the API and ``--json``
show them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from triage.domain.consignment import Consignment
from triage.domain.job import TriageJob
from triage.domain.lifecycle import allowed_actions
from triage.domain.tamper_policy import TamperDecision
from triage.entrypoints.schemas.common import Record, Time


class JobOut(BaseModel):
    id: str
    device_id: str
    consignment_id: str | None
    state: str
    outcome: str | None
    inspector_id: str | None
    reset_attempts: int
    seal_serial: str | None
    opened_at: Time
    closed_at: Time | None
    next_steps: list[str] = Field(description="Actions the lifecycle allows from this state.")

    @classmethod
    def of(cls, job: TriageJob) -> JobOut:
        return cls(
            id=job.id,
            device_id=job.device_id,
            consignment_id=job.consignment_id,
            state=job.state.value,
            outcome=job.outcome,
            inspector_id=job.inspector_id,
            reset_attempts=job.reset_attempts,
            seal_serial=job.seal_serial,
            opened_at=job.opened_at,
            closed_at=job.closed_at,
            next_steps=[a.value for a in allowed_actions(job.state)],
        )


class ResetOut(Record):
    work_order_id: str
    outcome: str
    verified: bool | None
    failures: list[str]
    detail: str


class JobDetailOut(JobOut):
    resets: list[ResetOut]


class ScanOut(BaseModel):
    device_id: str
    created: bool
    job: JobOut | None
    exception_id: str | None
    message: str


class ConsignmentOut(BaseModel):
    id: str
    reference: str
    asset_owner: str
    status: str
    created_at: Time
    closed_at: Time | None
    expected: int
    arrived: int

    @classmethod
    def fields_of(cls, found: Consignment) -> dict[str, Any]:
        """The fields of ``found``, for this model and those that extend it."""
        return {
            "id": found.id,
            "reference": found.reference,
            "asset_owner": found.asset_owner,
            "status": found.status.value,
            "created_at": found.created_at,
            "closed_at": found.closed_at,
            "expected": found.expected,
            "arrived": found.arrived,
        }


class ConsignmentDetailOut(ConsignmentOut):
    not_arrived: list[str] = Field(description="Devices expected and not yet scanned.")
    arrived_devices: list[str] = Field(
        default_factory=list, description="Devices expected and scanned in."
    )


class RowProblemOut(Record):
    line: int
    field: str | None
    problem: str


class AcceptedRowOut(BaseModel):
    line: int
    device_id: str


class ImportOut(BaseModel):
    consignment_id: str | None = Field(description="None in a dry run.")
    imported: int = Field(description="Devices expected (in a dry run: that would be).")
    rejected: list[RowProblemOut] = Field(
        description="Rows skipped (with skip_invalid), or that would be refused (dry_run)."
    )
    dry_run: bool = False
    accepted: list[AcceptedRowOut] = Field(
        default_factory=list, description="The rows imported (or that would be), by line."
    )


class ClosedConsignmentOut(ConsignmentOut):
    never_arrived: list[str] = Field(description="Devices expected that never arrived.")


class HistoryItemOut(BaseModel):
    index: int
    entry: dict[str, Any] = Field(description="The ledger entry, as it was hashed.")


class DeviceHistoryOut(BaseModel):
    device_id: str
    jobs: list[JobOut]
    items: list[HistoryItemOut]
    total: int
    offset: int
    limit: int


class ReasonOut(BaseModel):
    rule: str
    outcome: str
    text: str


class DecisionOut(BaseModel):
    outcome: str
    reasons: list[ReasonOut]
    policy_id: str
    policy_version: str
    policy_hash: str

    @classmethod
    def of(cls, decision: TamperDecision) -> DecisionOut:
        return cls.model_validate(decision.to_json())


class WorkOrderIssuedOut(BaseModel):
    work_order: str = Field(description="The signed work order (a C2SP signed note).")


class SignedOrdersOut(BaseModel):
    items: list[str] = Field(description="Signed work orders, oldest first.")


class IntakeExceptionOut(Record):
    id: str
    kind: str
    device_id: str
    detail: str
    status: str
    raised_by: str
    raised_at: Time
    resolved_by: str | None
    resolution: str | None
    resolved_at: Time | None


class ListedDeviceOut(Record):
    """One stay of a device at the facility, as the device list shows it."""

    device_id: str
    job_id: str
    state: str
    consignment_id: str | None
    consignment_reference: str | None
    asset_owner: str
    manufacturer: str
    model: str
    received_at: Time
    updated_at: Time
    closed_at: Time | None


class DeviceListOut(BaseModel):
    items: list[ListedDeviceOut]
    next_cursor: str | None = Field(
        description="Pass as cursor for the next page (same filters); null on the last page."
    )
