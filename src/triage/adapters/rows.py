"""Small conversions every repository needs when reading rows back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

from sqlalchemy import RowMapping

from triage.domain.tool import Tool, ToolStatus


@overload
def utc(value: datetime) -> datetime: ...
@overload
def utc(value: None) -> None: ...
@overload
def utc(value: datetime | None) -> datetime | None: ...
def utc(value: datetime | None) -> datetime | None:
    """The stored time as an aware UTC datetime (SQLite hands back naive ones)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def tool_from_row(row: RowMapping) -> Tool:
    """An enrolled tool from its ``tool`` row."""
    return Tool(
        id=row["id"],
        bench=row["bench"],
        verifier_key=row["verifier_key"],
        status=ToolStatus(row["status"]),
        enrolled_at=utc(row["enrolled_at"]),
        status_reason=row["status_reason"],
        status_changed_at=utc(row["status_changed_at"]),
    )
