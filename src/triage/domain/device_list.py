"""The device list: what a search asks for, where a page starts, and one row of the list.

A row is one stay of a device at the facility (its triage job): a device received again after
leaving has a row for each stay. Rows come newest received first (a search by the start of an
id: by device id); a page starts just after the last row of the one before (``Position``),
never at a count of rows to skip, so a page costs the same however deep it is and a device
received meanwhile never shifts the next page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from triage.domain.device import _HEX, _SEPARATORS, DeviceId, FieldError
from triage.domain.lifecycle import JobState

_DIGITS = 16


@dataclass(frozen=True)
class DeviceQuery:
    """What to look for; every part given must match (``None``: any)."""

    device_id: str | None = None  # a canonical EUI-64 (exact) or the start of one ("BC-33-A")
    consignment: str | None = None  # a consignment's reference, as its manifest gave it
    state: JobState | None = None
    asset_owner: str | None = None
    received_from: datetime | None = None  # UTC, inclusive
    received_before: datetime | None = None  # UTC, exclusive
    # The asset owner whose devices alone the reader may see (a person of that owner): set by
    # the service from the caller, never from the search's fields.
    owner: str | None = None

    @property
    def by_id(self) -> bool:
        """Listed by device id: a search by the start of an id (see ``Position``)."""
        return self.device_id is not None and not self.exact_id

    @property
    def exact_id(self) -> bool:
        """The device id is a whole EUI-64, not the start of one."""
        return self.device_id is not None and len(self.device_id) == len("BC-33-AC-FF-FE-FA-55-3D")

    def id_range(self) -> tuple[str, str]:
        """The lowest and highest canonical ids starting with ``device_id`` (both inclusive):
        every canonical id has its dashes in the same places, so this range holds exactly the
        ids with that start, whatever order the database collates text in."""
        start = (self.device_id or "").replace("-", "")
        return _canonical(start.ljust(_DIGITS, "0")), _canonical(start.ljust(_DIGITS, "F"))


def _canonical(digits: str) -> str:
    return "-".join(digits[i : i + 2] for i in range(0, len(digits), 2))


def device_id_start(text: str) -> str:
    """A device id as typed into a search (any EUI-64 spelling, whole or its first digits) in
    the canonical form; FieldError for what cannot start an EUI-64."""
    digits = "".join(ch for ch in text.strip() if ch not in _SEPARATORS).upper()
    if not digits or len(digits) > _DIGITS or not set(digits) <= _HEX:
        raise FieldError(
            "device_id",
            f"{text[:40]!r} is not an EUI-64 or its first hex digits (e.g. BC-33-AC)",
        )
    if len(digits) == _DIGITS:
        return DeviceId.parse(digits).value
    return _canonical(digits)


@dataclass(frozen=True)
class Position:
    """Where a row stands in the list. Rows come newest received first (then by job id,
    descending); a search by the start of an id lists them by device id instead (then oldest
    stay first), as the ids' index holds them, so that a start many devices share costs no
    more than a whole id."""

    received_at: datetime
    job_id: str
    device_id: str

    def by_time(self) -> tuple[datetime, str]:
        """The sort key of the newest-first list (descending)."""
        return (self.received_at, self.job_id)

    def by_id(self) -> tuple[str, datetime, str]:
        """The sort key of a search by the start of an id (ascending)."""
        return (self.device_id, self.received_at, self.job_id)


@dataclass(frozen=True)
class ListedDevice:
    """One row of the list: a device's stay, its state and where it came from."""

    device_id: str
    job_id: str
    state: JobState
    consignment_id: str | None
    consignment_reference: str | None
    asset_owner: str
    manufacturer: str
    model: str
    received_at: datetime
    updated_at: datetime
    closed_at: datetime | None

    @property
    def position(self) -> Position:
        return Position(self.received_at, self.job_id, self.device_id)
