"""A device stored before DUIS 5.4's statuses were enforced ("NotApplicable") still reads:
replaying or listing old entries never fails on it; the status reads as not stated."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import RowMapping

from triage.adapters.rows import device_from_row
from triage.domain.device import DeviceType, InventoryStatus


def _row(status: str) -> RowMapping:
    row: dict[str, Any] = {
        "id": "BC-33-AC-FF-FE-FA-55-3D",
        "device_type": int(DeviceType.ESME),
        "manufacturer": "Acme",
        "model": "E1",
        "firmware_version": "1.0",
        "inventory_status": status,
        "asset_owner": "MAP-1",
        "smets_version": None,
        "chf_id": None,
    }
    return cast(RowMapping, row)


def test_a_legacy_not_applicable_row_reads_as_no_status() -> None:
    assert device_from_row(_row("NotApplicable")).inventory_status is None
    assert device_from_row(_row("Withdrawn")).inventory_status is InventoryStatus.WITHDRAWN
