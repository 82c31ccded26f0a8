"""What the stores read about seals: the batches received and the facility's seal count."""

from __future__ import annotations

from dataclasses import dataclass

from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.domain.seal_register import SealBatch
from triage.domain.seals import Discrepancy, Reconciliation
from triage.services import seals
from triage.services.ports import UnitOfWorkFactory

# The stores' page lists at most this many batches, oldest first.
BATCHES_SHOWN = 100


@dataclass(frozen=True)
class StoresOverview:
    """The seal batches, and the facility's reconciliation now."""

    batches: list[SealBatch]
    reconciliation: Reconciliation


def stores_overview(uow_factory: UnitOfWorkFactory, caller: Caller) -> StoresOverview:
    """The stores' page: batches received and whether the facility's seals add up."""
    caller.require(Permission.SEAL_READ)
    found, _ = seals.batches(uow_factory, caller, 0, BATCHES_SHOWN)
    return StoresOverview(found, seals.reconciliation(uow_factory, caller, "facility"))


# The discrepancies page lists at most this many open ones (oldest first) and resolved ones
# (the latest).
DISCREPANCIES_SHOWN = 200


@dataclass(frozen=True)
class DiscrepancyBoard:
    """The seal discrepancies still open (oldest first) and the latest resolved, with counts."""

    open: list[Discrepancy]
    open_total: int
    resolved: list[Discrepancy]  # the latest resolved, newest first
    resolved_total: int


def discrepancy_board(uow_factory: UnitOfWorkFactory, caller: Caller) -> DiscrepancyBoard:
    """What needs explaining about seals, and what was explained lately."""
    caller.require(Permission.SEAL_READ)
    open_ones, open_total = seals.discrepancies(uow_factory, caller, "open", 0, DISCREPANCIES_SHOWN)
    _, resolved_total = seals.discrepancies(uow_factory, caller, "resolved", 0, 0)
    latest, _ = seals.discrepancies(
        uow_factory,
        caller,
        "resolved",
        max(0, resolved_total - DISCREPANCIES_SHOWN),
        DISCREPANCIES_SHOWN,
    )
    return DiscrepancyBoard(open_ones, open_total, latest[::-1], resolved_total)
