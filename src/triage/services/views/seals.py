"""What the stores read about seals: the batches received and the facility's seal count."""

from __future__ import annotations

from dataclasses import dataclass

from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.domain.seal_register import SealBatch
from triage.domain.seals import Reconciliation
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
