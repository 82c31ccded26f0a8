"""Projection handlers for device custody (issue 19 items 5 and 6): locations, where each
device is, device stocktakes, and the seal drawn at random for a job.

A facility has its default locations from its creation. A device is put at the receiving
location by ``device.received`` (at the bench it names, if it names one), moved by
``device.moved`` and leaves the facility's custody by ``device.left``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert

from triage.adapters.projector import Insert, Op, Run, canonical, handles, put_row, set_values
from triage.adapters.tables import (
    device_location,
    device_stocktake,
    facility_settings,
    location,
    seal_draw,
)
from triage.domain.custody import DEFAULT_LOCATIONS, RECEIVING
from triage.ledger.entry import Entry

_CHANGEABLE = ("name", "kind", "active")


@handles("facility.created")
def _defaults(entry: Entry) -> list[Op]:
    return [
        Insert(
            location,
            {
                "code": code,
                "name": name,
                "kind": kind.value,
                "active": True,
                "defined_at": entry.at,
                "updated_at": entry.at,
            },
        )
        for code, name, kind in DEFAULT_LOCATIONS
    ]


@handles("facility.settings_changed")
def _settings(entry: Entry) -> list[Op]:
    """The custody settings (the facility's others are the main projector's)."""
    values = {
        k: entry.data[k] for k in ("idle_device_days", "random_seal_issue") if k in entry.data
    }
    if not values:
        return []
    return [
        set_values(facility_settings, facility_settings.c.facility_id == entry.subject.id, **values)
    ]


@handles("location.defined")
def _defined(entry: Entry) -> list[Op]:
    row = {
        "code": entry.subject.id,
        "name": entry.data["name"],
        "kind": entry.data["kind"],
        "active": True,
        "defined_at": entry.at,
        "updated_at": entry.at,
    }
    return [Insert(location, row)]


@handles("location.changed")
def _changed(entry: Entry) -> list[Op]:
    changed = {k: entry.data[k] for k in _CHANGEABLE if k in entry.data}
    where = location.c.code == entry.subject.id
    return [set_values(location, where, **changed, updated_at=entry.at)]


def _put(device_id: str, at_location: str | None, entry: Entry) -> Run:
    row: dict[str, Any] = {"device_id": device_id, "location": at_location, "since": entry.at}

    def run(conn: Connection) -> None:
        put_row(conn, device_location, row)

    return Run(run)


@handles("device.received")
def _received(entry: Entry) -> list[Op]:
    # Receipt at a bench (a bench scan opened the job) puts the device at that bench.
    return [_put(entry.subject.id, entry.data.get("bench") or RECEIVING, entry)]


@handles("device.moved")
def _moved(entry: Entry) -> list[Op]:
    return [_put(entry.subject.id, entry.data["to"], entry)]


@handles("device.left")
def _left(entry: Entry) -> list[Op]:
    return [_put(entry.subject.id, None, entry)]


@handles("device_stocktake.recorded")
def _stocktake(entry: Entry) -> list[Op]:
    data = entry.data
    row = {
        "id": data["stocktake_id"],
        "location": data["location"],
        "counted_by": entry.actor.id,
        "at": entry.at,
        "expected": data["expected"],
        "counted": data["counted"],
        "matched": data["matched"],
        "missing": canonical(data["missing"]),
        "unexpected": canonical(data["unexpected"]),
    }
    return [Insert(device_stocktake, row)]


@handles("seal.drawn")
def _drawn(entry: Entry) -> list[Op]:
    # A job has one drawn seal: a new draw (the last one was used up, or another operator took
    # the job over) replaces it.
    job_id = entry.data["job_id"]
    row = {
        "job_id": job_id,
        "serial": entry.data["serial"],
        "operator_id": entry.actor.id,
        "at": entry.at,
    }

    def run(conn: Connection) -> None:
        conn.execute(delete(seal_draw).where(seal_draw.c.job_id == job_id))
        conn.execute(insert(seal_draw).values(**row))

    return [Run(run)]
