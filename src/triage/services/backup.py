"""The ledger's record of backups and restores (the archive itself is adapters/backup.py)."""

from __future__ import annotations

from typing import Any

from triage.domain.caller import Caller
from triage.ledger.entry import Ref
from triage.services.common import make_entry
from triage.services.unit_of_work import UnitOfWorkFactory

BACKUP_ACTOR = Caller.system("backup")


def record_backup(uow_factory: UnitOfWorkFactory, data: dict[str, Any]) -> int:
    """Append ``system.backup`` (the manifest's hash and what it holds); returns its index."""
    return _record(uow_factory, "system.backup", data)


def record_restore(uow_factory: UnitOfWorkFactory, data: dict[str, Any]) -> int:
    """Append ``system.restored`` (the archive brought back, once verified); returns its index."""
    return _record(uow_factory, "system.restored", data)


def _record(uow_factory: UnitOfWorkFactory, entry_type: str, data: dict[str, Any]) -> int:
    with uow_factory(write=True) as uow:
        subject = Ref("facility", uow.facility_id)
        index = uow.ledger.record([make_entry(uow, BACKUP_ACTOR, entry_type, subject, data)])
        uow.commit()
    return index
