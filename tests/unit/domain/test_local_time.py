"""The facility's local time: times shown with their zone, working hours on the local clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from triage.domain.local_time import format_local, time_zone
from triage.domain.thresholds import WorkingHours
from triage.errors import InvalidInput

LONDON = time_zone("Europe/London")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def test_a_time_is_shown_on_london_s_clock_with_its_zone() -> None:
    assert format_local(datetime(2026, 12, 6, 10, 15, 42, tzinfo=UTC), LONDON) == (
        "2026-12-06 10:15 GMT"
    )
    assert format_local(datetime(2026, 7, 1, 9, 15, 42, tzinfo=UTC), LONDON) == (
        "2026-07-01 10:15 BST"
    )
    assert format_local(datetime(2026, 7, 1, 9, 15, 42, tzinfo=UTC), LONDON, seconds=True) == (
        "2026-07-01 10:15:42 BST"
    )
    # The hour the clocks go back reads twice on the wall: the zone tells them apart.
    first, second = (datetime(2026, 10, 25, hour, 30, tzinfo=UTC) for hour in (0, 1))
    assert format_local(first, LONDON) == "2026-10-25 01:30 BST"
    assert format_local(second, LONDON) == "2026-10-25 01:30 GMT"


def test_a_time_without_its_zone_is_refused() -> None:
    with pytest.raises(InvalidInput, match="without its zone"):
        format_local(datetime(2026, 12, 6, 10, 15), LONDON)


def test_an_unknown_zone_names_the_field() -> None:
    with pytest.raises(InvalidInput, match="zone: 'Mars/Olympus' is not an IANA time zone") as e:
        time_zone("Mars/Olympus", "zone")
    assert e.value.field == "zone"


def test_london_working_hours_follow_summer_time() -> None:
    hours = WorkingHours.parse("08:00", "18:00", WEEKDAYS, "Europe/London")
    assert hours.to_json()["zone"] == "Europe/London"
    # Wednesday 1 July 2026 (BST): 07:00-17:00 UTC.
    assert hours.contains(datetime(2026, 7, 1, 7, 0, tzinfo=UTC))
    assert not hours.contains(datetime(2026, 7, 1, 17, 0, tzinfo=UTC))
    # Monday 7 December 2026 (GMT): 08:00-18:00 UTC.
    assert not hours.contains(datetime(2026, 12, 7, 7, 59, tzinfo=UTC))
    assert hours.contains(datetime(2026, 12, 7, 17, 59, tzinfo=UTC))
    # A Friday night shift, 20:00-02:00 London: 19:00-01:00 UTC in summer.
    late = WorkingHours.parse("20:00", "02:00", ["fri"], "Europe/London")
    assert late.contains(datetime(2026, 7, 3, 19, 30, tzinfo=UTC))
    assert late.contains(datetime(2026, 7, 4, 0, 30, tzinfo=UTC))
    assert not late.contains(datetime(2026, 7, 4, 1, 30, tzinfo=UTC))
    assert not late.contains(datetime(2026, 7, 3, 18, 30, tzinfo=UTC))


def test_hours_recorded_before_they_named_a_zone_stay_utc() -> None:
    legacy = WorkingHours.from_json({"start": "08:00", "end": "18:00", "days": WEEKDAYS})
    assert legacy.zone == "UTC"
    assert not legacy.contains(datetime(2026, 7, 1, 7, 30, tzinfo=UTC))
    assert WorkingHours.from_json(legacy.to_json()) == legacy


def test_working_hours_in_an_unknown_zone_are_refused() -> None:
    with pytest.raises(InvalidInput, match="zone: 'Europe/Londres' is not an IANA time zone"):
        WorkingHours.parse("08:00", "18:00", WEEKDAYS, "Europe/Londres")
