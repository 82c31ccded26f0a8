"""Anomaly thresholds: counting misuse, suspending on a breach, and alerts (reinstating what
was suspended is in ``reinstatement``).

``check`` runs inside the unit of work that records a counted event, right after its entry, so
the breach, the suspension and the alert commit with the event that caused them or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

from triage.domain.alert import Alert
from triage.domain.caller import Caller
from triage.domain.job import TriageJob
from triage.domain.reason import Reason
from triage.domain.roles import Permission
from triage.domain.thresholds import (
    DEFAULTS,
    SUBJECT_SCOPES,
    HoursJson,
    Limit,
    Metric,
    Scope,
    SettingJson,
    ThresholdSetting,
    WorkingHours,
    effective_limit,
    is_working_time,
    parse_setting,
)
from triage.domain.tool import ToolStatus
from triage.errors import Conflict, InvalidInput, NotFound
from triage.ledger.entry import Ref
from triage.services.common import device_ref, make_entry, record_and_reload
from triage.services.ports import UnitOfWork, UnitOfWorkFactory
from triage.services.tools import record_tool_suspension

ANOMALY = Caller.system("anomaly")
RESET_METRICS = (Metric.RESETS, Metric.OUT_OF_HOURS, Metric.UNEXPECTED_CONSIGNMENT)
ALERT_STATUSES = ("open", "resolved")
DAYS_DEFAULT = ("mon", "tue", "wed", "thu", "fri")


@dataclass(frozen=True)
class Breach:
    """A threshold exceeded by one tool or operator, and the alert raised for it."""

    metric: Metric
    scope: Scope
    subject_id: str
    count: int
    limit: Limit
    alert_id: str


# -- detection ------------------------------------------------------------------------------


def check(
    uow: UnitOfWork,
    tool_id: str | None,
    operator_id: str | None,
    at: datetime,
    metrics: Iterable[Metric] = tuple(Metric),
) -> list[Breach]:
    """Count each metric in its window; suspend and alert on a breach, once per subject.

    A subject already suspended (or retired, or unknown) is left alone, and events before its
    latest reinstatement are not held against it again.
    """
    chosen = list(metrics)
    settings = uow.security.thresholds()
    breaches = []
    for scope, subject_id in zip(SUBJECT_SCOPES, (tool_id, operator_id), strict=True):
        if not subject_id or not _may_be_suspended(uow, scope, subject_id):
            continue
        breach = _first_breach(uow, settings, chosen, scope, subject_id, at)
        if breach is not None:
            _suspend(uow, breach)
            breaches.append(breach)
    return breaches


def reset_issued(
    uow: UnitOfWork, job: TriageJob, tool_id: str, operator_id: str, at: datetime
) -> list[Breach]:
    """After a work order's entry: note use out of hours or for an unexpected device, check."""
    observed = []
    if not is_working_time(uow.security.working_hours(), at):
        observed.append((Metric.OUT_OF_HOURS, "work order issued outside working hours"))
    if job.consignment_id is None or not uow.security.arrived_as_expected(job.id):
        observed.append(
            (
                Metric.UNEXPECTED_CONSIGNMENT,
                "reset of a device that did not come in an open consignment that expected it",
            )
        )
    if observed:
        uow.ledger.record(
            [
                make_entry(
                    uow,
                    ANOMALY,
                    "anomaly.observed",
                    device_ref(job.device_id),
                    {
                        "metric": metric.value,
                        "tool_id": tool_id,
                        "operator_id": operator_id,
                        "job_id": job.id,
                        "detail": detail,
                    },
                    at,
                )
                for metric, detail in observed
            ]
        )
    return check(uow, tool_id, operator_id, at, RESET_METRICS)


def refusal_recorded(uow: UnitOfWork, tool_id: str) -> list[Breach]:
    """After a refusal's entry: count refused commands against the tool."""
    return check(uow, tool_id, None, uow.clock.now(), (Metric.REFUSED_COMMANDS,))


def after_refusal(tool_id: str) -> Callable[[UnitOfWork], object]:
    """The refusal check as a hook for ``common.record_refusal``."""
    return lambda uow: refusal_recorded(uow, tool_id)


