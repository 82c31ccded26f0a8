"""Projection handlers: Retention of evidence files, legal holds and consignment outcome reports
(issue 19 items 3 and 7).

Every entry that records an evidence file (a bench photo, a device's raw security log, an
assurance document) is indexed in ``evidence_file``, so that a purge finds what it may delete;
``retention.rule_set``, ``legal_hold.placed`` / ``.released`` and ``evidence.purged`` keep the
rules, the holds and what was purged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, insert, select

from triage.adapters import fastsql
from triage.adapters.projector import Insert, Op, Run, handles, set_values
from triage.adapters.tables import (
    evidence_file,
    evidence_purge,
    legal_hold,
    retention_rule,
)
from triage.ledger.entry import Entry

_Rows = Callable[[Entry], list[dict[str, Any]]]


def _photo(entry: Entry) -> list[dict[str, Any]]:
    data = entry.data
    extension = "png" if data["media_type"] == "image/png" else "jpg"
    return [
        {
            "sha256": data["sha256"],
            "kind": "device_photo",
            "ref": data["job_id"],
            "name": f"photo of {entry.subject.id}.{extension}",
            "size": data["size"],
        }
    ]


def _security_log(entry: Entry) -> list[dict[str, Any]]:
    data = entry.data
    return [
        {
            "sha256": data["sha256"],
            "kind": "security_log",
            "ref": data["job_id"],
            "name": f"security log {data['seq']} of {entry.subject.id}.gbcs",
            "size": data["bytes"],
        }
    ]


def _destruction(entry: Entry) -> list[dict[str, Any]]:
    # A destruction recorded before its evidence was required names no files.
    return [
        {
            "sha256": item["sha256"],
            "kind": "destruction_evidence",
            "ref": entry.data["job_id"],
            "name": f"destruction of {entry.subject.id} ({item['media_type']})",
            "size": item["size"],
        }
        for item in entry.data.get("evidence", [])
    ]


def _assurance(kind: str) -> _Rows:
    def rows(entry: Entry) -> list[dict[str, Any]]:
        data = entry.data
        name = (data.get("filename") or data["name"])[:300]
        return [
            {
                "sha256": data["sha256"],
                "kind": kind,
                "ref": data["evidence_id"],
                "name": name,
                "size": data["size"],
            }
        ]

    return rows


# The entry types that record evidence files, by kind (domain.retention.KINDS).
FILE_RECORDS: dict[str, _Rows] = {
    "device.photo_attached": _photo,
    "device.security_log_recorded": _security_log,
    "device.destroyed": _destruction,
    "assurance.evidence_uploaded": _assurance("assurance_upload"),
    "assurance.evidence_generated": _assurance("assurance_generated"),
}


def file_rows(entry: Entry) -> list[dict[str, Any]]:
    """The ``evidence_file`` rows of an entry that records files (one of FILE_RECORDS)."""
    about_device = entry.subject.kind == "device"
    return [
        {
            **row,
            "recorded_at": entry.at,
            "device_id": entry.subject.id if about_device else None,
            "job_id": entry.data.get("job_id") if about_device else None,
        }
        for row in FILE_RECORDS[entry.type](entry)
    ]


def _index(row: dict[str, Any]) -> Callable[[Connection], None]:
    def run(conn: Connection) -> None:
        # The same content recorded twice for one job (a photo attached again) is one record.
        key = {"sha256": row["sha256"], "kind": row["kind"], "ref": row["ref"]}
        if fastsql.row_where(conn, evidence_file, **key) is None:
            fastsql.insert_rows(conn, evidence_file, [row])

    return run


@handles(*FILE_RECORDS)
def _file_recorded(entry: Entry) -> list[Op]:
    return [Run(_index(row)) for row in file_rows(entry)]


@handles("retention.rule_set")
def _rule_set(entry: Entry) -> list[Op]:
    data = entry.data
    values = {
        "days": data["days"],
        "counted_from": data["counted_from"],
        "set_by": entry.actor.id,
        "set_at": entry.at,
    }

    def run(conn: Connection) -> None:
        where = retention_rule.c.kind == data["kind"]
        if conn.execute(select(retention_rule.c.kind).where(where)).first() is None:
            conn.execute(insert(retention_rule).values(kind=data["kind"], **values))
        else:
            set_values(retention_rule, where, **values).run(conn)

    return [Run(run)]


@handles("legal_hold.placed")
def _hold_placed(entry: Entry) -> list[Op]:
    data = entry.data
    row = {
        "id": data["hold_id"],
        "scope": data["scope"],
        "target": data["target"],
        "reason": data["reason"],
        "placed_by": entry.actor.id,
        "placed_at": entry.at,
    }
    return [Insert(legal_hold, row)]


@handles("legal_hold.released")
def _hold_released(entry: Entry) -> list[Op]:
    return [
        set_values(
            legal_hold,
            legal_hold.c.id == entry.data["hold_id"],
            released_by=entry.actor.id,
            released_at=entry.at,
            release_reason=entry.data["reason"],
        )
    ]


@handles("evidence.purged")
def _purged(entry: Entry) -> list[Op]:
    data = entry.data
    row = {
        "sha256": data["sha256"],
        "purged_at": entry.at,
        "kind": data["kind"],
        "name": data["name"],
        "size": data["size"],
        "rule_days": data["rule"]["days"],
        "purged_by": entry.actor.id,
    }
    return [Insert(evidence_purge, row)]
