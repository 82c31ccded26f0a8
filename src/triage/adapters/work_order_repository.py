"""Work orders issued to bench tools, read from the projections (uow.work_orders)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, or_, select

from triage.adapters.fastsql import Statement
from triage.adapters.rows import utc
from triage.adapters.tables import work_order
from triage.domain.work_order import FACTORY_RESET
from triage.domain.work_order_record import StoredWorkOrder

# The device path's reads of work orders (compiled once: fastsql): by id when a result comes
# back, a tool's issued orders on each poll of its agent, a job's live reset order.
_WORK_ORDER = Statement(select(work_order).where(work_order.c.id == bindparam("work_order_id")))
_ISSUED = Statement(
    select(work_order)
    .where(
        work_order.c.tool_id == bindparam("tool_id"),
        work_order.c.status == "issued",
        work_order.c.expires_at > bindparam("now"),
    )
    .order_by(work_order.c.issued_at)
)
_LIVE = Statement(
    select(work_order).where(
        work_order.c.job_id == bindparam("job_id"),
        work_order.c.action == FACTORY_RESET,
        work_order.c.status == "issued",
        work_order.c.expires_at > bindparam("now"),
    )
)


class SqlWorkOrderRepository:
    """``WorkOrderRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, work_order_id: str) -> StoredWorkOrder | None:
        row = _WORK_ORDER.first_mapping(self._conn, work_order_id=work_order_id)
        return None if row is None else _work_order(row)

    def issued(self, tool_id: str, now: datetime) -> list[StoredWorkOrder]:
        rows = _ISSUED.mappings(self._conn, tool_id=tool_id, now=now)
        return [_work_order(row) for row in rows]

    def live(self, job_id: str, now: datetime) -> StoredWorkOrder | None:
        row = _LIVE.first_mapping(self._conn, job_id=job_id, now=now)
        return None if row is None else _work_order(row)

    def outstanding(
        self, *, tool_id: str | None = None, operator_id: str | None = None
    ) -> list[StoredWorkOrder]:
        whose = []
        if tool_id is not None:
            whose.append(work_order.c.tool_id == tool_id)
        if operator_id is not None:
            whose.append(work_order.c.operator_id == operator_id)
        if not whose:
            return []
        rows = self._conn.execute(
            select(work_order)
            .where(or_(*whose), work_order.c.status == "issued")
            .order_by(work_order.c.issued_at, work_order.c.id)
        ).mappings()
        return [_work_order(row) for row in rows]

    def expired(self, before: datetime, limit: int) -> list[StoredWorkOrder]:
        rows = self._conn.execute(
            select(work_order)
            .where(
                work_order.c.action == FACTORY_RESET,
                work_order.c.status == "issued",
                work_order.c.expires_at <= before,
            )
            .order_by(work_order.c.expires_at, work_order.c.id)
            .limit(limit)
        ).mappings()
        return [_work_order(row) for row in rows]


def _work_order(row: Mapping[Any, Any]) -> StoredWorkOrder:
    return StoredWorkOrder(
        id=row["id"],
        job_id=row["job_id"],
        tool_id=row["tool_id"],
        device_id=row["device_id"],
        operator_id=row["operator_id"],
        nonce=row["nonce"],
        profile=row["profile"],
        status=row["status"],
        issued_at=utc(row["issued_at"]),
        expires_at=utc(row["expires_at"]),
        signed=row["signed"],
        action=row["action"],
    )
