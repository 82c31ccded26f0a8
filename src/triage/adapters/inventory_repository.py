"""Issue 20 (A): Smart Metering Inventory readings (DUIS 8.2 in), read from the projections
(uow.inventory)."""

from __future__ import annotations

from sqlalchemy import Connection


class SqlInventoryRepository:
    """``InventoryRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
