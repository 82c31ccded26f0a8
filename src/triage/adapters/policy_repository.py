"""The tamper policies activated, read from the projections (uow.policies)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from triage.adapters.tables import tamper_policy


class SqlPolicyRepository:
    """``PolicyRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def active_source(self) -> str | None:
        return self._conn.execute(
            select(tamper_policy.c.source).where(tamper_policy.c.active.is_(True))
        ).scalar_one_or_none()
