"""The device list: search the devices received by id (whole or its start), consignment, state,
asset owner and the day received, newest first (by device id for the start of an id), a page
at a time by an opaque cursor; and the same search as CSV, every matching row.

Dates are the facility's local days (``Settings.time_zone``): "received 2026-12-06" means from
local midnight to the next, whatever UTC offset applies that day.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from triage.domain.caller import Caller
from triage.domain.device import FieldError
from triage.domain.device_list import DeviceQuery, ListedDevice, Position, device_id_start
from triage.domain.lifecycle import JobState
from triage.errors import InvalidInput
from triage.ledger.entry import format_time
from triage.services.ports import UnitOfWorkFactory
from triage.services.spreadsheet import cell

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# Rows read a unit of work at a time while the CSV is written.
EXPORT_BATCH = 1000
_LONGEST_TEXT = 100
_LONGEST_CURSOR = 200
# What a cursor may name: a job id and a canonical device id.
_PRINTABLE = re.compile(r"[\x21-\x7e]{1,64}")
_CANONICAL_ID = re.compile(r"[0-9A-F]{2}(-[0-9A-F]{2}){7}")

CSV_COLUMNS = (
    "device_id",
    "state",
    "consignment",
    "asset_owner",
    "manufacturer",
    "model",
    "received_at",
    "updated_at",
    "closed_at",
    "job_id",
)


@dataclass(frozen=True)
class Filters:
    """A search as typed (a form's fields or a URL's query): empty means any."""

    device_id: str = ""
    consignment: str = ""
    state: str = ""
    asset_owner: str = ""
    received_from: str = ""  # a local date, YYYY-MM-DD
    received_to: str = ""  # a local date, inclusive

    def query(self, zone: tzinfo) -> DeviceQuery:
        """The search these fields ask for; InvalidInput naming the field at fault."""
        first = _day(self.received_from, "received_from")
        last = _day(self.received_to, "received_to")
        if first is not None and last is not None and last < first:
            raise InvalidInput(
                f"received_to: {last} is before received_from {first}", field="received_to"
            )
        return DeviceQuery(
            device_id=_device_id(self.device_id),
            consignment=_text(self.consignment, "consignment"),
            state=_state(self.state),
            asset_owner=_text(self.asset_owner, "asset_owner"),
            received_from=None if first is None else _starts(first, zone),
            received_before=None if last is None else _starts(last + timedelta(days=1), zone),
        )


@dataclass(frozen=True)
class DevicePage:
    """One page of the list, and the cursor of the next (None: this is the last)."""

    items: list[ListedDevice]
    next_cursor: str | None


def search(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    filters: Filters,
    cursor: str = "",
    limit: int = DEFAULT_LIMIT,
) -> DevicePage:
    """One page of the devices matching ``filters``, newest received first (by device id for
    the start of an id), starting after the row ``cursor`` names (empty: the first page)."""
    query = replace(filters.query(uow_factory.settings.zone), owner=caller.owner_scope())
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit: {limit} is not between 1 and {MAX_LIMIT}", field="limit")
    after = decode_cursor(cursor) if cursor else None
    with uow_factory(write=False) as uow:
        # One row more than asked says whether another page follows.
        rows = uow.devices.search(query, after, limit + 1)
    items = rows[:limit]
    following = encode_cursor(items[-1].position) if len(rows) > limit else None
    return DevicePage(items, following)


def export_csv(uow_factory: UnitOfWorkFactory, caller: Caller, filters: Filters) -> Iterator[str]:
    """Every device matching ``filters`` as CSV lines (a header first), newest received first,
    read a batch at a time as the lines are taken. The caller and the filters are checked
    before the first line is asked for. A person of an asset owner gets that owner's alone."""
    query = replace(filters.query(uow_factory.settings.zone), owner=caller.owner_scope())
    return _csv_lines(uow_factory, query)


def _csv_lines(uow_factory: UnitOfWorkFactory, query: DeviceQuery) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")

    def line(values: list[str]) -> str:
        out.seek(0)
        out.truncate()
        writer.writerow(values)
        return out.getvalue()

    yield line(list(CSV_COLUMNS))
    after: Position | None = None
    while True:
        with uow_factory(write=False) as uow:
            rows = uow.devices.search(query, after, EXPORT_BATCH)
        for row in rows:
            yield line([cell(value) for value in _csv_values(row)])
        if len(rows) < EXPORT_BATCH:
            return
        after = rows[-1].position


def _csv_values(row: ListedDevice) -> list[object]:
    return [
        row.device_id,
        row.state.value,
        row.consignment_reference,
        row.asset_owner,
        row.manufacturer,
        row.model,
        format_time(row.received_at),
        format_time(row.updated_at),
        None if row.closed_at is None else format_time(row.closed_at),
        row.job_id,
    ]


def encode_cursor(position: Position) -> str:
    """The opaque cursor of the row at ``position``: the next page starts after it."""
    values = [format_time(position.received_at), position.job_id, position.device_id]
    text = json.dumps(values, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position a cursor names; InvalidInput for anything this list did not give out."""
    refused = InvalidInput(
        "cursor: not a cursor this list gave out; start again from the first page",
        field="cursor",
    )
    if len(cursor) > _LONGEST_CURSOR:
        raise refused
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, job_id, device_id = json.loads(raw)
        received_at = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except (binascii.Error, ValueError, TypeError, AttributeError):
        raise refused from None
    if (
        received_at.tzinfo is None
        or not isinstance(job_id, str)
        or not _PRINTABLE.fullmatch(job_id)
        or not isinstance(device_id, str)
        or not _CANONICAL_ID.fullmatch(device_id)
    ):
        raise refused
    return Position(received_at.astimezone(UTC), job_id, device_id)


def _device_id(text: str) -> str | None:
    if not text.strip():
        return None
    try:
        return device_id_start(text)
    except FieldError as exc:
        raise InvalidInput(str(exc), field=exc.field) from None


def _state(text: str) -> JobState | None:
    cleaned = text.strip().lower().replace(" ", "_")
    if not cleaned:
        return None
    try:
        return JobState(cleaned)
    except ValueError:
        known = ", ".join(s.value for s in JobState)
        raise InvalidInput(
            f"state: {text[:40]!r} is not a state (one of {known})", field="state"
        ) from None


def _text(text: str, field: str) -> str | None:
    cleaned = text.strip()
    if len(cleaned) > _LONGEST_TEXT:
        raise InvalidInput(f"{field}: longer than {_LONGEST_TEXT} characters", field=field)
    if not cleaned.isprintable():
        raise InvalidInput(f"{field}: has a control character", field=field)
    return cleaned or None


def _day(text: str, field: str) -> date | None:
    """The day ``text`` names (YYYY-MM-DD), if any."""
    cleaned = text.strip()
    if not cleaned:
        return None
    try:
        if len(cleaned) != len("2026-12-06"):
            raise ValueError(cleaned)
        return date.fromisoformat(cleaned)
    except ValueError:
        raise InvalidInput(
            f"{field}: {cleaned[:40]!r} is not a date (YYYY-MM-DD)", field=field
        ) from None


def _starts(day: date, zone: tzinfo) -> datetime:
    """The moment the local day starts at the facility, in UTC (a day of 23 or 25 hours when
    the clocks change)."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
