"""Issue 19 (B): dispatches, their packed devices, handovers and acknowledgements, read from the
projections (uow.dispatches).
"""

from __future__ import annotations

from sqlalchemy import Connection


class SqlDispatchRepository:
    """``DispatchRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
