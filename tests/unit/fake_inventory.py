"""Issue 20 (A): the fake repository of Smart Metering Inventory readings (DUIS 8.2 in)
(uow.inventory)."""

from __future__ import annotations

from tests.unit.fakes import FakeDatabase, FakeTables, area


@area("inventory")
class FakeInventoryRepository(FakeTables):
    """``InventoryRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
