"""Issue 20 (B): projections of DUIS requests out (8.4, 8.3, 8.14.3, 8.14.4): the requests
written, the batches handed out, each asset owner's DCC User and the facility's DUIS settings.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, delete, insert, update

from triage.adapters.projector import Insert, Op, Run, handles
from triage.adapters.tables import duis_batch, duis_dcc_user, duis_request, duis_setting
from triage.ledger.entry import Entry


@handles("duis.request_written")
def _written(entry: Entry) -> list[Op]:
    data = entry.data
    row = {
        "request_id": data["request_id"],
        "originator": data["originator"],
        "counter": data["counter"],
        "service_reference": data["service_reference"],
        "description": data["description"],
        "device_id": data["device_id"],
        "asset_owner": data.get("asset_owner"),
        "job_id": data.get("job_id"),
        "purpose": data["purpose"],
        "subject_kind": entry.subject.kind,
        "subject_id": entry.subject.id,
        "sha256": data["sha256"],
        "size": data["size"],
        "produced_by": entry.actor.id,
        "produced_at": entry.at,
        "batch_id": None,
        "xml": data["xml"],
    }
    return [Insert(duis_request, row)]


@handles("duis.batch_produced")
def _batch(entry: Entry) -> list[Op]:
    data = entry.data
    row = {
        "id": entry.subject.id,
        "asset_owner": data["asset_owner"],
        "sha256": data["sha256"],
        "size": data["size"],
        "request_count": len(data["request_ids"]),
        "dispatch_id": data.get("dispatch_id"),
        "consignment_id": data.get("consignment_id"),
        "produced_by": entry.actor.id,
        "produced_at": entry.at,
    }
    batched = (
        update(duis_request)
        .where(duis_request.c.request_id.in_(list(data["request_ids"])))
        .values(batch_id=entry.subject.id)
    )

    def run(conn: Connection) -> None:
        conn.execute(batched)

    return [Insert(duis_batch, row), Run(run)]


def _replace(table: Table, where: Any, row: dict[str, Any]) -> Run:
    """The row that the entry sets, in place of the one before it."""

    def run(conn: Connection) -> None:
        conn.execute(delete(table).where(where))
        conn.execute(insert(table).values(**row))

    return Run(run)


@handles("duis.dcc_user_set")
def _dcc_user(entry: Entry) -> list[Op]:
    owner = entry.subject.id
    row = {
        "asset_owner": owner,
        "originator": entry.data["originator"],
        "set_by": entry.actor.id,
        "set_at": entry.at,
    }
    return [_replace(duis_dcc_user, duis_dcc_user.c.asset_owner == owner, row)]


def _setting(entry: Entry, name: str, value: str) -> list[Op]:
    row = {"name": name, "value": value, "set_by": entry.actor.id, "set_at": entry.at}
    return [_replace(duis_setting, duis_setting.c.name == name, row)]


@handles("duis.target_set")
def _target(entry: Entry) -> list[Op]:
    return _setting(entry, "target", entry.data["target"])


@handles("duis.rules_set")
def _rules(entry: Entry) -> list[Op]:
    return _setting(entry, "rules", entry.data["source"])
