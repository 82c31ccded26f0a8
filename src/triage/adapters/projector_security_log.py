"""Projections of the device's security log (issue 17): read orders handed to bench tools
beside reset orders, and the logs recorded for each job (``projector`` imports this module)."""

from __future__ import annotations

from triage.adapters.projector import (
    Insert,
    Op,
    canonical,
    handles,
    set_where,
    work_order_row,
)
from triage.adapters.tables import security_log, work_order
from triage.domain.work_order import READ_SECURITY_LOG
from triage.ledger.entry import Entry

READ_ORDERED = "security_log.read_ordered"
RECORDED = "device.security_log_recorded"


def _issued_reads(job_id: str) -> dict[str, str]:
    """The read orders of a job the tool has not carried out (``set_where``'s keys)."""
    return {"job_id": job_id, "action": READ_SECURITY_LOG, "status": "issued"}


@handles(READ_ORDERED)
def _read_ordered(entry: Entry) -> list[Op]:
    # A new read order replaces one the tool has not carried out yet.
    return [
        set_where(work_order, _issued_reads(entry.data["job_id"]), status="superseded"),
        Insert(work_order, work_order_row(entry, READ_SECURITY_LOG)),
    ]


@handles(RECORDED)
def _recorded(entry: Entry) -> list[Op]:
    data = entry.data
    source = dict(data["source"])
    kind = source.pop("kind")
    row = {
        "job_id": data["job_id"],
        "seq": data["seq"],
        "device_id": entry.subject.id,
        "sha256": data["sha256"],
        "size": data["bytes"],
        "use_case": data["use_case"],
        "outcome": data["outcome"],
        "status": data.get("status"),
        "entry_count": data["entries"],
        "entries": canonical(data["log"]),
        "source": kind,
        "source_detail": canonical(source),
        "recorded_by": entry.actor.id,
        "recorded_at": entry.at,
    }
    ops: list[Op] = [Insert(security_log, row)]
    if "work_order_id" in source:
        ops.append(set_where(work_order, {"id": source["work_order_id"]}, status="completed"))
    return ops


@handles("device.inspected")
def _inspected(entry: Entry) -> list[Op]:
    # Once the device is inspected its log can no longer feed the decision: a read order the
    # tool has not carried out is withdrawn.
    return [set_where(work_order, _issued_reads(entry.data["job_id"]), status="withdrawn")]
