"""The consignments' fake repository (uow.consignments): consignments and the devices their
manifests list."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from tests.unit.fake_devices import device_of
from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
from triage.domain.consignment import Consignment, ConsignmentStatus
from triage.domain.device import Device
from triage.ledger.entry import Entry


@dataclass
class ExpectedDevice:
    """A device a consignment's manifest lists, as the manifest has it, and whether it came."""

    consignment_id: str
    device: Device
    arrived: bool = False


@area("consignments")
class FakeConsignmentRepository(FakeTables):
    """``ConsignmentRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.consignments: dict[str, Consignment] = {}  # counts left at 0
        self.expected: list[ExpectedDevice] = []

    # -- the port ------------------------------------------------------------------------------
    def get(self, consignment_id: str) -> Consignment | None:
        found = self.consignments.get(consignment_id)
        return None if found is None else self._counted(found)

    def by_reference(self, asset_owner: str, reference: str) -> Consignment | None:
        for found in self.consignments.values():
            if (found.asset_owner, found.reference) == (asset_owner, reference):
                return self._counted(found)
        return None

    def with_reference(self, reference: str) -> list[Consignment]:
        every = sorted(self.consignments.values(), key=lambda c: (c.created_at, c.id))
        return [self._counted(c) for c in every if c.reference == reference]

    def page(
        self, offset: int, limit: int, owner: str | None = None
    ) -> tuple[list[Consignment], int]:
        every = sorted(
            (c for c in self.consignments.values() if owner in (None, c.asset_owner)),
            key=lambda c: (c.created_at, c.id),
        )
        return [self._counted(c) for c in every[offset : offset + limit]], len(every)

    def _counted(self, found: Consignment) -> Consignment:
        rows = [row for row in self.expected if row.consignment_id == found.id]
        arrived = sum(1 for row in rows if row.arrived)
        return dataclasses.replace(found, expected=len(rows), arrived=arrived)

    def _awaited(self) -> list[ExpectedDevice]:
        """Manifest rows of open consignments whose device has not arrived."""
        open_ids = {c.id for c in self.consignments.values() if c.status is ConsignmentStatus.OPEN}
        return [r for r in self.expected if r.consignment_id in open_ids and not r.arrived]

    def expected_in_open(self, device_id: str) -> tuple[str, Device, bool] | None:
        for row in self._awaited():
            if row.device.id.value == device_id:
                return row.consignment_id, row.device, row.arrived
        return None

    def expected_devices(self, device_ids: Sequence[str]) -> dict[str, str]:
        wanted = set(device_ids)
        return {
            row.device.id.value: row.consignment_id
            for row in self._awaited()
            if row.device.id.value in wanted
        }

    def missing_devices(self, consignment_id: str) -> list[str]:
        return self._devices(consignment_id, arrived=False)

    def arrived_devices(self, consignment_id: str) -> list[str]:
        return self._devices(consignment_id, arrived=True)

    def _devices(self, consignment_id: str, arrived: bool) -> list[str]:
        return sorted(
            row.device.id.value
            for row in self.expected
            if row.consignment_id == consignment_id and row.arrived is arrived
        )

    # -- projections ---------------------------------------------------------------------------
    @projects("consignment.created")
    def _created(self, entry: Entry, index: int) -> None:
        self.consignments[entry.subject.id] = Consignment(
            id=entry.subject.id,
            reference=entry.data["reference"],
            asset_owner=entry.data["asset_owner"],
            status=ConsignmentStatus.OPEN,
            created_at=entry.at,
            closed_at=None,
        )

    @projects("consignment.device_expected")
    def _device_expected(self, entry: Entry, index: int) -> None:
        device = device_of(entry.subject.id, entry.data["device"])
        self.expected.append(ExpectedDevice(entry.data["consignment_id"], device))

    @projects("consignment.closed")
    def _closed(self, entry: Entry, index: int) -> None:
        found = self.consignments.get(entry.subject.id)
        if found is not None:
            self.consignments[found.id] = dataclasses.replace(
                found, status=ConsignmentStatus.CLOSED, closed_at=entry.at
            )

    @projects("device.received")
    def _device_received(self, entry: Entry, index: int) -> None:
        consignment_id = entry.data.get("consignment_id")
        for row in self.expected:
            if row.consignment_id == consignment_id and row.device.id.value == entry.subject.id:
                row.arrived = True
