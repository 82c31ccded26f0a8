"""Issue 20 (C): projections of communications hubs back to the DCC.

``device.returned_to_dcc`` (a job step: the job's own state is the main projector's) adds the
hub's return to ``hub_return``; ``hub.policy_set`` keeps the facility's hub policy in
``hub_policy``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from triage.adapters.projector import Insert, Op, Run, handles, set_values
from triage.adapters.tables import hub_policy, hub_return
from triage.ledger.entry import Entry

RETURNED = "device.returned_to_dcc"
POLICY_SET = "hub.policy_set"


def return_row(entry: Entry) -> dict[str, Any]:
    """The ``hub_return`` row of a ``device.returned_to_dcc`` entry (the fake builds the same)."""
    data = entry.data
    return {
        "job_id": data["job_id"],
        "device_id": entry.subject.id,
        "device_type": data.get("device_type"),
        "asset_owner": data.get("asset_owner"),
        "kind": data["kind"],
        "return_type": data["return_type"],
        "dcc_reference": data["reference"],
        "fault_reason": data.get("fault_reason"),
        "connection_method": data.get("connection_method"),
        "other_device_id": data.get("other_device_id"),
        "user_ref_id": data.get("user_ref_id"),
        "incident_reference": data.get("incident_reference"),
        "additional_information": data.get("additional_information"),
        "request_id": data.get("request_id"),
        "returned_by": entry.actor.id,
        "returned_at": entry.at,
    }


@handles(RETURNED)
def _returned(entry: Entry) -> list[Op]:
    return [Insert(hub_return, return_row(entry))]


@handles(POLICY_SET)
def _policy_set(entry: Entry) -> list[Op]:
    values = {
        "allow_reset": bool(entry.data["allow_reset"]),
        "set_by": entry.actor.id,
        "set_at": entry.at,
    }
    facility_id = entry.facility

    def run(conn: Connection) -> None:
        where = hub_policy.c.facility_id == facility_id
        if conn.execute(select(hub_policy.c.facility_id).where(where)).first() is None:
            conn.execute(insert(hub_policy).values(facility_id=facility_id, **values))
        else:
            set_values(hub_policy, where, **values).run(conn)

    return [Run(run)]
