"""Seals, batches, stocktakes, reconciliations and seal reports as the API and ``--json`` show
them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from triage.domain.seals import DiscrepancyKind, Reconciliation, Seal
from triage.entrypoints.schemas.common import Record, SubjectOut, Time


class SealOut(BaseModel):
    serial: str
    batch_id: str
    status: str
    where: str = Field(description="Where the seal is, in words.")
    store: str | None
    holder: str | None
    device_id: str | None
    job_id: str | None
    issued_at: Time | None
    status_at: Time

    @classmethod
    def of(cls, found: Seal) -> SealOut:
        return cls(
            serial=found.serial,
            batch_id=found.batch_id,
            status=found.status.value,
            where=found.describe(),
            store=found.store,
            holder=found.holder,
            device_id=found.device_id,
            job_id=found.job_id,
            issued_at=found.issued_at,
            status_at=found.status_at,
        )


class SealsOut(BaseModel):
    items: list[SealOut]
    total: int


class SealBatchOut(Record):
    id: str
    supplier: str
    delivery_reference: str
    seal_class: str
    class_description: str | None
    store: str
    size: int
    first_serial: str | None = Field(description="A range's first serial; none for a list.")
    last_serial: str | None
    received_by: str
    received_at: Time


class SealBatchDetailOut(SealBatchOut):
    figures: dict[str, int] = Field(description="The batch's seals counted by where they are.")


class SealEventOut(Record):
    id: int
    serial: str
    batch_id: str
    kind: str
    store: str | None
    operator_id: str | None
    device_id: str | None
    actor: str
    at: Time
    detail: str | None


class SealDetailOut(SealOut):
    batch: SealBatchOut
    events: list[SealEventOut]


class DiscrepancyOut(Record):
    id: str
    kind: DiscrepancyKind
    serial: str
    batch_id: str | None
    store: str | None
    operator_id: str | None
    device_id: str | None
    detail: str
    status: str
    raised_by: str
    raised_at: Time
    resolved_by: str | None
    resolution: str | None
    resolved_at: Time | None


class UnexpectedSealOut(Record):
    serial: str
    known_as: str = Field(description="What the register says of it.")


class StocktakeOut(Record):
    id: str
    store: str
    counted_by: str
    at: Time
    expected: int
    counted: int
    missing: list[str]
    unexpected: list[UnexpectedSealOut]


class StocktakeRecordedOut(StocktakeOut):
    discrepancy_ids: list[str] = Field(description="A discrepancy for each seal out of place.")


class EquationOut(BaseModel):
    name: str
    left: dict[str, int]
    right: dict[str, int]
    balanced: bool
    statement: str


class ReconciliationOut(BaseModel):
    scope: SubjectOut
    at: Time
    figures: dict[str, int]
    equations: list[EquationOut]
    balanced: bool
    discrepancies: list[DiscrepancyOut]

    @classmethod
    def of(cls, found: Reconciliation) -> ReconciliationOut:
        return cls.model_validate(found.to_json())


class StoredReconciliationOut(Record):
    id: str
    scope: str
    scope_id: str | None
    balanced: bool
    open_discrepancies: int
    result: dict[str, Any] = Field(
        description="The reconciliation as its ledger entry recorded it (as GET "
        "/seals/reconciliation answers)."
    )
    recorded_by: str
    at: Time


class FittedCountOut(Record):
    day: str = Field(description="The day (UTC), YYYY-MM-DD.")
    operator_id: str
    fitted: int


class FittedReportOut(Record):
    since: Time
    until: Time
    rows: list[FittedCountOut]
    total: int


class UnusedSealOut(Record):
    serial: str
    holder: str | None
    issued_at: Time | None
    days: int | None = Field(description="Whole days since it was issued.")
    batch_id: str


class UnusedReportOut(Record):
    days: int
    at: Time
    seals: list[UnusedSealOut]
