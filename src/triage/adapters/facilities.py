"""Facility rows."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import Connection, RowMapping, insert, select

from triage.adapters.tables import facility as facility_table
from triage.domain.facility import Facility


class SqlFacilityRepository:
    """Facilities in the ``facility`` table."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

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
