"""Issue 19 (B): dispatches, their packed devices, handovers and acknowledgements, read from the
projections (uow.dispatches).
"""

from __future__ import annotations

import json

from sqlalchemy import Connection, RowMapping, func, select

from triage.adapters.rows import utc
from triage.adapters.tables import (
    dispatch,
    dispatch_device,
    dispatch_discrepancy,
    dispatch_refusal,
)
from triage.domain.dispatch import (
    Acknowledgement,
    Destination,
    Discrepancy,
    DiscrepancyKind,
    Dispatch,
    DispatchState,
    DispatchSummary,
    Handover,
    PackedDevice,
    RefusedPacking,
    SealChecks,
)


class SqlDispatchRepository:
    """``DispatchRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, dispatch_id: str) -> Dispatch | None:
        row = (
            self._conn.execute(select(dispatch).where(dispatch.c.id == dispatch_id))
            .mappings()
            .first()
        )
        if row is None:
            return None
        devices = self._conn.execute(
            select(dispatch_device)
            .where(dispatch_device.c.dispatch_id == dispatch_id)
            .order_by(dispatch_device.c.packed_at, dispatch_device.c.device_id)
        ).mappings()
        refused = self._conn.execute(
            select(dispatch_refusal)
            .where(dispatch_refusal.c.dispatch_id == dispatch_id)
            .order_by(dispatch_refusal.c.refused_at, dispatch_refusal.c.exception_id)
        ).mappings()
        found = self._conn.execute(
            select(dispatch_discrepancy)
            .where(dispatch_discrepancy.c.dispatch_id == dispatch_id)
            .order_by(dispatch_discrepancy.c.position)
        ).mappings()
        return Dispatch(
            id=row["id"],
            asset_owner=row["asset_owner"],
            destination=Destination(row["destination"]),
            reference=row["reference"],
            state=DispatchState(row["state"]),
            created_by=row["created_by"],
            created_at=utc(row["created_at"]),
            devices=tuple(_packed(r) for r in devices),
            refused=tuple(_refused(r) for r in refused),
            closed_at=utc(row["closed_at"]),
            manifest_digest=row["manifest_sha256"],
            note_digest=row["note_sha256"],
            handover=_handover(row),
            acknowledgement=_acknowledgement(row),
            discrepancies=tuple(_discrepancy(r) for r in found),
        )

    def page(
        self, owner: str | None, state: DispatchState | None, offset: int, limit: int
    ) -> tuple[list[DispatchSummary], int]:
        where = []
        if owner is not None:
            where.append(dispatch.c.asset_owner == owner)
        if state is not None:
            where.append(dispatch.c.state == state.value)
        total = self._conn.execute(
            select(func.count()).select_from(dispatch).where(*where)
        ).scalar_one()
        count = (
            select(func.count())
            .where(dispatch_device.c.dispatch_id == dispatch.c.id)
            .scalar_subquery()
        )
        rows = self._conn.execute(
            select(dispatch, count.label("device_count"))
            .where(*where)
            .order_by(dispatch.c.created_at.desc(), dispatch.c.id)
            .offset(offset)
            .limit(limit)
        ).mappings()
        return [
            DispatchSummary(
                r["id"],
                r["asset_owner"],
                Destination(r["destination"]),
                r["reference"],
                DispatchState(r["state"]),
                utc(r["created_at"]),
                int(r["device_count"]),
            )
            for r in rows
        ], int(total)

    def holding(self, job_id: str) -> str | None:
        found = self._conn.execute(
            select(dispatch.c.id)
            .join(dispatch_device, dispatch_device.c.dispatch_id == dispatch.c.id)
            .where(
                dispatch_device.c.job_id == job_id,
                dispatch.c.state != DispatchState.CANCELLED.value,
            )
        ).first()
        return None if found is None else str(found[0])

    def note(self, dispatch_id: str) -> bytes | None:
        found = self._conn.execute(
            select(dispatch.c.note).where(dispatch.c.id == dispatch_id)
        ).first()
        return None if found is None or found[0] is None else str(found[0]).encode("utf-8")


def _packed(row: RowMapping) -> PackedDevice:
    return PackedDevice(
        row["device_id"],
        row["job_id"],
        row["seal_serial"],
        SealChecks.from_json(json.loads(row["checks"])),
        row["packed_by"],
        utc(row["packed_at"]),
    )


def _refused(row: RowMapping) -> RefusedPacking:
    return RefusedPacking(
        row["device_id"],
        row["seal_serial"],
        SealChecks.from_json(json.loads(row["checks"])),
        row["exception_id"],
        row["refused_by"],
        utc(row["refused_at"]),
    )


def _discrepancy(row: RowMapping) -> Discrepancy:
    kind = DiscrepancyKind(row["kind"])
    return Discrepancy(row["device_id"], kind, row["text"], row["exception_id"])


def _handover(row: RowMapping) -> Handover | None:
    if row["handed_over_at"] is None:
        return None
    return Handover(
        row["carrier"],
        row["vehicle"],
        row["container_seal"],
        row["handed_over_by"],
        utc(row["handed_over_at"]),
    )


def _acknowledgement(row: RowMapping) -> Acknowledgement | None:
    if row["acknowledged_at"] is None:
        return None
    return Acknowledgement(
        row["acknowledged_by"],
        row["acknowledged_how"],
        row["acknowledgement_sha256"],
        utc(row["acknowledged_at"]),
    )
