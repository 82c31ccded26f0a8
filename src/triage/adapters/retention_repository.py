"""Issue 19 (E): retention rules, legal holds and purged evidence files, read from the projections
(uow.retention).
"""

from __future__ import annotations

from sqlalchemy import Connection


class SqlRetentionRepository:
    """``RetentionRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
