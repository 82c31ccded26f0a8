"""SQL implementation of ``SecurityRepository`` (thresholds, activity, alerts)."""

from __future__ import annotations

from sqlalchemy import Connection


class SqlSecurityRepository:
    """Reads of the anomaly tables within the unit of work's transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
