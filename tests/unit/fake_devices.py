"""The devices' fake repository (uow.devices): devices received."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
from triage.domain.device import Device, DeviceId, DeviceType, InventoryStatus
from triage.ledger.entry import Entry


def device_of(device_id: str, data: Mapping[str, Any]) -> Device:
    """A device from the ``device`` object of an entry (the subject names its id)."""
    return Device(
        id=DeviceId.parse(device_id),
        type=DeviceType(data["type"]),
        manufacturer=data["manufacturer"],
        model=data["model"],
        firmware_version=data["firmware_version"],
        inventory_status=InventoryStatus(data["inventory_status"]),
        asset_owner=data["asset_owner"],
        smets_version=data.get("smets_version"),
        chf_id=DeviceId.parse(data["chf_id"]) if data.get("chf_id") else None,
    )


@area("devices")
class FakeDeviceRepository(FakeTables):
    """``DeviceRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.devices: dict[str, Device] = {}

    def get(self, device_id: str) -> Device | None:
        return self.devices.get(device_id)

    @projects("device.received")
    def _received(self, entry: Entry, index: int) -> None:
        self.devices[entry.subject.id] = device_of(entry.subject.id, entry.data["device"])
