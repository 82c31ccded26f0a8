"""Devices received, read from the projections (uow.devices)."""

from __future__ import annotations

from datetime import UTC
from typing import cast

from sqlalchemy import ColumnElement, Connection, RowMapping, bindparam, select, tuple_

from triage.adapters.fastsql import Statement
from triage.adapters.rows import device_from_row, utc
from triage.adapters.tables import consignment, device, triage_job
from triage.domain.device import Device
from triage.domain.device_list import DeviceQuery, ListedDevice, Position
from triage.domain.lifecycle import JobState

# Read by nearly every step of the device path (compiled once: fastsql).
_DEVICE = Statement(select(device).where(device.c.id == bindparam("device_id")))


def _conditions(query: DeviceQuery, after: Position | None) -> list[ColumnElement[bool]]:
    job = triage_job.c
    where: list[ColumnElement[bool]] = []
    if query.device_id is not None:
        # Said of the device's row as well as the job's: the join then reads both indexes from
        # the id on (a merge join would otherwise read the devices from the first id).
        if query.exact_id:
            where += [job.device_id == query.device_id, device.c.id == query.device_id]
        else:
            low, high = query.id_range()
            where += [job.device_id.between(low, high), device.c.id.between(low, high)]
    if query.consignment is not None:
        named = select(consignment.c.id).where(consignment.c.reference == query.consignment)
        where.append(job.consignment_id.in_(named))
    if query.state is not None:
        where.append(job.state == query.state.value)
    if query.asset_owner is not None:
        where.append(device.c.asset_owner == query.asset_owner)
    if query.owner is not None:
        where.append(device.c.asset_owner == query.owner)
    if query.received_from is not None:
        where.append(job.opened_at >= query.received_from.astimezone(UTC))
    if query.received_before is not None:
        where.append(job.opened_at < query.received_before.astimezone(UTC))
    if after is not None and query.by_id:
        where.append(
            tuple_(job.device_id, job.opened_at, job.id)
            > tuple_(after.device_id, after.received_at.astimezone(UTC), after.job_id)
        )
    elif after is not None:
        # A row value: both databases walk the (..., opened_at, id) indexes from this point.
        where.append(
            tuple_(job.opened_at, job.id) < tuple_(after.received_at.astimezone(UTC), after.job_id)
        )
    return where


class SqlDeviceRepository:
    """``DeviceRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, device_id: str) -> Device | None:
        row = _DEVICE.first_mapping(self._conn, device_id=device_id)
        # A dict by column name: all that device_from_row reads of a row.
        return None if row is None else device_from_row(cast(RowMapping, row))

    def search(self, query: DeviceQuery, after: Position | None, limit: int) -> list[ListedDevice]:
        job = triage_job.c
        statement = (
            select(
                job.device_id,
                job.id,
                job.state,
                job.consignment_id,
                consignment.c.reference,
                device.c.asset_owner,
                device.c.manufacturer,
                device.c.model,
                job.opened_at,
                job.updated_at,
                job.closed_at,
            )
            .select_from(
                triage_job.join(device, device.c.id == job.device_id).outerjoin(
                    consignment, consignment.c.id == job.consignment_id
                )
            )
            .where(*_conditions(query, after))
            .order_by(
                *(
                    (job.device_id, job.opened_at, job.id)
                    if query.by_id
                    else (job.opened_at.desc(), job.id.desc())
                )
            )
            .limit(limit)
        )
        return [
            ListedDevice(
                device_id=row.device_id,
                job_id=row.id,
                state=JobState(row.state),
                consignment_id=row.consignment_id,
                consignment_reference=row.reference,
                asset_owner=row.asset_owner,
                manufacturer=row.manufacturer,
                model=row.model,
                received_at=utc(row.opened_at),
                updated_at=utc(row.updated_at),
                closed_at=utc(row.closed_at),
            )
            for row in self._conn.execute(statement)
        ]
