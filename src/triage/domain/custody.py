"""Device custody: where each device is inside the facility, and what a device stocktake found.

Every device in the facility is at one location (a store, a bench, the quarantine cage, the
dispatch bay...). It gets there by a recorded scan: receipt puts it at the receiving location,
a bench scan at the bench, and every other move is a ``device.moved`` entry. A device stocktake
of one location compares the devices found there with those recorded there: a device moved
without a scan is missing where it is recorded and unexpected where it really is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from triage.errors import InvalidInput

MAX_CODE = 64
MAX_NAME = 100
DEFAULT_IDLE_DEVICE_DAYS = 3
MAX_IDLE_DEVICE_DAYS = 365
# Where receipt at intake puts a device unless its entry names a bench.
RECEIVING = "STORES"


class LocationKind(StrEnum):
    """What a location is for."""

    STORES = "stores"
    BENCH = "bench"
    QUARANTINE = "quarantine"
    DISPATCH = "dispatch"
    OTHER = "other"


# Every facility has these from its creation (the projection of ``facility.created``).
DEFAULT_LOCATIONS: tuple[tuple[str, str, LocationKind], ...] = (
    (RECEIVING, "Stores", LocationKind.STORES),
    ("QUARANTINE", "Quarantine cage", LocationKind.QUARANTINE),
    ("DISPATCH", "Dispatch bay", LocationKind.DISPATCH),
)


@dataclass(frozen=True)
class Location:
    """A place inside the facility where devices are kept."""

    code: str
    name: str
    kind: LocationKind
    active: bool
    defined_at: datetime


def location_code(text: str, field: str = "location") -> str:
    """A location code as typed: 1-64 printable characters, no surrounding space (a bench's
    name is the code of its location)."""
    code = text.strip()
    if not code or len(code) > MAX_CODE or not code.isprintable():
        raise InvalidInput(
            f"{field}: a location code is 1-{MAX_CODE} printable characters (like STORES or B1)"
        )
    return code


def location_name(text: str) -> str:
    """A location's name: 1-100 characters on one line."""
    name = " ".join(text.split())
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"name: name the location in 1-{MAX_NAME} characters")
    return name


def location_kind(text: str) -> LocationKind:
    """A location kind by its value."""
    try:
        return LocationKind(text.strip().lower())
    except ValueError:
        kinds = ", ".join(k.value for k in LocationKind)
        raise InvalidInput(f"kind: one of {kinds}, not {text[:40]!r}") from None


def idle_days(value: int) -> int:
    """Days without a move after which a device is flagged idle: 1 to 365."""
    if not 1 <= value <= MAX_IDLE_DEVICE_DAYS:
        raise InvalidInput(
            f"idle_device_days: a whole number of days from 1 to {MAX_IDLE_DEVICE_DAYS}"
        )
    return value


@dataclass(frozen=True)
class CustodySettings:
    """The facility's custody settings: when a device counts as idle, and whether the bench
    draws seals at random from an operator's issued seals."""

    idle_device_days: int = DEFAULT_IDLE_DEVICE_DAYS
    random_seal_issue: bool = False


@dataclass(frozen=True)
class DeviceCustody:
    """Where a device is: its location (None once it has left the facility) since when."""

    device_id: str
    location: str | None
    since: datetime


@dataclass(frozen=True)
class IdleDevice:
    """A device at a location, with how long it has been there."""

    device_id: str
    location: str
    since: datetime
    asset_owner: str


@dataclass(frozen=True)
class LocationCount:
    """How many devices are at a location, and how many of them are idle."""

    location: str
    devices: int
    idle: int


@dataclass(frozen=True)
class UnexpectedDevice:
    """A device found at a stocktake where it is not recorded: where it is recorded instead
    (None: not in the facility's custody)."""

    device_id: str
    recorded_at: str | None


@dataclass(frozen=True)
class DeviceStocktake:
    """A device stocktake of one location, as recorded."""

    id: str
    location: str
    counted_by: str
    at: datetime
    expected: int
    counted: int
    matched: int
    missing: tuple[str, ...]
    unexpected: tuple[UnexpectedDevice, ...]
    exception_ids: tuple[str, ...] = ()

    @property
    def agrees(self) -> bool:
        """True when every device recorded there was found, and nothing else."""
        return not self.missing and not self.unexpected


@dataclass(frozen=True)
class StocktakeComparison:
    """What a stocktake found, before it is recorded."""

    expected: int
    counted: int
    matched: int
    missing: list[str]
    unexpected: list[UnexpectedDevice]


def compare_devices(
    recorded_here: Iterable[str], found: Iterable[str], recorded_elsewhere: Mapping[str, str | None]
) -> StocktakeComparison:
    """Compare the devices ``found`` at a location with those ``recorded_here``; an unexpected
    device is named with where it is recorded (``recorded_elsewhere``, None if nowhere)."""
    here, seen = set(recorded_here), set(found)
    return StocktakeComparison(
        expected=len(here),
        counted=len(seen),
        matched=len(here & seen),
        missing=sorted(here - seen),
        unexpected=[UnexpectedDevice(d, recorded_elsewhere.get(d)) for d in sorted(seen - here)],
    )


@dataclass(frozen=True)
class SealDraw:
    """The seal drawn at random for a job from the seals issued to its operator."""

    job_id: str
    serial: str
    operator_id: str
    at: datetime
