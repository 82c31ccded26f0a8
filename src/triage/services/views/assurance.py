"""What the auditor reads: the ledger's standing and its last full verification, and the
assessments with each control's readiness."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from triage.domain.assurance_records import Assessment
from triage.domain.caller import Caller
from triage.domain.catalogue import ControlReadiness
from triage.domain.roles import Permission
from triage.services import assessment, assurance
from triage.services import ledger as ledger_service
from triage.services.ports import FileStore, UnitOfWork, UnitOfWorkFactory

VERIFICATION = "ledger_verification"
REPLAY = "replay_check"


@dataclass(frozen=True)
class Verification:
    """One recorded full verification of the ledger."""

    evidence_id: str
    at: datetime
    ok: bool | None
    # Its headline figures (entries checked, differences found) and who had it made.
    figures: Mapping[str, Any] = field(default_factory=dict)
    by: str = ""


@dataclass(frozen=True)
class LedgerOverview:
    """The ledger's size, latest signed checkpoint and the key that checks it offline."""

    size: int
    checkpoint: str | None
    verifier_key: str
    last_verification: Verification | None
    # The ledger last replayed into fresh tables and compared with the register.
    last_replay: Verification | None = None


def ledger_overview(
    uow_factory: UnitOfWorkFactory, caller: Caller, verifier_key: str
) -> LedgerOverview:
    """The ledger as an auditor first sees it."""
    caller.require(Permission.ASSURANCE_READ)
    current = ledger_service.status(uow_factory, ledger_service.LEDGER_ACTOR)
    with uow_factory(write=False) as uow:
        verified, replayed = _latest(uow, VERIFICATION), _latest(uow, REPLAY)
    latest = current.latest_checkpoint
    return LedgerOverview(
        size=current.size,
        checkpoint=None if latest is None else latest.note,
        verifier_key=verifier_key,
        last_verification=verified,
        last_replay=replayed,
    )


def _latest(uow: UnitOfWork, name: str) -> Verification | None:
    """The latest automatic evidence ``name`` recorded, as a verification's outcome."""
    checks, total = uow.assurance.evidence_list(name, 0, 1)
    if total > 1:
        checks, _ = uow.assurance.evidence_list(name, total - 1, 1)
    last = checks[-1] if checks else None
    if last is None:
        return None
    return Verification(
        last.id, last.recorded_at, last.summary.get("ok"), dict(last.summary), last.recorded_by
    )


@dataclass(frozen=True)
class AssessmentsOverview:
    """Every assessment, and each control's readiness with the count per status."""

    assessments: list[Assessment]
    readiness: list[ControlReadiness]
    summary: dict[str, int]  # controls per readiness status


def assessments_overview(
    uow_factory: UnitOfWorkFactory, caller: Caller, store: FileStore
) -> AssessmentsOverview:
    """The assessments and whether each control's evidence is ready for the next one."""
    caller.require(Permission.ASSURANCE_READ)
    rows = assurance.control_readiness(uow_factory, caller, store)
    return AssessmentsOverview(
        assessments=assessment.list_all(uow_factory, caller),
        readiness=rows,
        summary=dict(Counter(row.status for row in rows)),
    )
