"""Facility rows and the facility's settings."""

from __future__ import annotations

import json
from datetime import UTC

from sqlalchemy import Connection, RowMapping, bindparam, insert, select

from triage.adapters.fastsql import Statement
from triage.adapters.tables import facility as facility_table
from triage.adapters.tables import facility_settings
from triage.domain.custody import CustodySettings
from triage.domain.facility import (
    DEFAULT_MAX_RESET_ATTEMPTS,
    DEFAULT_WORK_ORDER_MINUTES,
    Facility,
)
from triage.domain.thresholds import WorkingHours
from triage.services.ports import OrderSettings

# The settings are read by most steps of the device path (compiled once: fastsql).
_SETTINGS = Statement(
    select(facility_settings.c.max_reset_attempts, facility_settings.c.work_order_minutes).where(
        facility_settings.c.facility_id == bindparam("facility_id")
    )
)
_ORDER_SETTINGS = Statement(
    select(
        facility_settings.c.max_reset_attempts,
        facility_settings.c.work_order_minutes,
        facility_settings.c.working_hours,
    ).where(facility_settings.c.facility_id == bindparam("facility_id"))
)
_CUSTODY_SETTINGS = Statement(
    select(facility_settings.c.idle_device_days, facility_settings.c.random_seal_issue).where(
        facility_settings.c.facility_id == bindparam("facility_id")
    )
)


class SqlFacilityRepository:
    """Facilities in the ``facility`` table; the settings of the unit of work's facility."""

    def __init__(self, conn: Connection, facility_id: str) -> None:
        self._conn = conn
        self._facility_id = facility_id

    def add(self, facility: Facility) -> None:
        self._conn.execute(
            insert(facility_table).values(
                id=facility.id,
                name=facility.name,
                log_origin=facility.log_origin,
                created_at=facility.created_at,
            )
        )

    def get(self, facility_id: str) -> Facility | None:
        row = self._conn.execute(
            select(facility_table).where(facility_table.c.id == facility_id)
        ).first()
        return None if row is None else _facility(row._mapping)

    def list(self) -> list[Facility]:
        rows = self._conn.execute(select(facility_table).order_by(facility_table.c.id))
        return [_facility(row._mapping) for row in rows]

    def settings(self) -> tuple[int, int]:
        """(max reset attempts, work order validity in minutes)."""
        row = _SETTINGS.first(self._conn, facility_id=self._facility_id)
        if row is None:
            return DEFAULT_MAX_RESET_ATTEMPTS, DEFAULT_WORK_ORDER_MINUTES
        attempts, minutes = row
        return int(attempts), int(minutes)

    def order_settings(self) -> OrderSettings:
        """The settings a reset work order is issued under, in one read."""
        row = _ORDER_SETTINGS.first(self._conn, facility_id=self._facility_id)
        if row is None:
            return OrderSettings(DEFAULT_MAX_RESET_ATTEMPTS, DEFAULT_WORK_ORDER_MINUTES, None)
        attempts, minutes, hours = row
        working = None if not hours else WorkingHours.from_json(json.loads(hours))
        return OrderSettings(int(attempts), int(minutes), working)

    def custody_settings(self) -> CustodySettings:
        """When a device counts as idle, and whether seals are drawn at random."""
        row = _CUSTODY_SETTINGS.first(self._conn, facility_id=self._facility_id)
        if row is None:
            return CustodySettings()
        idle_days, random_seals = row
        return CustodySettings(int(idle_days), bool(random_seals))


def _facility(mapping: RowMapping) -> Facility:
    created = mapping["created_at"]
    if created.tzinfo is None:  # SQLite hands back naive datetimes; they were stored in UTC.
        created = created.replace(tzinfo=UTC)
    return Facility(
        id=mapping["id"],
        name=mapping["name"],
        log_origin=mapping["log_origin"],
        created_at=created,
    )
