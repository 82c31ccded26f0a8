"""The facilities' fake repository (uow.facilities): facilities and the settings of the fake's
one facility."""

from __future__ import annotations

import dataclasses

from tests.unit.fake_security import FakeSecurityRepository
from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
from triage.domain.custody import CustodySettings
from triage.domain.facility import (
    DEFAULT_MAX_RESET_ATTEMPTS,
    DEFAULT_WORK_ORDER_MINUTES,
    Facility,
)
from triage.errors import Conflict
from triage.ledger.entry import Entry
from triage.services.ports import OrderSettings


@area("facilities")
class FakeFacilityRepository(FakeTables):
    """``FacilityRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.facilities: dict[str, Facility] = {}
        # (max reset attempts, work order minutes): the settings row, made by facility.created.
        self.limits: tuple[int, int] | None = None
        self.custody = CustodySettings()

    def add(self, facility: Facility) -> None:
        if facility.id in self.facilities:
            # The table's primary key refuses a second row, and the unit of work says Conflict.
            raise Conflict(f"facility {facility.id!r} exists")
        self.facilities[facility.id] = facility

    def get(self, facility_id: str) -> Facility | None:
        return self.facilities.get(facility_id)

    def list(self) -> list[Facility]:
        return [self.facilities[key] for key in sorted(self.facilities)]

    def settings(self) -> tuple[int, int]:
        return self.limits or (DEFAULT_MAX_RESET_ATTEMPTS, DEFAULT_WORK_ORDER_MINUTES)

    def order_settings(self) -> OrderSettings:
        # The working hours are the security fake's, as their column is the anomaly projector's.
        hours = self._database.repository("security", FakeSecurityRepository).working_hours()
        return OrderSettings(*self.settings(), hours)

    def custody_settings(self) -> CustodySettings:
        return self.custody

    @projects("facility.created")
    def _created(self, entry: Entry, index: int) -> None:
        # The live path adds the facility before its ledger exists; a replay adds it here.
        if entry.subject.id not in self.facilities:
            self.facilities[entry.subject.id] = Facility(
                entry.subject.id, entry.data["name"], entry.data["log_origin"], entry.at
            )
        self.limits = (
            entry.data.get("max_reset_attempts", DEFAULT_MAX_RESET_ATTEMPTS),
            entry.data.get("work_order_minutes", DEFAULT_WORK_ORDER_MINUTES),
        )

    @projects("facility.settings_changed")
    def _settings_changed(self, entry: Entry, index: int) -> None:
        # As the SQL update: no settings row (no facility.created), nothing to change.
        if self.limits is not None:
            data = entry.data
            if "max_reset_attempts" in data:
                self.limits = (data["max_reset_attempts"], data["work_order_minutes"])
            custody = {k: data[k] for k in ("idle_device_days", "random_seal_issue") if k in data}
            self.custody = dataclasses.replace(self.custody, **custody)
