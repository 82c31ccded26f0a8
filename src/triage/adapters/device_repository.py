"""Devices received, read from the projections (uow.devices)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from triage.adapters.rows import device_from_row
from triage.adapters.tables import device
from triage.domain.device import Device


class SqlDeviceRepository:
    """``DeviceRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, device_id: str) -> Device | None:
        row = self._conn.execute(select(device).where(device.c.id == device_id)).mappings().first()
        return None if row is None else device_from_row(row)
