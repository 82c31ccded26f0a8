"""The facility's local time: the IANA time zone its people work in (Europe/London in GB).

Times are stored and recorded in UTC everywhere; they are shown, and working hours are set and
checked, in the facility's zone. A time shown always names its zone ("2026-12-06 10:15 GMT",
"2026-07-01 08:15 BST"), so a time is never ambiguous, not even in the hour the clocks go back.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from triage.errors import InvalidInput

DEFAULT_TIME_ZONE = "Europe/London"
# What working hours recorded before they named a zone meant.
LEGACY_TIME_ZONE = "UTC"
_LONGEST_NAME = 64


def time_zone(name: str, field: str = "time_zone") -> tzinfo:
    """The zone called ``name`` (IANA, e.g. Europe/London); InvalidInput naming ``field`` when
    there is no such zone. "UTC" needs no zone data."""
    if name == "UTC":
        return UTC
    try:
        if not name or len(name) > _LONGEST_NAME or name != name.strip():
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"{field}: {name[:_LONGEST_NAME]!r} is not an IANA time zone "
            "(e.g. Europe/London, or UTC)",
            field=field,
        ) from None


def local(at: datetime, zone: tzinfo) -> datetime:
    """``at`` (timezone-aware) as the clock on the wall in ``zone`` reads it."""
    if at.tzinfo is None:
        raise InvalidInput("local time: a time without its zone cannot be placed", field="at")
    return at.astimezone(zone)


def format_local(at: datetime, zone: tzinfo, *, seconds: bool = False) -> str:
    """``at`` as people read it here: "2026-12-06 10:15 GMT" (seconds on request)."""
    moment = local(at, zone)
    clock = "%H:%M:%S" if seconds else "%H:%M"
    # isoformat's four-digit year, not strftime's %Y (which writes year 1 as "1").
    return f"{moment.date().isoformat()} {moment.strftime(clock)} {moment.tzname()}"
