"""What the bench reads about a job's work order that will not be carried out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from triage.domain.lifecycle import TRANSITIONS, Action
from triage.domain.tool import Tool, ToolStatus
from triage.ledger.entry import Entry
from triage.services.withdrawal import WITHDRAWN

AUTHORISED = TRANSITIONS[Action.AUTHORISE_RESET].entry_type


@dataclass(frozen=True)
class StoppedOrder:
    """The job's latest reset order when no tool will carry it out: it was withdrawn (its
    tool or operator suspended), or its tool is out of service."""

    work_order_id: str
    tool_id: str
    tool_status: str  # the tool's status now: active, suspended, retired (or unknown)
    withdrawn: str | None  # why it was withdrawn, if it was

    @property
    def tool_out_of_service(self) -> bool:
        return self.tool_status != ToolStatus.ACTIVE.value


def stopped_order(
    entries: Sequence[tuple[int, Entry]], tools: Sequence[Tool]
) -> StoppedOrder | None:
    """The job's latest reset order (from its entries, oldest first) if it was withdrawn or
    its tool is no longer active; None when there is none, or it is still the tool's."""
    latest: Entry | None = None
    withdrawn: str | None = None
    for _, entry in entries:
        if entry.type == AUTHORISED:
            latest, withdrawn = entry, None
        elif (
            entry.type == WITHDRAWN
            and latest is not None
            and entry.data.get("work_order_id") == latest.data["work_order_id"]
        ):
            withdrawn = entry.data.get("reason", "")
    if latest is None:
        return None
    tool_id = latest.data["tool_id"]
    status = next((t.status.value for t in tools if t.id == tool_id), "unknown")
    if withdrawn is None and status == ToolStatus.ACTIVE.value:
        return None
    return StoppedOrder(latest.data["work_order_id"], tool_id, status, withdrawn)
