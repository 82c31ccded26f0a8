"""Triage Tools: enrolling one by its public key, suspending and retiring it.

Reinstating a suspended tool is in ``reinstatement``, beside reinstating an operator.
"""

from __future__ import annotations

from triage.domain.caller import Caller
from triage.domain.reason import Reason
from triage.domain.roles import Permission
from triage.domain.tool import Tool, ToolStatus, check_tool_id, tool_key_name
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.ledger import note
from triage.ledger.entry import Entry, Ref
from triage.ledger.errors import VerificationError
from triage.services import incidents
from triage.services.common import make_entry, record_and_reload
from triage.services.ports import UnitOfWork, UnitOfWorkFactory
from triage.services.withdrawal import withdrawals


def enrol_tool(
    uow_factory: UnitOfWorkFactory, caller: Caller, tool_id: str, bench: str, verifier_key: str
) -> Tool:
    """Register a Triage Tool by its public key; the private key stays on the bench."""
    caller.require(Permission.TOOL_MANAGE)
    check_tool_id(tool_id)
    try:
        parsed = note.parse_verifier_key(verifier_key.strip())
    except VerificationError as exc:
        raise InvalidInput(f"verifier_key: {exc}", field="verifier_key") from exc
    if parsed.name != tool_key_name(tool_id):
        raise InvalidInput(
            f"verifier_key: the key is named {parsed.name!r}; a key for tool {tool_id} must be "
            f"named {tool_key_name(tool_id)!r} (triage agent keygen does this)",
            field="verifier_key",
        )
    if not bench.strip():
        raise InvalidInput("bench: name the bench the tool sits at", field="bench")
    at = uow_factory.clock.now()
    enrolled = Tool(tool_id, bench.strip(), verifier_key.strip(), ToolStatus.ACTIVE, at)
    with uow_factory(write=True) as uow:
        if uow.tools.get(tool_id) is not None:
            raise Conflict(f"tool {tool_id!r} is already enrolled")
        uow.ledger.record(
            [
                make_entry(
                    uow,
                    caller,
                    "tool.enrolled",
                    Ref("tool", tool_id),
                    {"bench": enrolled.bench, "verifier_key": enrolled.verifier_key},
                    enrolled.enrolled_at,
                )
            ]
        )
        uow.commit()
    return enrolled


def suspend_tool(uow_factory: UnitOfWorkFactory, caller: Caller, tool_id: str, reason: str) -> Tool:
    """Stop a tool from being given work or heard from, until a security manager reinstates it."""
    caller.require(Permission.TOOL_MANAGE)
    why = Reason.parse(reason)
    with uow_factory(write=True) as uow:
        suspended = record_tool_suspension(uow, caller, tool_id, why.text)
        uow.commit()
    return suspended


def retire_tool(uow_factory: UnitOfWorkFactory, caller: Caller, tool_id: str, reason: str) -> Tool:
    """Take a tool out of service for good: it is never given work or heard from again."""
    caller.require(Permission.TOOL_MANAGE)
    why = Reason.parse(reason)
    with uow_factory(write=True) as uow:
        return change_status(uow, caller, tool_id, why, "tool.retired")


def record_tool_suspension(uow: UnitOfWork, caller: Caller, tool_id: str, reason: str) -> Tool:
    """Suspend a tool within an open unit of work, which the caller commits (by hand, and for
    the anomaly checks, whose reason is the system's own words); an incident is raised in the
    register in the same transaction (source "tool_suspended")."""
    found = _changeable(uow, tool_id, "tool.suspended")
    entry = make_entry(uow, caller, "tool.suspended", Ref("tool", tool_id), {"reason": reason})
    uow.ledger.record([entry, *_withdrawals(uow, caller, tool_id, "tool.suspended", reason)])
    incidents.raise_automatic(
        uow,
        "tool_suspended",
        Ref("tool", tool_id),
        f"Triage Tool {tool_id} suspended by {caller.id}: {reason}",
        {"reason": reason, "suspended_by": caller.id},
    )
    changed = uow.tools.get(found.id)
    assert changed is not None
    return changed


_FROM = {
    "tool.suspended": (ToolStatus.ACTIVE,),
    "tool.retired": (ToolStatus.ACTIVE, ToolStatus.SUSPENDED),
    "tool.reinstated": (ToolStatus.SUSPENDED,),
}


def change_status(
    uow: UnitOfWork, caller: Caller, tool_id: str, reason: Reason, entry_type: str
) -> Tool:
    """Record a tool's suspension, retirement or reinstatement (``entry_type``) and commit."""
    _changeable(uow, tool_id, entry_type)
    entry = make_entry(uow, caller, entry_type, Ref("tool", tool_id), {"reason": reason.text})
    withdrawn = _withdrawals(uow, caller, tool_id, entry_type, reason.text)
    if entry_type == "tool.reinstated":
        # Orders still outstanding from before the suspension (kept by an older version) are
        # withdrawn before the tool may fetch work again.
        return record_and_reload(uow, [*withdrawn, entry], lambda: uow.tools.get(tool_id))
    return record_and_reload(uow, [entry, *withdrawn], lambda: uow.tools.get(tool_id))


def _withdrawals(
    uow: UnitOfWork, caller: Caller, tool_id: str, entry_type: str, reason: str
) -> list[Entry]:
    """The withdrawal of the tool's outstanding orders as it leaves service (or returns)."""
    if entry_type == "tool.reinstated":
        why = f"tool {tool_id} was suspended while the order was outstanding"
    else:
        why = f"tool {tool_id} was {entry_type.removeprefix('tool.')}: {reason}"
    return withdrawals(uow, caller, why, tool_id=tool_id)


def _changeable(uow: UnitOfWork, tool_id: str, entry_type: str) -> Tool:
    found = uow.tools.get(tool_id)
    if found is None:
        raise NotFound(f"no enrolled tool {tool_id!r}")
    if found.status not in _FROM[entry_type]:
        raise Conflict(
            f"tool {tool_id} is {found.status}; it cannot be {entry_type.removeprefix('tool.')}"
        )
    return found


def active_tool(uow: UnitOfWork, caller: Caller) -> Tool:
    """The calling tool, enrolled and active; PermissionDenied otherwise."""
    tool = uow.tools.get(caller.id)
    if tool is None or tool.status is not ToolStatus.ACTIVE:
        raise PermissionDenied(f"tool {caller.id} is not an active enrolled tool")
    return tool
