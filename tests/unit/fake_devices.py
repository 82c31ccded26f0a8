"""The devices' fake repository (uow.devices): devices received."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
from triage.domain.device import Device, DeviceId, DeviceType, InventoryStatus
from triage.domain.device_list import DeviceQuery, ListedDevice, Position
from triage.ledger.entry import Entry


def device_of(device_id: str, data: Mapping[str, Any]) -> Device:
    """A device from the ``device`` object of an entry (the subject names its id)."""
    return Device(
        id=DeviceId.parse(device_id),
        type=DeviceType(data["type"]),
        manufacturer=data["manufacturer"],
        model=data["model"],
        firmware_version=data["firmware_version"],
        inventory_status=InventoryStatus.stored(data["inventory_status"]),
        asset_owner=data["asset_owner"],
        smets_version=data.get("smets_version"),
        chf_id=DeviceId.parse(data["chf_id"]) if data.get("chf_id") else None,
    )


def _matches(query: DeviceQuery, row: ListedDevice) -> bool:
    """The search's filters, as the SQL repository's WHERE clause applies them."""
    if query.device_id is not None:
        if query.exact_id and row.device_id != query.device_id:
            return False
        if not row.device_id.startswith(query.device_id):
            return False
    checks = (
        (query.consignment, row.consignment_reference),
        (query.state, row.state),
        (query.asset_owner, row.asset_owner),
        (query.owner, row.asset_owner),
    )
    if any(wanted is not None and wanted != value for wanted, value in checks):
        return False
    if query.received_from is not None and row.received_at < query.received_from:
        return False
    return query.received_before is None or row.received_at < query.received_before


def _beyond(query: DeviceQuery, position: Position, after: Position) -> bool:
    """The row at ``position`` comes after ``after`` in the list's order for ``query``."""
    if query.by_id:
        return position.by_id() > after.by_id()
    return position.by_time() < after.by_time()


@area("devices")
class FakeDeviceRepository(FakeTables):
    """``DeviceRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.devices: dict[str, Device] = {}

    def get(self, device_id: str) -> Device | None:
        return self.devices.get(device_id)

    def search(self, query: DeviceQuery, after: Position | None, limit: int) -> list[ListedDevice]:
        # Imported here: the consignments' fake imports this module.
        from tests.unit.fake_consignments import FakeConsignmentRepository
        from tests.unit.fake_jobs import FakeJobRepository

        jobs = self._database.repository("jobs", FakeJobRepository)
        consignments = self._database.repository("consignments", FakeConsignmentRepository)
        found = []
        for job in jobs.jobs.values():
            device = self.devices[job.device_id]
            received = consignments.consignments.get(job.consignment_id or "")
            row = ListedDevice(
                device_id=job.device_id,
                job_id=job.id,
                state=job.state,
                consignment_id=job.consignment_id,
                consignment_reference=None if received is None else received.reference,
                asset_owner=device.asset_owner,
                manufacturer=device.manufacturer,
                model=device.model,
                received_at=job.opened_at,
                updated_at=jobs.updated[job.id],
                closed_at=job.closed_at,
            )
            if _matches(query, row) and (after is None or _beyond(query, row.position, after)):
                found.append(row)
        if query.by_id:
            found.sort(key=lambda r: r.position.by_id())
        else:
            found.sort(key=lambda r: r.position.by_time(), reverse=True)
        return found[:limit]

    @projects("device.received")
    def _received(self, entry: Entry, index: int) -> None:
        self.devices[entry.subject.id] = device_of(entry.subject.id, entry.data["device"])
