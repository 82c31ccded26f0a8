"""Issue 20 (A): the fake repository of Smart Metering Inventory readings (DUIS 8.2 in)
(uow.inventory)."""

from __future__ import annotations

from datetime import date

from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
from triage.domain.device import InventoryStatus
from triage.domain.inventory_reading import InventoryReading
from triage.ledger.entry import Entry, parse_time


@area("inventory")
class FakeInventoryRepository(FakeTables):
    """``InventoryRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.readings: list[InventoryReading] = []
        self.refused: frozenset[InventoryStatus] | None = None

    @projects("device.inventory_read")
    def _read(self, entry: Entry, index: int) -> None:
        data = entry.data
        commissioned = data["date_commissioned"]
        self.readings.append(
            InventoryReading(
                seq=len(self.readings) + 1,
                device_id=entry.subject.id,
                status=InventoryStatus(data["status"]) if data["status"] else None,
                device_type=data["device_type"],
                manufacturer=data["manufacturer"],
                model=data["model"],
                firmware_version=data["firmware_version"],
                smets_chts_version=data["smets_chts_version"],
                chf_id=data["chf_id"],
                date_commissioned=date.fromisoformat(commissioned) if commissioned else None,
                response_id=data["response_id"],
                request_id=data["request_id"],
                response_at=parse_time(data["response_at"]),
                sha256=data["sha256"],
                job_id=data["job_id"],
                consignment_id=data["consignment_id"],
                recorded_by=entry.actor.id,
                recorded_at=entry.at,
            )
        )

    @projects("inventory.smi_policy_set")
    def _policy_set(self, entry: Entry, index: int) -> None:
        self.refused = frozenset(InventoryStatus(value) for value in entry.data["refused"])

    # -- the port ------------------------------------------------------------------------------
    def latest(self, device_id: str) -> InventoryReading | None:
        found = self.for_device(device_id)
        # The DCC's latest answer; among answers of the same time, the last imported.
        return max(reversed(found), key=lambda r: r.response_at) if found else None

    def for_device(self, device_id: str) -> list[InventoryReading]:
        return [r for r in self.readings if r.device_id == device_id]

    def recent(self, limit: int) -> list[InventoryReading]:
        return list(reversed(self.readings))[:limit]

    def refused_statuses(self) -> frozenset[InventoryStatus] | None:
        return self.refused
