"""REST endpoints of device custody (issue 19 items 5 and 6): locations, moves by scanning,
device stocktakes, where a device is, the custody dashboard, the custody settings, and the seal
drawn at random for a job.

No "from __future__ import annotations" here: FastAPI must see the dependency types.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.custody import MAX_CODE, MAX_IDLE_DEVICE_DAYS
from triage.domain.roles import Permission
from triage.entrypoints.api import problems
from triage.entrypoints.api.fields import Limit, Offset
from triage.entrypoints.api.routing import ThreadedRoute
from triage.entrypoints.api.security import access, operator_dependency, requires
from triage.entrypoints.schemas.common import Page
from triage.entrypoints.schemas.custody import (
    CustodyOut,
    CustodySettingsOut,
    DeviceLocationOut,
    DeviceStocktakeOut,
    DeviceStocktakeRecordedOut,
    IdleDaysIn,
    IdleDevicesOut,
    LocationChange,
    LocationIn,
    LocationOut,
    MoveIn,
    PlacedDeviceOut,
    RandomSealIssueIn,
    SealDrawOut,
    StocktakeIn,
)
from triage.services import custody, seal_draw


def build_custody_router(application: App) -> APIRouter:
    """The custody routes of one facility."""
    uow = application.uow
    Operator = Annotated[Caller, Depends(operator_dependency(application))]
    router = APIRouter(prefix="/api/v1", tags=["custody"], route_class=ThreadedRoute)
    read = requires(application, Permission.TRIAGE_READ)
    manage = requires(application, Permission.FACILITY_MANAGE)

    @router.get("/locations", **read)
    def list_locations(caller: Operator) -> list[LocationOut]:
        """Every location devices are kept at, by code."""
        return [LocationOut.model_validate(p) for p in custody.locations(uow, caller)]

    @router.post("/locations", status_code=201, responses=problems.responses(409), **manage)
    def define_location(body: LocationIn, caller: Operator) -> LocationOut:
        """Define a location (an administrator)."""
        made = custody.define_location(uow, caller, body.code, body.name, body.kind.value)
        return LocationOut.model_validate(made)

    @router.patch("/locations/{code}", responses=problems.responses(409), **manage)
    def change_location(code: str, body: LocationChange, caller: Operator) -> LocationOut:
        """Rename a location, change its kind, or take it out of use once it holds no device."""
        changed = custody.change_location(
            uow,
            caller,
            code,
            name=body.name,
            kind=None if body.kind is None else body.kind.value,
            active=body.active,
        )
        return LocationOut.model_validate(changed)

    @router.post(
        "/devices/{device_id}/move",
        responses=problems.responses(409),
        **requires(application, Permission.DEVICE_MOVE),
    )
    def move(device_id: str, body: MoveIn, caller: Operator) -> DeviceLocationOut:
        """Record the scan of a device at another location (a move)."""
        moved = custody.move(uow, caller, device_id, body.location, body.reason)
        return DeviceLocationOut.model_validate(moved)

    @router.get("/devices/{device_id}/location", **access("service"))
    def where(device_id: str, caller: Operator) -> DeviceLocationOut:
        """Where a device is, and since when (an asset owner's person: its own devices)."""
        return DeviceLocationOut.model_validate(custody.where(uow, caller, device_id))

    @router.post(
        "/device-stocktakes",
        status_code=201,
        **requires(application, Permission.DEVICE_STOCKTAKE),
    )
    def stocktake(body: StocktakeIn, caller: Operator) -> DeviceStocktakeRecordedOut:
        """Record a device stocktake: every device scanned at a location, against where each
        is recorded; each missing or unexpected device becomes an exception."""
        taken = custody.stocktake(uow, caller, body.location, body.device_ids)
        return DeviceStocktakeRecordedOut.model_validate(taken)

    @router.get("/device-stocktakes", **read)
    def list_stocktakes(
        caller: Operator, offset: Offset = 0, limit: Limit = 50
    ) -> Page[DeviceStocktakeOut]:
        """Device stocktakes, newest first."""
        items, total = custody.stocktakes(uow, caller, offset, limit)
        return Page(
            items=[DeviceStocktakeOut.model_validate(s) for s in items],
            total=total,
            offset=offset,
            limit=limit,
        )

    @router.get("/device-stocktakes/{stocktake_id}", **read)
    def get_stocktake(stocktake_id: str, caller: Operator) -> DeviceStocktakeOut:
        """One device stocktake."""
        found = custody.device_stocktake(uow, caller, stocktake_id)
        return DeviceStocktakeOut.model_validate(found)

    @router.get("/custody", **access("service"))
    def dashboard(
        caller: Operator,
        location: Annotated[str | None, Query(max_length=MAX_CODE)] = None,
        offset: Offset = 0,
        limit: Limit = 100,
    ) -> CustodyOut:
        """Devices by location and age: the count at each location with how many are idle, the
        devices (at ``location`` if given) longest there first, and the idle ones (an asset
        owner's person: its own devices only)."""
        return CustodyOut.model_validate(custody.overview(uow, caller, location, offset, limit))

    @router.get("/custody/idle", **access("service"))
    def idle(
        caller: Operator,
        days: Annotated[int | None, Query(ge=1, le=MAX_IDLE_DEVICE_DAYS)] = None,
        offset: Offset = 0,
        limit: Limit = 100,
    ) -> IdleDevicesOut:
        """Devices not moved for ``days`` (default: the facility's idle days), longest first."""
        found, total, used = custody.idle_devices(uow, caller, days, offset, limit)
        return IdleDevicesOut(
            days=used,
            items=[PlacedDeviceOut.model_validate(d) for d in found],
            total=total,
            offset=offset,
            limit=limit,
        )

    @router.put("/custody/settings/idle-days", **manage)
    def set_idle_days(body: IdleDaysIn, caller: Operator) -> CustodySettingsOut:
        """Change after how many days without a move a device is flagged idle."""
        changed = custody.change_settings(uow, caller, idle_device_days=body.idle_device_days)
        return CustodySettingsOut.model_validate(changed)

    @router.put(
        "/custody/settings/random-seal-issue", **requires(application, Permission.SEAL_STOCK)
    )
    def set_random_seal_issue(body: RandomSealIssueIn, caller: Operator) -> CustodySettingsOut:
        """Turn random seal issue on or off (stores): on, the bench draws each seal at random
        from the operator's issued seals and fits only that one."""
        changed = custody.change_settings(uow, caller, random_seal_issue=body.random_seal_issue)
        return CustodySettingsOut.model_validate(changed)

    @router.post(
        "/jobs/{job_id}/seal-draw",
        responses=problems.responses(409),
        **requires(application, Permission.DEVICE_SEAL),
    )
    def draw_seal(job_id: str, caller: Operator) -> SealDrawOut:
        """Draw the seal to fit to a verified device at random from those issued to the caller
        (when the facility issues seals at random); asked again, the same seal."""
        return SealDrawOut.model_validate(seal_draw.draw(uow, caller, job_id))

    return router
