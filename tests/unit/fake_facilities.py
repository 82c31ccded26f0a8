"""The facilities' fake repository (uow.facilities)."""

from __future__ import annotations

from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
from triage.domain.facility import Facility
from triage.errors import Conflict
from triage.ledger.entry import Entry


@area("facilities")
class FakeFacilityRepository(FakeTables):
    """``FacilityRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.facilities: dict[str, Facility] = {}

    def add(self, facility: Facility) -> None:
        if facility.id in self.facilities:
            # The table's primary key refuses a second row, and the unit of work says Conflict.
            raise Conflict(f"facility {facility.id!r} exists")
        self.facilities[facility.id] = facility

    def get(self, facility_id: str) -> Facility | None:
        return self.facilities.get(facility_id)

    def list(self) -> list[Facility]:
        return [self.facilities[key] for key in sorted(self.facilities)]

    @projects("facility.created")
    def _created(self, entry: Entry, index: int) -> None:
        # The live path adds the facility before its ledger exists; a replay adds it here.
        if entry.subject.id not in self.facilities:
            self.facilities[entry.subject.id] = Facility(
                entry.subject.id, entry.data["name"], entry.data["log_origin"], entry.at
            )