def _may_be_suspended(uow: UnitOfWork, scope: Scope, subject_id: str) -> bool:
    if scope is Scope.TOOL:
        found_tool = uow.tools.get(subject_id)
        return found_tool is not None and found_tool.status is ToolStatus.ACTIVE
    found = uow.operators.get(subject_id)
    return found is not None and found.may_act


def _first_breach(
    uow: UnitOfWork,
    settings: Sequence[ThresholdSetting],
    metrics: Sequence[Metric],
    scope: Scope,
    subject_id: str,
    at: datetime,
) -> Breach | None:
    reinstated: datetime | None = None
    looked_up = False
    for metric in metrics:
        limit, _ = effective_limit(settings, metric, scope, subject_id)
        since = at - timedelta(minutes=limit.window_minutes)
        count = uow.security.count_activity(metric, scope, subject_id, since)
        if not limit.breached_by(count):
            continue
        # Rare: only now is it worth finding when the subject was last reinstated.
        if not looked_up:
            reinstated = uow.security.last_entry_at(
                scope.value, subject_id, [f"{scope.value}.reinstated"]
            )
            looked_up = True
        if reinstated is not None and reinstated > since:
            count = uow.security.count_activity(metric, scope, subject_id, reinstated)
            if not limit.breached_by(count):
                continue
        return Breach(metric, scope, subject_id, count, limit, str(uuid.uuid4()))
    return None


def _suspend(uow: UnitOfWork, breach: Breach) -> None:
    reason = (
        f"anomaly: {breach.count} {breach.metric.value.replace('_', ' ')} within "
        f"{breach.limit.window_minutes} minutes, more than the {breach.limit.max_count} allowed "
        f"(alert {breach.alert_id})"
    )
    subject = Ref(breach.scope.value, breach.subject_id)
    raised = make_entry(
        uow,
        ANOMALY,
        "alert.raised",
        subject,
        {
            "alert_id": breach.alert_id,
            "metric": breach.metric.value,
            "count": breach.count,
            **breach.limit.to_json(),
            "action": "suspended",
        },
    )
    if breach.scope is Scope.TOOL:
        uow.ledger.record([raised])
        record_tool_suspension(uow, ANOMALY, breach.subject_id, reason)
        return
    suspended = make_entry(
        uow,
        ANOMALY,
        "operator.suspended",
        subject,
        {"reason": reason, "alert_id": breach.alert_id},
    )
    uow.ledger.record([raised, suspended])


# -- thresholds and working hours -----------------------------------------------------------


class FacilityLimitJson(TypedDict):
    """A facility-wide limit as the API and ``--json`` show it."""

    metric: str
    applies_to: str
    max_count: int
    window_minutes: int
    source: str


class ThresholdsJson(TypedDict):
    """The thresholds in force as the API and ``--json`` show it (and the access review's
    evidence holds it)."""

    facility: list[FacilityLimitJson]
    overrides: list[SettingJson]
    working_hours: HoursJson | None


@dataclass(frozen=True)
class FacilityLimit:
    """The limit in force facility-wide for one metric and kind of subject, and where it comes
    from ('default' or 'facility')."""

    metric: Metric
    applies_to: Scope
    limit: Limit
    source: str

    def to_json(self) -> FacilityLimitJson:
        return {
            "metric": self.metric.value,
            "applies_to": self.applies_to.value,
            "max_count": self.limit.max_count,
            "window_minutes": self.limit.window_minutes,
            "source": self.source,
        }


@dataclass(frozen=True)
class ThresholdView:
    """The thresholds in force: facility values per metric and subject, overrides, hours."""

    facility: list[FacilityLimit]
    overrides: list[ThresholdSetting]
    working_hours: WorkingHours | None

    def to_json(self) -> ThresholdsJson:
        """As the API and ``--json`` show it."""
        return {
            "facility": [f.to_json() for f in self.facility],
            "overrides": [s.to_json() for s in self.overrides],
            "working_hours": None if self.working_hours is None else self.working_hours.to_json(),
        }


