"""Projection handlers for destruction and return evidence (issue 19 item 4).

``destruction_method.set`` carries a whole method (a new one, or every field of a changed one).
The default methods are seeded by the migration; ``facility.created`` seeds them on a replay,
where they are missing, so that replay rebuilds the same table. A ``device.destroyed`` entry
recorded with a method (and a ``device.returned_to_manufacturer`` entry with the manufacturer)
adds the device's ``disposal`` row; entries recorded before destruction evidence existed add
none, on the live path as on a replay. ``disposal.witnessed`` names the witness.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, insert, select, update

from triage.adapters.projector import Insert, Op, Run, canonical, handles, set_values
from triage.adapters.tables import destruction_method, disposal
from triage.domain.disposal import DEFAULT_METHODS, DESTROY, RETURN
from triage.ledger.entry import Entry


@handles("facility.created")
def _seed_methods(entry: Entry) -> list[Op]:
    def run(conn: Connection) -> None:
        if conn.execute(select(destruction_method.c.code).limit(1)).first() is None:
            rows = [{**m.as_data(), "updated_at": None} for m in DEFAULT_METHODS]
            conn.execute(insert(destruction_method), rows)

    return [Run(run)]


@handles("destruction_method.set")
def _method_set(entry: Entry) -> list[Op]:
    row = {**entry.data, "updated_at": entry.at}

    def run(conn: Connection) -> None:
        changed = conn.execute(
            update(destruction_method).where(destruction_method.c.code == row["code"]).values(**row)
        )
        if changed.rowcount == 0:
            conn.execute(insert(destruction_method).values(**row))

    return [Run(run)]


def _row(entry: Entry, kind: str) -> dict[str, Any]:
    data = entry.data
    return {
        "job_id": data["job_id"],
        "device_id": entry.subject.id,
        "kind": kind,
        "reference": data["reference"],
        "recorded_by": entry.actor.id,
        "recorded_at": entry.at,
        "role": data.get("role"),
        "manufacturer": data.get("manufacturer"),
        "model": data.get("model"),
        "device_type": data.get("device_type"),
        "asset_owner": data.get("asset_owner"),
        "method": None,
        "site": None,
        "contact": None,
        "destroyed_on": None,
        "evidence": canonical([]),
        "witness_id": None,
        "witness_statement": None,
        "witnessed_at": None,
    }


@handles("device.destroyed")
def _destroyed(entry: Entry) -> list[Op]:
    data = entry.data
    if not isinstance(data.get("method"), dict):
        return []
    row = _row(entry, DESTROY) | {
        "method": canonical(data["method"]),
        "site": data["site"],
        "contact": data.get("contact") or None,
        "destroyed_on": date.fromisoformat(data["destroyed_on"]),
        "evidence": canonical(data["evidence"]),
    }
    return [Insert(disposal, row)]


@handles("device.returned_to_manufacturer")
def _returned(entry: Entry) -> list[Op]:
    if "manufacturer" not in entry.data:
        return []
    return [Insert(disposal, _row(entry, RETURN))]


@handles("disposal.witnessed")
def _witnessed(entry: Entry) -> list[Op]:
    return [
        set_values(
            disposal,
            disposal.c.job_id == entry.data["job_id"],
            witness_id=entry.actor.id,
            witness_statement=entry.data["statement"],
            witnessed_at=entry.at,
        )
    ]
