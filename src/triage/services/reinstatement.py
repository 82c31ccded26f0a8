"""Reinstatement: putting a suspended tool or operator back in service.

Both are a security manager's act with a recorded reason, whoever or whatever suspended them
(an administrator, or the anomaly checks on a breached threshold).
"""

from __future__ import annotations

from triage.domain.caller import Caller
from triage.domain.people import Operator
from triage.domain.reason import Reason
from triage.domain.roles import Permission
from triage.domain.tool import Tool
from triage.errors import Conflict, NotFound
from triage.ledger.entry import Ref
from triage.services import tools
from triage.services.common import make_entry, record_and_reload
from triage.services.ports import UnitOfWorkFactory
from triage.services.withdrawal import withdrawals


def reinstate_tool(
    uow_factory: UnitOfWorkFactory, caller: Caller, tool_id: str, reason: str
) -> Tool:
    """Put a suspended tool back in service."""
    caller.require(Permission.SUSPENSION_REINSTATE)
    why = Reason.parse(reason, what="why the tool may work again")
    with uow_factory(write=True) as uow:
        return tools.change_status(uow, caller, tool_id, why, "tool.reinstated")


def reinstate_operator(
    uow_factory: UnitOfWorkFactory, caller: Caller, operator_id: str, reason: str
) -> Operator:
    """Let a suspended operator act again."""
    caller.require(Permission.SUSPENSION_REINSTATE)
    why = Reason.parse(reason, what="why the operator may act again")
    with uow_factory(write=True) as uow:
        found = uow.operators.get(operator_id)
        if found is None:
            raise NotFound(f"no operator {operator_id!r}")
        if not found.suspended:
            raise Conflict(f"operator {operator_id} is not suspended")
        entry = make_entry(
            uow, caller, "operator.reinstated", Ref("operator", operator_id), {"reason": why.text}
        )
        # Orders still outstanding from before the suspension (kept by an older version) are
        # withdrawn before the operator may act again.
        withdrawn = withdrawals(
            uow,
            caller,
            f"operator {operator_id} was suspended while the order was outstanding",
            operator_id=operator_id,
        )
        return record_and_reload(uow, [*withdrawn, entry], lambda: uow.operators.get(operator_id))
