"""Anomaly thresholds and working hours: what counts as misuse of the Triage Tool and Interface.

A threshold allows at most ``max_count`` events of one metric within a sliding window of
``window_minutes``; one more is a breach. Values are set facility-wide (the default for every
tool and every operator) or for one tool or one operator, which overrides the facility value for
that subject. Where nothing was set, the built-in defaults below apply.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from typing import Any, TypedDict

from triage.domain.local_time import LEGACY_TIME_ZONE, time_zone
from triage.errors import InvalidInput

MAX_COUNT = 100_000
MAX_WINDOW_MINUTES = 7 * 24 * 60
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class Metric(StrEnum):
    """What the thresholds count."""

    RESETS = "resets"  # work orders issued
    REFUSED_COMMANDS = "refused_commands"  # tool refusals and refused agent requests
    FAILED_VERIFICATIONS = "failed_verifications"  # resets the read-back did not verify
    OUT_OF_HOURS = "out_of_hours"  # work orders issued outside working hours
    UNEXPECTED_CONSIGNMENT = "unexpected_consignment"  # resets of devices no consignment expected


class Scope(StrEnum):
    """Whom a threshold value is for."""

    FACILITY = "facility"
    TOOL = "tool"
    OPERATOR = "operator"


# The subjects a breach can suspend.
SUBJECT_SCOPES = (Scope.TOOL, Scope.OPERATOR)


@dataclass(frozen=True)
class Limit:
    """At most ``max_count`` events within ``window_minutes``; one more is a breach."""

    max_count: int
    window_minutes: int

    def breached_by(self, count: int) -> bool:
        """True when ``count`` events in the window are more than allowed."""
        return count > self.max_count

    def to_json(self) -> dict[str, int]:
        """As stored in entries and shown by the API."""
        return {"max_count": self.max_count, "window_minutes": self.window_minutes}


# Built-in defaults per metric and subject: an operator may work several tools, so may issue
# more resets an hour than one tool can carry out. Use outside working hours and resets of
# devices no open consignment expected are allowed zero times: any one is a breach.
DEFAULTS: Mapping[tuple[Metric, Scope], Limit] = {
    (Metric.RESETS, Scope.TOOL): Limit(60, 60),
    (Metric.RESETS, Scope.OPERATOR): Limit(120, 60),
    (Metric.REFUSED_COMMANDS, Scope.TOOL): Limit(5, 60),
    (Metric.REFUSED_COMMANDS, Scope.OPERATOR): Limit(5, 60),
    (Metric.FAILED_VERIFICATIONS, Scope.TOOL): Limit(3, 60),
    (Metric.FAILED_VERIFICATIONS, Scope.OPERATOR): Limit(3, 60),
    (Metric.OUT_OF_HOURS, Scope.TOOL): Limit(0, 60),
    (Metric.OUT_OF_HOURS, Scope.OPERATOR): Limit(0, 60),
    (Metric.UNEXPECTED_CONSIGNMENT, Scope.TOOL): Limit(0, 60),
    (Metric.UNEXPECTED_CONSIGNMENT, Scope.OPERATOR): Limit(0, 60),
}


class SettingJson(TypedDict):
    """A threshold setting as stored in entries and shown."""

    scope: str
    subject_id: str
    metric: str
    max_count: int
    window_minutes: int


@dataclass(frozen=True)
class ThresholdSetting:
    """A value set by a security manager: for the facility (subject '') or one subject."""

    scope: Scope
    subject_id: str
    metric: Metric
    limit: Limit

    def to_json(self) -> SettingJson:
        """As stored in ``threshold.set`` entries."""
        return {
            "scope": self.scope.value,
            "subject_id": self.subject_id,
            "metric": self.metric.value,
            "max_count": self.limit.max_count,
            "window_minutes": self.limit.window_minutes,
        }


def parse_setting(
    scope: str, subject_id: str | None, metric: str, max_count: int, window_minutes: int
) -> ThresholdSetting:
    """A threshold setting from outside input; InvalidInput names the field and the problem."""
    try:
        parsed_scope = Scope(scope.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"scope: {scope!r} is not one of: {', '.join(s.value for s in Scope)}", field="scope"
        ) from None
    try:
        parsed_metric = Metric(metric.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"metric: {metric!r} is not one of: {', '.join(m.value for m in Metric)}",
            field="metric",
        ) from None
    subject = (subject_id or "").strip()
    if parsed_scope is Scope.FACILITY and subject:
        raise InvalidInput(
            "subject_id: a facility-wide threshold names no subject", field="subject_id"
        )
    if parsed_scope is not Scope.FACILITY and not 1 <= len(subject) <= 64:
        raise InvalidInput(
            f"subject_id: name the {parsed_scope.value} the threshold is for", field="subject_id"
        )
    if isinstance(max_count, bool) or not 0 <= max_count <= MAX_COUNT:
        raise InvalidInput(
            f"max_count: must be a whole number from 0 to {MAX_COUNT}", field="max_count"
        )
    if isinstance(window_minutes, bool) or not 1 <= window_minutes <= MAX_WINDOW_MINUTES:
        raise InvalidInput(
            f"window_minutes: must be from 1 to {MAX_WINDOW_MINUTES} (a week), "
            f"not {window_minutes}",
            field="window_minutes",
        )
    return ThresholdSetting(parsed_scope, subject, parsed_metric, Limit(max_count, window_minutes))


def effective_limit(
    settings: Iterable[ThresholdSetting], metric: Metric, scope: Scope, subject_id: str
) -> tuple[Limit, str]:
    """The limit for one subject and where it comes from: 'subject', 'facility' or 'default'."""
    facility_value = None
    for setting in settings:
        if setting.metric is not metric:
            continue
        if setting.scope is scope and setting.subject_id == subject_id:
            return setting.limit, "subject"
        if setting.scope is Scope.FACILITY:
            facility_value = setting.limit
    if facility_value is not None:
        return facility_value, "facility"
    return DEFAULTS[(metric, scope)], "default"


class HoursJson(TypedDict):
    """Working hours as stored in entries and shown: HH:MM on the clocks of ``zone`` (the
    facility's IANA time zone when they were set), and the days."""

    start: str
    end: str
    days: list[str]
    zone: str


@dataclass(frozen=True)
class WorkingHours:
    """When the facility works: from ``start`` to ``end`` on ``days``, on the clocks of
    ``zone`` (an IANA time zone): 08:00-18:00 Europe/London is 07:00-17:00 UTC in summer.

    An ``end`` before ``start`` is a night shift that ends the next morning; it belongs to the
    day it started on. Hours recorded before hours named their zone were UTC, and still are.
    """

    start: time
    end: time
    days: frozenset[str]
    zone: str = LEGACY_TIME_ZONE

    def contains(self, at: datetime) -> bool:
        """True when ``at`` (timezone-aware) falls within working hours."""
        if at.tzinfo is None:
            raise InvalidInput("working hours are checked against timezone-aware times", field="at")
        moment = at.astimezone(time_zone(self.zone, "zone"))
        clock = moment.time().replace(tzinfo=None)
        day = DAYS[moment.weekday()]
        if self.start < self.end:
            return day in self.days and self.start <= clock < self.end
        previous = DAYS[(moment.weekday() - 1) % 7]
        return (day in self.days and clock >= self.start) or (
            previous in self.days and clock < self.end
        )

    def describe(self) -> str:
        """As people read them: "08:00-18:00 Europe/London on mon,tue,wed,thu,fri"."""
        shown = self.to_json()
        return f"{shown['start']}-{shown['end']} {self.zone} on {','.join(shown['days'])}"

    def to_json(self) -> HoursJson:
        """As stored in entries and in the facility settings."""
        return {
            "start": self.start.strftime("%H:%M"),
            "end": self.end.strftime("%H:%M"),
            "days": [d for d in DAYS if d in self.days],
            "zone": self.zone,
        }

    @classmethod
    def parse(cls, start: str, end: str, days: Iterable[str], zone: str) -> WorkingHours:
        """Working hours from outside input, on the clocks of ``zone``; InvalidInput names the
        field and the problem."""
        time_zone(zone, "zone")
        parsed = []
        for name, text in (("start", start), ("end", end)):
            match = _HHMM.match(text.strip())
            if match is None:
                raise InvalidInput(
                    f"{name}: give a time as HH:MM (24-hour, {zone} time), not {text!r}", field=name
                )
            parsed.append(time(int(match.group(1)), int(match.group(2))))
        if parsed[0] == parsed[1]:
            raise InvalidInput(
                "end: must differ from start (leave working hours unset for 24h)", field="end"
            )
        chosen = set()
        for day in days:
            name = day.strip().lower()[:3]
            if name not in DAYS:
                raise InvalidInput(
                    f"days: {day!r} is not a weekday ({', '.join(DAYS)})", field="days"
                )
            chosen.add(name)
        if not chosen:
            raise InvalidInput("days: name at least one working day", field="days")
        return cls(parsed[0], parsed[1], frozenset(chosen), zone)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WorkingHours:
        """Working hours as stored by ``to_json`` (UTC when they name no zone)."""
        return cls.parse(
            data["start"], data["end"], data["days"], data.get("zone", LEGACY_TIME_ZONE)
        )


def is_working_time(hours: WorkingHours | None, at: datetime) -> bool:
    """Whether ``at`` is working time; no working hours set means always."""
    return hours is None or hours.contains(at)
