"""Device locations, where each device is, device stocktakes and the seals drawn at random,
read from the projections (uow.custody)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, case, func, select

from triage.adapters.fastsql import Statement
from triage.adapters.rows import utc
from triage.adapters.tables import device, device_location, device_stocktake, location, seal_draw
from triage.domain.custody import (
    DeviceCustody,
    DeviceStocktake,
    IdleDevice,
    Location,
    LocationCount,
    LocationKind,
    SealDraw,
    UnexpectedDevice,
)

_CHUNK = 500

# Read when a device is scanned at a bench (compiled once: fastsql).
_LOCATION = Statement(select(location).where(location.c.code == bindparam("code")))


class SqlCustodyRepository:
    """``CustodyRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def location(self, code: str) -> Location | None:
        found = _LOCATION.first_mapping(self._conn, code=code)
        return None if found is None else _location(found)

    def locations(self) -> list[Location]:
        rows = self._conn.execute(select(location).order_by(location.c.code)).mappings()
        return [_location(row) for row in rows]

    def where(self, device_id: str) -> DeviceCustody | None:
        query = select(device_location).where(device_location.c.device_id == device_id)
        row = self._conn.execute(query).mappings().first()
        if row is None:
            return None
        return DeviceCustody(row["device_id"], row["location"], utc(row["since"]))

    def recorded_at(self, device_ids: Sequence[str]) -> dict[str, str | None]:
        ordered = sorted(set(device_ids))
        found: dict[str, str | None] = {}
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            query = select(device_location.c.device_id, device_location.c.location).where(
                device_location.c.device_id.in_(chunk)
            )
            found.update((d, at) for d, at in self._conn.execute(query))
        return found

    def devices_at(self, code: str) -> list[str]:
        query = select(device_location.c.device_id).where(device_location.c.location == code)
        return sorted(self._conn.execute(query).scalars())

    def counts(self, idle_before: datetime, owner: str | None) -> list[LocationCount]:
        idle = func.sum(case((device_location.c.since < idle_before, 1), else_=0))
        query = (
            select(device_location.c.location, func.count(), idle)
            .select_from(device_location.join(device, _same_device))
            .where(device_location.c.location.is_not(None), *_owned(owner))
            .group_by(device_location.c.location)
            .order_by(device_location.c.location)
        )
        return [
            LocationCount(code, int(n), int(i or 0)) for code, n, i in self._conn.execute(query)
        ]

    def longest_at(
        self,
        code: str | None,
        idle_before: datetime | None,
        owner: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[IdleDevice], int]:
        where: list[Any] = [device_location.c.location.is_not(None), *_owned(owner)]
        if code is not None:
            where.append(device_location.c.location == code)
        if idle_before is not None:
            where.append(device_location.c.since < idle_before)
        joined = device_location.join(device, _same_device)
        total = self._conn.execute(
            select(func.count()).select_from(joined).where(*where)
        ).scalar_one()
        query = (
            select(
                device_location.c.device_id,
                device_location.c.location,
                device_location.c.since,
                device.c.asset_owner,
            )
            .select_from(joined)
            .where(*where)
            .order_by(device_location.c.since, device_location.c.device_id)
            .offset(offset)
            .limit(limit)
        )
        rows = self._conn.execute(query).mappings()
        shown = [
            IdleDevice(r["device_id"], r["location"], utc(r["since"]), r["asset_owner"])
            for r in rows
        ]
        return shown, int(total)

    def stocktake(self, stocktake_id: str) -> DeviceStocktake | None:
        query = select(device_stocktake).where(device_stocktake.c.id == stocktake_id)
        row = self._conn.execute(query).mappings().first()
        return None if row is None else _stocktake(row)

    def stocktakes(self, offset: int, limit: int) -> tuple[list[DeviceStocktake], int]:
        total = self._conn.execute(select(func.count()).select_from(device_stocktake)).scalar_one()
        query = (
            select(device_stocktake)
            .order_by(device_stocktake.c.at.desc(), device_stocktake.c.id)
            .offset(offset)
            .limit(limit)
        )
        rows = self._conn.execute(query).mappings()
        return [_stocktake(row) for row in rows], int(total)

    def drawn_seal(self, job_id: str) -> SealDraw | None:
        row = (
            self._conn.execute(select(seal_draw).where(seal_draw.c.job_id == job_id))
            .mappings()
            .first()
        )
        if row is None:
            return None
        return SealDraw(row["job_id"], row["serial"], row["operator_id"], utc(row["at"]))


_same_device = device.c.id == device_location.c.device_id


def _owned(owner: str | None) -> list[Any]:
    return [] if owner is None else [device.c.asset_owner == owner]


def _location(row: Mapping[Any, Any]) -> Location:
    return Location(
        code=row["code"],
        name=row["name"],
        kind=LocationKind(row["kind"]),
        active=row["active"],
        defined_at=utc(row["defined_at"]),
    )


def _stocktake(row: RowMapping) -> DeviceStocktake:
    return DeviceStocktake(
        id=row["id"],
        location=row["location"],
        counted_by=row["counted_by"],
        at=utc(row["at"]),
        expected=row["expected"],
        counted=row["counted"],
        matched=row["matched"],
        missing=tuple(json.loads(row["missing"])),
        unexpected=tuple(UnexpectedDevice(d, at) for d, at in json.loads(row["unexpected"])),
    )
