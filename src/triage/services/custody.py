"""Device custody: the facility's locations, where each device is, every move as a recorded
scan, device stocktakes by location, and the devices idle too long.

Receipt at intake puts a device at the receiving store (or at the bench a bench scan opened it
at); a bench scan of a device already received moves it to the bench; every other move is
``device.moved`` by someone who may move devices. Dispatch takes a device out of the facility's
custody (``device.left``). A stocktake of a location lists the devices recorded there and not
found (missing), and those found there but recorded elsewhere or nowhere (unexpected): each
becomes an exception for a supervisor, in the stocktake's own transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from triage.domain.caller import Caller
from triage.domain.custody import (
    CustodySettings,
    DeviceCustody,
    DeviceStocktake,
    IdleDevice,
    Location,
    LocationCount,
    LocationKind,
    compare_devices,
    idle_days,
    location_code,
    location_kind,
    location_name,
)
from triage.domain.device import DeviceId, FieldError
from triage.domain.roles import Permission
from triage.errors import Conflict, InvalidInput, NotFound
from triage.ledger.entry import Entry, Ref
from triage.services.common import device_ref, exception_entry, make_entry, record_and_reload
from triage.services.history import parse_device_id
from triage.services.ports import UnitOfWork, UnitOfWorkFactory

MAX_STOCKTAKE = 20_000
MAX_NOTE = 500
MAX_PAGE = 500
RECENT_STOCKTAKES = 10
# The kinds of exception a stocktake raises.
MISSING = "device_missing"
UNEXPECTED = "device_unexpected"
BENCH_SCAN = "scanned at the bench"


def _ref(code: str) -> Ref:
    return Ref("location", code)


def _note(text: str | None) -> str:
    note = " ".join((text or "").split())
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"reason: at most {MAX_NOTE} characters")
    return note


def _page(offset: int, limit: int) -> None:
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit: 1 to {MAX_PAGE} a page, from an offset of 0 or more")


# -- locations -------------------------------------------------------------------------------


def locations(uow_factory: UnitOfWorkFactory, caller: Caller) -> list[Location]:
    """Every location, by code (the facility's readers)."""
    caller.require(Permission.TRIAGE_READ)
    with uow_factory(write=False) as uow:
        return uow.custody.locations()


def define_location(
    uow_factory: UnitOfWorkFactory, caller: Caller, code: str, name: str, kind: str
) -> Location:
    """Define a new location (an administrator)."""
    caller.require(Permission.FACILITY_MANAGE)
    code = location_code(code, "code")
    data = {"name": location_name(name), "kind": location_kind(kind).value}
    with uow_factory(write=True) as uow:
        if uow.custody.location(code) is not None:
            raise Conflict(f"location {code} is defined already: change it instead")
        entry = make_entry(uow, caller, "location.defined", _ref(code), data)
        return record_and_reload(uow, [entry], lambda: uow.custody.location(code))


def change_location(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    code: str,
    *,
    name: str | None = None,
    kind: str | None = None,
    active: bool | None = None,
) -> Location:
    """Rename a location, change its kind, or take it out of use (only once no device is
    recorded there) or back into use (an administrator)."""
    caller.require(Permission.FACILITY_MANAGE)
    changed: dict[str, Any] = {}
    if name is not None:
        changed["name"] = location_name(name)
    if kind is not None:
        changed["kind"] = location_kind(kind).value
    if active is not None:
        changed["active"] = active
    with uow_factory(write=True) as uow:
        found = _location(uow, code, "code")
        now = {"name": found.name, "kind": found.kind.value, "active": found.active}
        changed = {k: v for k, v in changed.items() if now[k] != v}
        if not changed:
            raise InvalidInput("nothing to change: give a new name, kind or status")
        if changed.get("active") is False:
            held = uow.custody.devices_at(found.code)
            if held:
                raise Conflict(
                    f"{len(held)} device(s) are recorded at {found.code} (such as {held[0]}): "
                    "move them before taking the location out of use"
                )
        entry = make_entry(uow, caller, "location.changed", _ref(found.code), changed)
        return record_and_reload(uow, [entry], lambda: uow.custody.location(found.code))


def _location(uow: UnitOfWork, code: str, field: str = "location") -> Location:
    code = location_code(code, field)
    found = uow.custody.location(code)
    if found is None:
        raise InvalidInput(
            f"{field}: no location {code!r} (an administrator defines it: triage custody define)"
        )
    return found


# -- moves -----------------------------------------------------------------------------------


def move_entry(
    uow: UnitOfWork, caller: Caller, device_id: str, to_location: str, reason: str = ""
) -> Entry:
    """The ``device.moved`` entry of a device in the facility's custody scanned at a defined,
    active location, for the caller to record in its transaction (the caller's use case checks
    its own permission: dispatch packing moves a device to the dispatch bay)."""
    target = _location(uow, to_location)
    if not target.active:
        raise InvalidInput(f"location: {target.code} is out of use: choose another location")
    now = _in_custody(uow, device_id)
    if now.location == target.code:
        raise Conflict(f"device {device_id} is already at {target.code}")
    data = {"from": now.location, "to": target.code, "reason": _note(reason)}
    return make_entry(uow, caller, "device.moved", device_ref(device_id), data)


def left_entry(uow: UnitOfWork, caller: Caller, device_id: str, reason: str) -> Entry:
    """The ``device.left`` entry of a device leaving the facility's custody (handed over at
    dispatch), for the caller to record in its transaction; its use case checks permission."""
    now = _in_custody(uow, device_id)
    data = {"from": now.location, "reason": _note(reason)}
    return make_entry(uow, caller, "device.left", device_ref(device_id), data)


def dispatch_bay_entries(
    uow: UnitOfWork, caller: Caller, device_id: str, reason: str
) -> list[Entry]:
    """Packing puts a device at the dispatch bay: a ``device.moved`` to the first active
    location of kind dispatch, unless the device is at one already (nothing then)."""
    now = _in_custody(uow, device_id)
    here = uow.custody.location(now.location) if now.location is not None else None
    if here is not None and here.kind is LocationKind.DISPATCH:
        return []
    bays = [p for p in uow.custody.locations() if p.kind is LocationKind.DISPATCH and p.active]
    if not bays:
        raise Conflict(
            "no dispatch bay is in use: an administrator defines a location of kind dispatch "
            "(triage custody define)"
        )
    return [move_entry(uow, caller, device_id, bays[0].code, reason)]


def _in_custody(uow: UnitOfWork, device_id: str) -> DeviceCustody:
    now = uow.custody.where(device_id)
    if now is None:
        raise Conflict(f"device {device_id} was never received into the facility")
    if now.location is None:
        raise Conflict(
            f"device {device_id} left the facility on {now.since.date().isoformat()}: "
            "scan it in at intake first"
        )
    return now


def move(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    device: str,
    to_location: str,
    reason: str = "",
) -> DeviceCustody:
    """Record the scan of a device at another location (bench operators, supervisors and
    stores)."""
    caller.require(Permission.DEVICE_MOVE)
    device_id = parse_device_id(device)
    with uow_factory(write=True) as uow:
        entry = move_entry(uow, caller, device_id, to_location, reason)
        return record_and_reload(uow, [entry], lambda: uow.custody.where(device_id))


def bench_location_entries(uow: UnitOfWork, caller: Caller) -> list[Entry]:
    """The ``location.defined`` entry of the caller's bench the first time a device is there
    (none when the caller is at no bench, or the bench is a location already)."""
    if caller.bench is None or uow.custody.location(caller.bench) is not None:
        return []
    data = {"name": f"Bench {caller.bench}"[:100], "kind": LocationKind.BENCH.value}
    return [make_entry(uow, caller, "location.defined", _ref(caller.bench), data)]


def bench_scan_entries(uow: UnitOfWork, caller: Caller, device_id: str) -> list[Entry]:
    """A received device scanned at the caller's bench is moved there: the entries that record
    it (none when the caller is at no bench or the device is there already)."""
    if caller.bench is None:
        return []
    now = uow.custody.where(device_id)
    if now is None or now.location is None or now.location == caller.bench:
        return []
    data = {"from": now.location, "to": caller.bench, "reason": BENCH_SCAN}
    moved = make_entry(uow, caller, "device.moved", device_ref(device_id), data)
    return [*bench_location_entries(uow, caller), moved]


def where(uow_factory: UnitOfWorkFactory, caller: Caller, device: str) -> DeviceCustody:
    """Where a device is (an asset owner's person: only its own devices)."""
    scope = caller.owner_scope()
    device_id = parse_device_id(device)
    with uow_factory(write=False) as uow:
        found = uow.custody.where(device_id)
        owned = uow.devices.get(device_id) if scope is not None else None
    if found is None or (scope is not None and (owned is None or owned.asset_owner != scope)):
        raise NotFound(f"device {device_id} has never been in the facility's custody")
    return found


# -- what is where, and for how long ---------------------------------------------------------


@dataclass(frozen=True)
class CustodyOverview:
    """Devices by location, with those idle longer than the facility's idle days first."""

    settings: CustodySettings
    idle_before: datetime
    locations: list[Location]
    counts: list[LocationCount]
    location: str | None  # the location whose devices are listed (None: every location)
    devices: list[IdleDevice]  # longest there first
    total: int
    idle: list[IdleDevice]  # idle devices, longest first
    idle_total: int
    stocktakes: list[DeviceStocktake]  # the latest (not for an asset owner's person)


def overview(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    location: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> CustodyOverview:
    """The custody page and the dashboard's JSON: devices by location and age."""
    scope = caller.owner_scope()
    _page(offset, limit)
    with uow_factory(write=False) as uow:
        shown = None if location is None or not location.strip() else _location(uow, location)
        settings = uow.facilities.custody_settings()
        idle_before = uow.clock.now() - timedelta(days=settings.idle_device_days)
        code = None if shown is None else shown.code
        devices, total = uow.custody.longest_at(code, None, scope, offset, limit)
        idle, idle_total = uow.custody.longest_at(None, idle_before, scope, 0, limit)
        stocktakes = [] if scope is not None else uow.custody.stocktakes(0, RECENT_STOCKTAKES)[0]
        return CustodyOverview(
            settings=settings,
            idle_before=idle_before,
            locations=uow.custody.locations(),
            counts=uow.custody.counts(idle_before, scope),
            location=code,
            devices=devices,
            total=total,
            idle=idle,
            idle_total=idle_total,
            stocktakes=stocktakes,
        )


def idle_devices(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    days: int | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[IdleDevice], int, int]:
    """Devices not moved for ``days`` (default: the facility's idle days), longest first; and
    how many in all, and the days used."""
    scope = caller.owner_scope()
    _page(offset, limit)
    with uow_factory(write=False) as uow:
        days = uow.facilities.custody_settings().idle_device_days if days is None else days
        idle_days(days)
        before = uow.clock.now() - timedelta(days=days)
        found, total = uow.custody.longest_at(None, before, scope, offset, limit)
    return found, total, days


def change_settings(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    idle_device_days: int | None = None,
    random_seal_issue: bool | None = None,
) -> CustodySettings:
    """Change after how many days a device is flagged idle (an administrator), or whether the
    bench draws seals at random (stores)."""
    changed: dict[str, Any] = {}
    if idle_device_days is not None:
        caller.require(Permission.FACILITY_MANAGE)
        changed["idle_device_days"] = idle_days(idle_device_days)
    if random_seal_issue is not None:
        caller.require(Permission.SEAL_STOCK)
        changed["random_seal_issue"] = random_seal_issue
    if not changed:
        raise InvalidInput("nothing to change: give idle_device_days or random_seal_issue")
    with uow_factory(write=True) as uow:
        before = uow.facilities.custody_settings()
        changed = {k: v for k, v in changed.items() if getattr(before, k) != v}
        if not changed:
            raise InvalidInput("nothing to change: the settings are already so")
        subject = Ref("facility", uow.facility_id)
        entry = make_entry(uow, caller, "facility.settings_changed", subject, changed)
        return record_and_reload(uow, [entry], uow.facilities.custody_settings)


def custody_settings(uow_factory: UnitOfWorkFactory, caller: Caller) -> CustodySettings:
    """The facility's custody settings (anyone signed in works under them)."""
    del caller  # every operator works under these settings, so each may read them
    with uow_factory(write=False) as uow:
        return uow.facilities.custody_settings()


# -- device stocktakes -----------------------------------------------------------------------


def _scanned(scanned: Sequence[str]) -> list[str]:
    if len(scanned) > MAX_STOCKTAKE:
        raise InvalidInput(f"device_ids: at most {MAX_STOCKTAKE} scans in one stocktake")
    found: set[str] = set()
    problems = []
    for n, text in enumerate(scanned, start=1):
        try:
            found.add(DeviceId.parse(text).value)
        except FieldError as exc:
            problems.append(f"scan {n} {text[:30]!r}: {exc.problem}")
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise InvalidInput(f"device_ids: {'; '.join(problems[:5])}{more}; nothing recorded")
    return sorted(found)


def stocktake(
    uow_factory: UnitOfWorkFactory, caller: Caller, location: str, scanned: Sequence[str]
) -> DeviceStocktake:
    """Compare the devices scanned at a location with those recorded there (stores,
    supervisors); every missing or unexpected device becomes an exception. A device scanned
    twice counts once; an empty scan says the location holds nothing."""
    caller.require(Permission.DEVICE_STOCKTAKE)
    found = _scanned(scanned)
    with uow_factory(write=True) as uow:
        place = _location(uow, location)
        here = uow.custody.devices_at(place.code)
        elsewhere = uow.custody.recorded_at(sorted(set(found) - set(here)))
        result = compare_devices(here, found, elsewhere)
        stocktake_id = str(uuid.uuid4())
        data = {
            "stocktake_id": stocktake_id,
            "location": place.code,
            "expected": result.expected,
            "counted": result.counted,
            "matched": result.matched,
            "missing": result.missing,
            "unexpected": [[u.device_id, u.recorded_at] for u in result.unexpected],
        }
        entries = [make_entry(uow, caller, "device_stocktake.recorded", _ref(place.code), data)]
        ids = []
        for device_id in result.missing:
            detail = f"not found at {place.code} at device stocktake {stocktake_id}"
            exception_id, entry = exception_entry(uow, caller, device_id, MISSING, detail)
            ids.append(exception_id)
            entries.append(entry)
        for unexpected in result.unexpected:
            recorded = (
                f"recorded at {unexpected.recorded_at}"
                if unexpected.recorded_at
                else "not in the facility's custody"
            )
            detail = f"found at {place.code} at device stocktake {stocktake_id}, but {recorded}"
            exception_id, entry = exception_entry(
                uow, caller, unexpected.device_id, UNEXPECTED, detail
            )
            ids.append(exception_id)
            entries.append(entry)
        recorded_now = record_and_reload(uow, entries, lambda: uow.custody.stocktake(stocktake_id))
    return replace(recorded_now, exception_ids=tuple(ids))


def stocktakes(
    uow_factory: UnitOfWorkFactory, caller: Caller, offset: int = 0, limit: int = 50
) -> tuple[list[DeviceStocktake], int]:
    """Device stocktakes, newest first (the facility's readers)."""
    caller.require(Permission.TRIAGE_READ)
    _page(offset, limit)
    with uow_factory(write=False) as uow:
        return uow.custody.stocktakes(offset, limit)


def device_stocktake(
    uow_factory: UnitOfWorkFactory, caller: Caller, stocktake_id: str
) -> DeviceStocktake:
    """One device stocktake (the facility's readers)."""
    caller.require(Permission.TRIAGE_READ)
    with uow_factory(write=False) as uow:
        found = uow.custody.stocktake(stocktake_id.strip()[:36])
    if found is None:
        raise NotFound(f"no device stocktake {stocktake_id[:36]!r}")
    return found