def set_threshold(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    scope: str,
    subject_id: str | None,
    metric: str,
    max_count: int,
    window_minutes: int,
) -> ThresholdSetting:
    """Set a threshold facility-wide, or for one tool or operator (a security manager)."""
    caller.require(Permission.THRESHOLD_MANAGE)
    setting = parse_setting(scope, subject_id, metric, max_count, window_minutes)
    with uow_factory(write=True) as uow:
        if setting.scope is Scope.FACILITY:
            subject = Ref("facility", uow.facility_id)
        else:
            _require_subject(uow, setting.scope, setting.subject_id)
            subject = Ref(setting.scope.value, setting.subject_id)
        if setting in uow.security.thresholds():
            return setting  # already in force (a PUT repeated): nothing changes, nothing recorded
        data = dict(setting.to_json())
        uow.ledger.record([make_entry(uow, caller, "threshold.set", subject, data)])
        uow.commit()
    return setting


def set_working_hours(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    start: str | None,
    end: str | None,
    days: Sequence[str] | None,
) -> WorkingHours | None:
    """Set the facility's working hours (UTC); no start and no end clears them (always on)."""
    caller.require(Permission.THRESHOLD_MANAGE)
    hours: WorkingHours | None = None
    if start or end:
        if not start or not end:
            raise InvalidInput("start, end: give both, or neither to clear the working hours")
        hours = WorkingHours.parse(start, end, days if days is not None else DAYS_DEFAULT)
    with uow_factory(write=True) as uow:
        uow.ledger.record(
            [
                make_entry(
                    uow,
                    caller,
                    "facility.working_hours_set",
                    Ref("facility", uow.facility_id),
                    {"working_hours": None if hours is None else hours.to_json()},
                )
            ]
        )
        uow.commit()
    return hours


def thresholds(uow_factory: UnitOfWorkFactory, caller: Caller) -> ThresholdView:
    """The thresholds in force, for who sets them, watches alerts or reviews access."""
    caller.require(Permission.THRESHOLD_MANAGE, Permission.ALERT_READ, Permission.ACCESS_REVIEW)
    with uow_factory(write=False) as uow:
        return threshold_view(uow)


def threshold_view(uow: UnitOfWork) -> ThresholdView:
    """The thresholds in force, within an open unit of work."""
    settings = uow.security.thresholds()
    facility = []
    for metric, scope in DEFAULTS:
        limit, source = effective_limit(settings, metric, scope, "")
        facility.append(FacilityLimit(metric, scope, limit, source))
    overrides = [s for s in settings if s.scope is not Scope.FACILITY]
    return ThresholdView(facility, overrides, uow.security.working_hours())


def _require_subject(uow: UnitOfWork, scope: Scope, subject_id: str) -> None:
    if scope is Scope.TOOL and uow.tools.get(subject_id) is None:
        raise NotFound(f"no enrolled tool {subject_id!r}")
    if scope is Scope.OPERATOR and uow.operators.get(subject_id) is None:
        raise NotFound(f"no operator {subject_id!r}")


# -- alerts -------------------------------------------------------------------------------


def alerts(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    status: str | None = "open",
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Alert], int]:
    """Alerts, oldest first, with the total: open ones by default (a security manager)."""
    caller.require(Permission.ALERT_READ)
    if status is not None and status not in ALERT_STATUSES:
        raise InvalidInput(
            f"status: must be one of {', '.join(ALERT_STATUSES)}, or omitted for all"
        )
    if offset < 0 or not 1 <= limit <= 500:
        raise InvalidInput("offset, limit: offset from 0, limit from 1 to 500")
    with uow_factory(write=False) as uow:
        return uow.security.alerts(status, offset, limit)


def resolve_alert(
    uow_factory: UnitOfWorkFactory, caller: Caller, alert_id: str, resolution: str
) -> Alert:
    """Record how an alert was dealt with; reinstating what it suspended is a separate act."""
    caller.require(Permission.ALERT_READ, Permission.SUSPENSION_REINSTATE)
    text = Reason.parse(resolution, "resolution", "what was found and done").text
    with uow_factory(write=True) as uow:
        found = uow.security.alert(alert_id)
        if found is None:
            raise NotFound(f"no alert {alert_id!r}")
        if found.status != "open":
            raise Conflict(f"alert {alert_id} is already resolved")
        entry = make_entry(
            uow,
            caller,
            "alert.resolved",
            Ref(found.subject_kind, found.subject_id),
            {"alert_id": alert_id, "resolution": text},
        )
        return record_and_reload(uow, [entry], lambda: uow.security.alert(alert_id))
