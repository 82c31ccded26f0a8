"""The tamper policies activated, read from the projections (uow.policies)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Connection, select
from sqlalchemy.exc import MultipleResultsFound

from triage.adapters.fastsql import Statement
from triage.adapters.tables import tamper_policy

# Read by the inspect step of every device (compiled once: fastsql).
_ACTIVE_SOURCE = Statement(select(tamper_policy.c.source).where(tamper_policy.c.active.is_(True)))


class SqlPolicyRepository:
    """``PolicyRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def active_source(self) -> str | None:
        rows = _ACTIVE_SOURCE.rows(self._conn)
        if len(rows) > 1:  # one policy in force at a time, as scalar_one_or_none required
            raise MultipleResultsFound("Multiple rows were found when one or none was required")
        return cast(str, rows[0][0]) if rows else None
