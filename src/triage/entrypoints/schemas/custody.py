"""Request and answer models of device custody: locations, moves, device stocktakes, the
custody dashboard and the seal drawn at random."""

from __future__ import annotations

from pydantic import BaseModel, Field

from triage.domain.custody import MAX_CODE, MAX_IDLE_DEVICE_DAYS, MAX_NAME, LocationKind
from triage.entrypoints.schemas.common import Record, Time
from triage.services.custody import MAX_NOTE, MAX_STOCKTAKE


class LocationIn(BaseModel):
    code: str = Field(max_length=MAX_CODE, description="A location code, such as SHELF-A1.")
    name: str = Field(max_length=MAX_NAME)
    kind: LocationKind


class LocationChange(BaseModel):
    name: str | None = Field(default=None, max_length=MAX_NAME)
    kind: LocationKind | None = None
    active: bool | None = Field(
        default=None, description="False takes it out of use (only once no device is there)."
    )


class LocationOut(Record):
    code: str
    name: str
    kind: LocationKind
    active: bool
    defined_at: Time


class MoveIn(BaseModel):
    location: str = Field(max_length=MAX_CODE, description="Where the device was scanned.")
    reason: str = Field(default="", max_length=MAX_NOTE, description="An optional note.")


class DeviceLocationOut(Record):
    device_id: str
    location: str | None = Field(description="None: the device has left the facility.")
    since: Time


class StocktakeIn(BaseModel):
    location: str = Field(max_length=MAX_CODE)
    device_ids: list[str] = Field(
        max_length=MAX_STOCKTAKE, description="Every device scanned at the location."
    )


class UnexpectedDeviceOut(Record):
    device_id: str
    recorded_at: str | None = Field(description="Where it is recorded; None: not in custody.")


class DeviceStocktakeOut(Record):
    id: str
    location: str
    counted_by: str
    at: Time
    expected: int
    counted: int
    matched: int
    missing: list[str]
    unexpected: list[UnexpectedDeviceOut]


class DeviceStocktakeRecordedOut(DeviceStocktakeOut):
    exception_ids: list[str] = Field(description="An exception for each device out of place.")


class LocationCountOut(Record):
    location: str
    devices: int
    idle: int


class PlacedDeviceOut(Record):
    device_id: str
    location: str
    since: Time
    asset_owner: str


class CustodySettingsOut(Record):
    idle_device_days: int
    random_seal_issue: bool


class IdleDaysIn(BaseModel):
    idle_device_days: int = Field(ge=1, le=MAX_IDLE_DEVICE_DAYS)


class RandomSealIssueIn(BaseModel):
    random_seal_issue: bool


class CustodyOut(Record):
    settings: CustodySettingsOut
    idle_before: Time
    counts: list[LocationCountOut]
    location: str | None
    devices: list[PlacedDeviceOut]
    total: int
    idle: list[PlacedDeviceOut]
    idle_total: int


class IdleDevicesOut(BaseModel):
    days: int
    items: list[PlacedDeviceOut]
    total: int
    offset: int
    limit: int


class SealDrawOut(Record):
    job_id: str
    serial: str
    operator_id: str
    at: Time
