"""Issue 20 (A): Smart Metering Inventory readings (DUIS 8.2 in), read from the projections
(uow.inventory)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.exc import MultipleResultsFound

from triage.adapters.fastsql import Statement
from triage.adapters.rows import utc
from triage.adapters.tables import smi_policy, smi_reading
from triage.domain.device import InventoryStatus
from triage.domain.inventory_reading import InventoryReading

# Read by the scan and inspect steps of every device (compiled once: fastsql).
_LATEST = Statement(
    select(smi_reading)
    .where(smi_reading.c.device_id == bindparam("device_id"))
    # The DCC's latest answer, not the last file imported: an older response imported later
    # does not override a newer one.
    .order_by(smi_reading.c.response_at.desc(), smi_reading.c.seq.desc())
    .limit(1)
)
_REFUSED = Statement(select(smi_policy.c.refused))


class SqlInventoryRepository:
    """``InventoryRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def latest(self, device_id: str) -> InventoryReading | None:
        row = _LATEST.first_mapping(self._conn, device_id=device_id)
        return _reading(row) if row is not None else None

    def for_device(self, device_id: str) -> list[InventoryReading]:
        rows = self._conn.execute(
            select(smi_reading)
            .where(smi_reading.c.device_id == device_id)
            .order_by(smi_reading.c.seq)
        ).mappings()
        return [_reading(row) for row in rows]

    def recent(self, limit: int) -> list[InventoryReading]:
        rows = self._conn.execute(
            select(smi_reading).order_by(smi_reading.c.seq.desc()).limit(limit)
        ).mappings()
        return [_reading(row) for row in rows]

    def refused_statuses(self) -> frozenset[InventoryStatus] | None:
        rows = _REFUSED.rows(self._conn)
        if len(rows) > 1:  # one policy per facility database, as scalar_one_or_none required
            raise MultipleResultsFound("Multiple rows were found when one or none was required")
        text = rows[0][0] if rows else None
        if text is None:
            return None
        return frozenset(InventoryStatus(value) for value in text.split(",") if value)


def _reading(row: Mapping[Any, Any]) -> InventoryReading:
    commissioned = row["date_commissioned"]
    return InventoryReading(
        seq=row["seq"],
        device_id=row["device_id"],
        status=InventoryStatus(row["status"]) if row["status"] else None,
        device_type=row["device_type"],
        manufacturer=row["manufacturer"],
        model=row["model"],
        firmware_version=row["firmware_version"],
        smets_chts_version=row["smets_chts_version"],
        chf_id=row["chf_id"],
        date_commissioned=date.fromisoformat(commissioned) if commissioned else None,
        response_id=row["response_id"],
        request_id=row["request_id"],
        response_at=utc(row["response_at"]),
        sha256=row["sha256"],
        job_id=row["job_id"],
        consignment_id=row["consignment_id"],
        recorded_by=row["recorded_by"],
        recorded_at=utc(row["recorded_at"]),
    )
