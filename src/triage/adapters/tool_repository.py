"""Enrolled bench tools and the nonces of their signed requests (uow.tools)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Connection, RowMapping, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from triage.adapters.fastsql import Statement
from triage.adapters.rows import tool_from_row
from triage.adapters.tables import agent_nonce, tool
from triage.domain.tool import Tool

# Read on every signed request of a tool and every step that orders one (compiled once).
_TOOL = Statement(select(tool).where(tool.c.id == bindparam("tool_id")))

# Written by every state-changing request of a tool: ON CONFLICT DO NOTHING in each dialect's
# own construct, built once.
_USE_NONCE = {
    name: Statement(
        dialect_insert(agent_nonce)
        .values(tool_id=bindparam("tool_id"), nonce=bindparam("nonce"), seen_at=bindparam("at"))
        .on_conflict_do_nothing()
        .returning(agent_nonce.c.nonce)
    )
    for name, dialect_insert in (("sqlite", sqlite_insert), ("postgresql", pg_insert))
}


class SqlToolRepository:
    """``ToolRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, tool_id: str) -> Tool | None:
        row = _TOOL.first_mapping(self._conn, tool_id=tool_id)
        # A dict by column name: all that tool_from_row reads of a row.
        return None if row is None else tool_from_row(cast(RowMapping, row))

    def use_agent_nonce(self, tool_id: str, nonce: str) -> bool:
        """Remember a signed request's nonce; False when it was seen before (a replay).

        One statement that the primary key decides (``ON CONFLICT DO NOTHING``): of two
        requests with one nonce, however close, exactly one inserts the row."""
        added = _USE_NONCE[self._conn.dialect.name].first(
            self._conn, tool_id=tool_id, nonce=nonce, at=datetime.now(UTC)
        )
        return added is not None
