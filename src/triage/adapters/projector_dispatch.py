"""Projection handlers: Dispatches, manifests, VVTT checks, handovers, acknowledgements
(issue 19 item 2).

Every entry is about the dispatch (subject ``dispatch``); ``dispatch.closed`` carries the signed
dispatch note (document and signature), from which its file is rebuilt byte for byte.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete

from triage.adapters.projector import Insert, Op, Run, canonical, handles, set_values
from triage.adapters.tables import (
    dispatch,
    dispatch_device,
    dispatch_discrepancy,
    dispatch_refusal,
)
from triage.domain.dispatch import NOTE_KIND, DispatchState
from triage.domain.signed_document import SignedDocument
from triage.ledger.entry import Entry


def _state(entry: Entry, state: DispatchState, **values: object) -> Op:
    return set_values(dispatch, dispatch.c.id == entry.subject.id, state=state.value, **values)


@handles("dispatch.created")
def _created(entry: Entry) -> list[Op]:
    row = {
        "id": entry.subject.id,
        "asset_owner": entry.data["asset_owner"],
        "destination": entry.data["destination"],
        "reference": entry.data.get("reference"),
        "state": DispatchState.OPEN.value,
        "created_by": entry.actor.id,
        "created_at": entry.at,
    }
    return [Insert(dispatch, row)]


@handles("dispatch.device_packed")
def _packed(entry: Entry) -> list[Op]:
    row = {
        "dispatch_id": entry.subject.id,
        "device_id": entry.data["device_id"],
        "job_id": entry.data["job_id"],
        "seal_serial": entry.data.get("seal_serial"),
        "checks": canonical(entry.data["checks"]),
        "packed_by": entry.actor.id,
        "packed_at": entry.at,
    }
    return [Insert(dispatch_device, row)]


@handles("dispatch.device_unpacked")
def _unpacked(entry: Entry) -> list[Op]:
    statement = delete(dispatch_device).where(
        dispatch_device.c.dispatch_id == entry.subject.id,
        dispatch_device.c.device_id == entry.data["device_id"],
    )

    def run(conn: Connection) -> None:
        conn.execute(statement)

    return [Run(run)]


@handles("dispatch.pack_refused")
def _refused(entry: Entry) -> list[Op]:
    row = {
        "exception_id": entry.data["exception_id"],
        "dispatch_id": entry.subject.id,
        "device_id": entry.data["device_id"],
        "seal_serial": entry.data["seal_serial"],
        "checks": canonical(entry.data["checks"]),
        "refused_by": entry.actor.id,
        "refused_at": entry.at,
    }
    return [Insert(dispatch_refusal, row)]


@handles("dispatch.cancelled")
def _cancelled(entry: Entry) -> list[Op]:
    return [_state(entry, DispatchState.CANCELLED)]


@handles("dispatch.closed")
def _closed(entry: Entry) -> list[Op]:
    signed = SignedDocument(NOTE_KIND, entry.data["document"], entry.data["signature"])
    return [
        _state(
            entry,
            DispatchState.CLOSED,
            closed_at=entry.at,
            manifest_sha256=entry.data["manifest_sha256"],
            note_sha256=entry.data["note_sha256"],
            note=signed.to_json().decode("utf-8"),
        )
    ]


@handles("dispatch.handed_over")
def _handed_over(entry: Entry) -> list[Op]:
    return [
        _state(
            entry,
            DispatchState.HANDED_OVER,
            carrier=entry.data["carrier"],
            vehicle=entry.data["vehicle"],
            container_seal=entry.data["container_seal"],
            handed_over_by=entry.actor.id,
            handed_over_at=entry.at,
        )
    ]


@handles("dispatch.acknowledged")
def _acknowledged(entry: Entry) -> list[Op]:
    ops: list[Op] = [
        _state(
            entry,
            DispatchState.ACKNOWLEDGED,
            acknowledged_by=entry.actor.id,
            acknowledged_how=entry.data["how"],
            acknowledgement_sha256=entry.data.get("acknowledgement_sha256"),
            acknowledged_at=entry.at,
        )
    ]
    for position, item in enumerate(entry.data["discrepancies"]):
        row = {
            "exception_id": item["exception_id"],
            "dispatch_id": entry.subject.id,
            "position": position,
            "device_id": item["device_id"],
            "kind": item["kind"],
            "text": item["text"],
        }
        ops.append(Insert(dispatch_discrepancy, row))
    return ops
