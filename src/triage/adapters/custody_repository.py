"""Issue 19 (D): device locations, moves and device stocktakes, read from the projections
(uow.custody).
"""

from __future__ import annotations

from sqlalchemy import Connection


class SqlCustodyRepository:
    """``CustodyRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
