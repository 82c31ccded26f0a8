"""The seal register's records as the facility keeps them: batches received, each step of a
seal, stocktakes and stored reconciliations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class SealBatch:
    """A supplier's batch received into a store: a range (first and last serial) or a list."""

    id: str
    supplier: str
    delivery_reference: str
    seal_class: str
    class_description: str | None
    store: str
    size: int
    first_serial: str | None
    last_serial: str | None
    received_by: str
    received_at: datetime


@dataclass(frozen=True)
class SealEvent:
    """One step of one seal (received, issued, returned, fitted, voided, lost, broken)."""

    id: int
    serial: str
    batch_id: str
    kind: str
    store: str | None
    operator_id: str | None
    device_id: str | None
    actor: str
    at: datetime
    detail: str | None


@dataclass(frozen=True)
class UnexpectedSeal:
    """A seal scanned at a stocktake that the register does not have in that store."""

    serial: str
    known_as: str


@dataclass(frozen=True)
class Stocktake:
    """A recorded stocktake; ``discrepancy_ids`` are given only when it has just been made."""

    id: str
    store: str
    counted_by: str
    at: datetime
    expected: int
    counted: int
    missing: tuple[str, ...]
    unexpected: tuple[UnexpectedSeal, ...]
    discrepancy_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredReconciliation:
    """A reconciliation kept in the ledger as assurance evidence."""

    id: str
    scope: str
    scope_id: str | None
    balanced: bool
    open_discrepancies: int
    # The whole reconciliation exactly as its ledger entry recorded it (Reconciliation.to_json).
    result: dict[str, Any]
    recorded_by: str
    at: datetime


@dataclass(frozen=True)
class FittedCount:
    """Seals one operator fitted on one day (UTC)."""

    day: str
    operator_id: str
    fitted: int
