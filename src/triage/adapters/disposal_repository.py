"""Issue 19 (C): destruction and return evidence, read from the projections (uow.disposals)."""

from __future__ import annotations

from sqlalchemy import Connection


class SqlDisposalRepository:
    """``DisposalRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
