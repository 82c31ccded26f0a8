"""What is read about devices: a device's story from the ledger, with a proof of each entry."""

from __future__ import annotations

from dataclasses import dataclass

from triage.domain.caller import Caller
from triage.services import history
from triage.services import ledger as ledger_service
from triage.services.history import DeviceHistory
from triage.services.ledger import InclusionProof
from triage.services.ports import UnitOfWorkFactory


@dataclass(frozen=True)
class ProvenHistory:
    """A device's story, and each entry's inclusion proof in the ledger as it stands."""

    story: DeviceHistory
    proofs: dict[int, InclusionProof]  # by entry index


def proven_history(uow_factory: UnitOfWorkFactory, caller: Caller, device: str) -> ProvenHistory:
    """Every ledger entry about the device, each proven against the same tree size."""
    story = history.device_history(uow_factory, caller, device)
    size = ledger_service.status(uow_factory, ledger_service.LEDGER_ACTOR).size
    proofs = {
        index: ledger_service.prove_inclusion(uow_factory, ledger_service.LEDGER_ACTOR, index, size)
        for index, _ in story.entries
    }
    return ProvenHistory(story, proofs)
