"""Issue 20 (D): the incident and vulnerability register, read from the projections
(uow.incidents)."""

from __future__ import annotations

from sqlalchemy import Connection


class SqlIncidentRepository:
    """``IncidentRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
