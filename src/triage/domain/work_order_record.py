"""Work orders and reset results as the facility keeps them: what was issued to which tool,
whether it is still open, and what each tool reported."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from triage.domain.work_order import FACTORY_RESET


@dataclass(frozen=True)
class StoredWorkOrder:
    """A work order the facility issued (a factory reset, or a read of the security log), with
    its state (issued, completed, failed, expired, superseded, withdrawn) and the signed note
    the tool received."""

    id: str
    job_id: str
    tool_id: str
    device_id: str
    operator_id: str
    nonce: str
    profile: str
    status: str
    issued_at: datetime
    expires_at: datetime
    signed: str
    action: str = FACTORY_RESET


@dataclass(frozen=True)
class ResetResult:
    """What a tool reported for one work order, and whether the reset verified."""

    work_order_id: str
    job_id: str
    outcome: str
    verified: bool | None
    failures: tuple[str, ...]
    before: str
    after: str
    detail: str
    signed: str
    at: datetime
