"""Issue 20 (B): DUIS requests out (8.4, 8.3, 8.14.3, 8.14.4), read from the projections
(uow.duis_requests)."""

from __future__ import annotations

from sqlalchemy import Connection


class SqlDuisRequestRepository:
    """``DuisRequestRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
