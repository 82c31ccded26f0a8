"""Intake exceptions, read from the projections (uow.exceptions)."""

from __future__ import annotations

from sqlalchemy import Connection, RowMapping, func, select

from triage.adapters.rows import utc
from triage.adapters.tables import device_exception
from triage.domain.intake_exception import IntakeException


class SqlExceptionRepository:
    """``ExceptionRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, exception_id: str) -> IntakeException | None:
        row = (
            self._conn.execute(
                select(device_exception).where(device_exception.c.id == exception_id)
            )
            .mappings()
            .first()
        )
        return None if row is None else _exception(row)

    def page(
        self, status: str | None, offset: int, limit: int
    ) -> tuple[list[IntakeException], int]:
        query = select(device_exception)
        count = select(func.count()).select_from(device_exception)
        if status is not None:
            query = query.where(device_exception.c.status == status)
            count = count.where(device_exception.c.status == status)
        rows = self._conn.execute(
            query.order_by(device_exception.c.raised_at).offset(offset).limit(limit)
        ).mappings()
        return [_exception(row) for row in rows], int(self._conn.execute(count).scalar_one())


def _exception(row: RowMapping) -> IntakeException:
    return IntakeException(
        id=row["id"],
        kind=row["kind"],
        device_id=row["device_id"],
        detail=row["detail"],
        status=row["status"],
        raised_by=row["raised_by"],
        raised_at=utc(row["raised_at"]),
        resolved_by=row["resolved_by"],
        resolution=row["resolution"],
        resolved_at=utc(row["resolved_at"]),
    )
