"""Small conversions every repository needs when reading rows back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

from sqlalchemy import RowMapping

from triage.domain.device import Device, DeviceId, DeviceType, InventoryStatus
from triage.domain.people import Operator
from triage.domain.roles import Role
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


def operator_from_row(row: RowMapping) -> Operator:
    """An ``operator`` table row (or a row holding its columns) as the domain record."""
    return Operator(
        id=row["id"],
        name=row["name"],
        roles=frozenset(Role(r) for r in row["roles"].split(",") if r),
        active=bool(row["active"]),
        created_at=utc(row["created_at"]),
        suspended=bool(row["suspended"]),
        mfa_enrolled=bool(row["mfa_enrolled"]),
        last_login_at=utc(row["last_login_at"]) if row["last_login_at"] else None,
        asset_owner=row["asset_owner"],
    )


def device_from_row(row: RowMapping, id_column: str = "id") -> Device:
    """A device from a row of ``device`` or ``consignment_device``."""
    return Device(
        id=DeviceId.parse(row[id_column]),
        type=DeviceType(row["device_type"]),
        manufacturer=row["manufacturer"],
        model=row["model"],
        firmware_version=row["firmware_version"],
        inventory_status=InventoryStatus.stored(row["inventory_status"]),
        asset_owner=row["asset_owner"],
        smets_version=row["smets_version"],
        chf_id=DeviceId.parse(row["chf_id"]) if row["chf_id"] else None,
    )
