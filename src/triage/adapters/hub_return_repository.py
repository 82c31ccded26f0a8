"""Issue 20 (C): communications hubs back to the DCC, read from the projections
(uow.hub_returns)."""

from __future__ import annotations

from sqlalchemy import Connection


class SqlHubReturnRepository:
    """``HubReturnRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
