"""Issue 20 (A): projections of Smart Metering Inventory readings (DUIS 8.2 in) and of the SMI
gate's refused statuses."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert

from triage.adapters.projector import Op, Run, handles, next_id
from triage.adapters.tables import smi_policy, smi_reading
from triage.ledger.entry import Entry, parse_time

READ = "device.inventory_read"
POLICY_SET = "inventory.smi_policy_set"


@handles(READ)
def _read(entry: Entry) -> list[Op]:
    data = entry.data
    row = {
        "device_id": entry.subject.id,
        "status": data["status"],
        "device_type": data["device_type"],
        "manufacturer": data["manufacturer"],
        "model": data["model"],
        "firmware_version": data["firmware_version"],
        "smets_chts_version": data["smets_chts_version"],
        "chf_id": data["chf_id"],
        "date_commissioned": data["date_commissioned"],
        "response_id": data["response_id"],
        "request_id": data["request_id"],
        "response_at": parse_time(data["response_at"]),
        "sha256": data["sha256"],
        "job_id": data["job_id"],
        "consignment_id": data["consignment_id"],
        "recorded_by": entry.actor.id,
        "recorded_at": entry.at,
    }

    def run(conn: Connection) -> None:
        conn.execute(insert(smi_reading).values(seq=next_id(conn, smi_reading.c.seq), **row))

    return [Run(run)]


@handles(POLICY_SET)
def _policy_set(entry: Entry) -> list[Op]:
    row = {
        "facility_id": entry.subject.id,
        "refused": ",".join(entry.data["refused"]),
        "set_by": entry.actor.id,
        "set_at": entry.at,
    }

    def run(conn: Connection) -> None:
        conn.execute(delete(smi_policy).where(smi_policy.c.facility_id == row["facility_id"]))
        conn.execute(insert(smi_policy).values(**row))

    return [Run(run)]
