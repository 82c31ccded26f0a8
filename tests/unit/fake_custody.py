"""The fake repository of device locations, where each device is, device stocktakes and the
seals drawn at random (uow.custody)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from tests.unit.fake_devices import FakeDeviceRepository
from tests.unit.fakes import START, FakeDatabase, FakeTables, area, projects
from triage.domain.custody import (
    DEFAULT_LOCATIONS,
    RECEIVING,
    DeviceCustody,
    DeviceStocktake,
    IdleDevice,
    Location,
    LocationCount,
    LocationKind,
    SealDraw,
    UnexpectedDevice,
)
from triage.ledger.entry import Entry


@area("custody")
class FakeCustodyRepository(FakeTables):
    """``CustodyRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        # A facility's database has the default locations from its creation (facility.created
        # defines them); the use-case tests start from a facility made so.
        self.places: dict[str, Location] = {
            code: Location(code, name, kind, True, START) for code, name, kind in DEFAULT_LOCATIONS
        }
        self.custody: dict[str, DeviceCustody] = {}
        self.counts_taken: dict[str, DeviceStocktake] = {}
        self.draws: dict[str, SealDraw] = {}

    def _owner(self, device_id: str) -> str:
        found = self._database.repository("devices", FakeDeviceRepository).get(device_id)
        return "" if found is None else found.asset_owner

    # -- the port ------------------------------------------------------------------------------
    def location(self, code: str) -> Location | None:
        return self.places.get(code)

    def locations(self) -> list[Location]:
        return [self.places[k] for k in sorted(self.places)]

    def where(self, device_id: str) -> DeviceCustody | None:
        return self.custody.get(device_id)

    def recorded_at(self, device_ids: Sequence[str]) -> dict[str, str | None]:
        return {d: self.custody[d].location for d in device_ids if d in self.custody}

    def devices_at(self, code: str) -> list[str]:
        return sorted(d for d, c in self.custody.items() if c.location == code)

    def _in(self, owner: str | None) -> list[IdleDevice]:
        return [
            IdleDevice(c.device_id, c.location, c.since, self._owner(c.device_id))
            for c in sorted(self.custody.values(), key=lambda c: (c.since, c.device_id))
            if c.location is not None and (owner is None or self._owner(c.device_id) == owner)
        ]

    def counts(self, idle_before: datetime, owner: str | None) -> list[LocationCount]:
        found: dict[str, list[int]] = {}
        for d in self._in(owner):
            tally = found.setdefault(d.location, [0, 0])
            tally[0] += 1
            tally[1] += d.since < idle_before
        return [LocationCount(code, n, i) for code, (n, i) in sorted(found.items())]

    def longest_at(
        self,
        code: str | None,
        idle_before: datetime | None,
        owner: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[IdleDevice], int]:
        shown = [
            d
            for d in self._in(owner)
            if (code is None or d.location == code)
            and (idle_before is None or d.since < idle_before)
        ]
        return shown[offset : offset + limit], len(shown)

    def stocktake(self, stocktake_id: str) -> DeviceStocktake | None:
        return self.counts_taken.get(stocktake_id)

    def stocktakes(self, offset: int, limit: int) -> tuple[list[DeviceStocktake], int]:
        newest = sorted(self.counts_taken.values(), key=lambda s: s.at, reverse=True)
        return newest[offset : offset + limit], len(newest)

    def drawn_seal(self, job_id: str) -> SealDraw | None:
        return self.draws.get(job_id)

    # -- projections ---------------------------------------------------------------------------
    @projects("facility.created")
    def _defaults(self, entry: Entry, index: int) -> None:
        for code, name, kind in DEFAULT_LOCATIONS:
            self.places[code] = Location(code, name, kind, True, entry.at)

    @projects("location.defined")
    def _defined(self, entry: Entry, index: int) -> None:
        code, data = entry.subject.id, entry.data
        self.places[code] = Location(code, data["name"], LocationKind(data["kind"]), True, entry.at)

    @projects("location.changed")
    def _changed(self, entry: Entry, index: int) -> None:
        changed = {k: entry.data[k] for k in ("name", "active") if k in entry.data}
        if "kind" in entry.data:
            changed["kind"] = LocationKind(entry.data["kind"])
        place = self.places[entry.subject.id]
        self.places[entry.subject.id] = dataclasses.replace(place, **changed)

    @projects("device.received")
    def _received(self, entry: Entry, index: int) -> None:
        at = entry.data.get("bench") or RECEIVING
        self.custody[entry.subject.id] = DeviceCustody(entry.subject.id, at, entry.at)

    @projects("device.moved")
    def _moved(self, entry: Entry, index: int) -> None:
        to = entry.data["to"]
        self.custody[entry.subject.id] = DeviceCustody(entry.subject.id, to, entry.at)

    @projects("device.left")
    def _left(self, entry: Entry, index: int) -> None:
        self.custody[entry.subject.id] = DeviceCustody(entry.subject.id, None, entry.at)

    @projects("device_stocktake.recorded")
    def _stocktake(self, entry: Entry, index: int) -> None:
        data = entry.data
        self.counts_taken[data["stocktake_id"]] = DeviceStocktake(
            id=data["stocktake_id"],
            location=data["location"],
            counted_by=entry.actor.id,
            at=entry.at,
            expected=data["expected"],
            counted=data["counted"],
            matched=data["matched"],
            missing=tuple(data["missing"]),
            unexpected=tuple(UnexpectedDevice(d, at) for d, at in data["unexpected"]),
        )

    @projects("seal.drawn")
    def _drawn(self, entry: Entry, index: int) -> None:
        job_id = entry.data["job_id"]
        self.draws[job_id] = SealDraw(job_id, entry.data["serial"], entry.actor.id, entry.at)
