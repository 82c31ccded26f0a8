"""Projection handlers for tools' status and operators' roles."""

from __future__ import annotations

from triage.adapters.projector import Op, handles, set_values
from triage.adapters.tables import operator, tool
from triage.ledger.entry import Entry

_TOOL_STATUS = {
    "tool.suspended": "suspended",
    "tool.reinstated": "active",
    "tool.retired": "retired",
}


@handles(*_TOOL_STATUS)
def _tool_status(entry: Entry) -> list[Op]:
    return [
        set_values(
            tool,
            tool.c.id == entry.subject.id,
            status=_TOOL_STATUS[entry.type],
            status_reason=entry.data["reason"],
            status_changed_at=entry.at,
        )
    ]


@handles("operator.roles_changed")
def _roles_changed(entry: Entry) -> list[Op]:
    roles = ",".join(sorted(entry.data["roles"]))
    return [set_values(operator, operator.c.id == entry.subject.id, roles=roles)]


@handles("operator.deactivated")
def _deactivated(entry: Entry) -> list[Op]:
    return [set_values(operator, operator.c.id == entry.subject.id, active=False)]
