"""Consignments and their manifests, read from the projections (uow.consignments)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import Connection, Integer, RowMapping, bindparam, func, select

from triage.adapters.fastsql import Statement
from triage.adapters.rows import device_from_row, utc
from triage.adapters.tables import consignment, consignment_device
from triage.domain.consignment import Consignment, ConsignmentStatus
from triage.domain.device import Device

# Read when a device is scanned (compiled once: fastsql): the open consignment awaiting it.
_EXPECTED_IN_OPEN = Statement(
    select(consignment_device)
    .join(consignment, consignment.c.id == consignment_device.c.consignment_id)
    .where(
        consignment_device.c.device_id == bindparam("device_id"),
        consignment_device.c.arrived.is_(False),
        consignment.c.status == "open",
    )
)


class SqlConsignmentRepository:
    """``ConsignmentRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, consignment_id: str) -> Consignment | None:
        row = (
            self._conn.execute(select(consignment).where(consignment.c.id == consignment_id))
            .mappings()
            .first()
        )
        return None if row is None else self._consignment(row)

    def by_reference(self, asset_owner: str, reference: str) -> Consignment | None:
        row = (
            self._conn.execute(
                select(consignment).where(
                    consignment.c.asset_owner == asset_owner, consignment.c.reference == reference
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else self._consignment(row)

    def with_reference(self, reference: str) -> list[Consignment]:
        rows = self._conn.execute(
            select(consignment)
            .where(consignment.c.reference == reference)
            .order_by(consignment.c.created_at, consignment.c.id)
        ).mappings()
        return [self._consignment(row) for row in rows]

    def page(
        self, offset: int, limit: int, owner: str | None = None
    ) -> tuple[list[Consignment], int]:
        owned = [] if owner is None else [consignment.c.asset_owner == owner]
        total = self._conn.execute(
            select(func.count()).select_from(consignment).where(*owned)
        ).scalar_one()
        rows = self._conn.execute(
            select(consignment)
            .where(*owned)
            .order_by(consignment.c.created_at, consignment.c.id)
            .offset(offset)
            .limit(limit)
        ).mappings()
        return [self._consignment(row) for row in rows], int(total)

    def _consignment(self, row: RowMapping) -> Consignment:
        counts = self._conn.execute(
            select(
                func.count(),
                func.coalesce(func.sum(consignment_device.c.arrived.cast(Integer)), 0),
            ).where(consignment_device.c.consignment_id == row["id"])
        ).one()
        return Consignment(
            id=row["id"],
            reference=row["reference"],
            asset_owner=row["asset_owner"],
            status=ConsignmentStatus(row["status"]),
            created_at=utc(row["created_at"]),
            closed_at=utc(row["closed_at"]),
            expected=int(counts[0]),
            arrived=int(counts[1]),
        )

    def expected_in_open(self, device_id: str) -> tuple[str, Device, bool] | None:
        """(consignment id, device as the manifest has it, arrived) while it is still awaited."""
        row = _EXPECTED_IN_OPEN.first_mapping(self._conn, device_id=device_id)
        if row is None:
            return None
        # A dict by column name: all that device_from_row reads of a row.
        manifest_device = device_from_row(cast(RowMapping, row), "device_id")
        return row["consignment_id"], manifest_device, bool(row["arrived"])

    def expected_devices(self, device_ids: Sequence[str]) -> dict[str, str]:
        """Which of ``device_ids`` an open consignment still awaits, and which consignment."""
        found: dict[str, str] = {}
        for start in range(0, len(device_ids), 500):
            rows = self._conn.execute(
                select(consignment_device.c.device_id, consignment_device.c.consignment_id)
                .join(consignment, consignment.c.id == consignment_device.c.consignment_id)
                .where(
                    consignment.c.status == "open",
                    consignment_device.c.arrived.is_(False),
                    consignment_device.c.device_id.in_(device_ids[start : start + 500]),
                )
            )
            found.update({d: c for d, c in rows})
        return found

    def missing_devices(self, consignment_id: str) -> list[str]:
        return self._devices(consignment_id, arrived=False)

    def arrived_devices(self, consignment_id: str) -> list[str]:
        return self._devices(consignment_id, arrived=True)

    def _devices(self, consignment_id: str, arrived: bool) -> list[str]:
        rows = self._conn.execute(
            select(consignment_device.c.device_id)
            .where(
                consignment_device.c.consignment_id == consignment_id,
                consignment_device.c.arrived.is_(arrived),
            )
            .order_by(consignment_device.c.device_id)
        )
        return [r for (r,) in rows]
