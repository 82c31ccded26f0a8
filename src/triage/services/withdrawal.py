"""Withdrawing the work orders of a tool or operator taken out of service.

An order still outstanding when its tool or the operator who gave it is suspended (or the tool
retired) is withdrawn then, each with its own ledger entry about the device, so the agent never
carries it out: not while the suspension lasts, and not after a reinstatement either. A reset
order withdrawn was never attempted, so it gives its attempt back; the job stays with its
reset authorised and no live order, and the bench may give it a new one.
"""

from __future__ import annotations

from triage.domain.caller import Caller
from triage.domain.work_order import FACTORY_RESET
from triage.ledger.entry import Entry
from triage.services.common import device_ref, make_entry
from triage.services.ports import UnitOfWork

WITHDRAWN = "work_order.withdrawn"


def withdrawals(
    uow: UnitOfWork,
    caller: Caller,
    why: str,
    *,
    tool_id: str | None = None,
    operator_id: str | None = None,
) -> list[Entry]:
    """The entries withdrawing every order still issued to ``tool_id`` or given by
    ``operator_id`` (expired or not: the sweep must not count one as a failed reset), for the
    caller to record with the suspension that is ``why``."""
    entries = []
    for order in uow.work_orders.outstanding(tool_id=tool_id, operator_id=operator_id):
        data: dict[str, object] = {
            "job_id": order.job_id,
            "work_order_id": order.id,
            "action": order.action,
            "tool_id": order.tool_id,
            "operator_id": order.operator_id,
            "reason": why[:500],
        }
        if order.action == FACTORY_RESET:
            job = uow.jobs.get(order.job_id)
            if job is not None:
                data["reset_attempts"] = max(job.reset_attempts - 1, 0)
        entries.append(make_entry(uow, caller, WITHDRAWN, device_ref(order.device_id), data))
    return entries
