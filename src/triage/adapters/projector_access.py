"""Projection handlers for tools' status and operators' roles and benches."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select

from triage.adapters.projector import Op, Run, handles, set_values
from triage.adapters.tables import operator, operator_bench, tool
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


@handles("operator.benches_assigned")
def _benches_assigned(entry: Entry) -> list[Op]:
    operator_id = entry.subject.id
    benches = set(entry.data["benches"])
    mine = operator_bench.c.operator_id == operator_id

    def run(conn: Connection) -> None:
        # The entry holds the whole new set; a bench kept keeps the time it was first assigned.
        held = set(conn.execute(select(operator_bench.c.bench).where(mine)).scalars())
        if held - benches:
            conn.execute(delete(operator_bench).where(mine, operator_bench.c.bench.not_in(benches)))
        added = sorted(benches - held)
        if added:
            conn.execute(
                insert(operator_bench),
                [{"operator_id": operator_id, "bench": b, "assigned_at": entry.at} for b in added],
            )

    return [Run(run)]
