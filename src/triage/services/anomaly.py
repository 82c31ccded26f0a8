"""Anomaly thresholds: counting misuse, suspending on a breach, and alerts (reinstating what
was suspended is in ``reinstatement``).

``check`` runs inside the unit of work that records a counted event, right after its entry, so
the breach, the suspension and the alert commit with the event that caused them or not at all.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
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
from triage.domain.tool import Tool, ToolStatus
from triage.errors import Conflict, InvalidInput, NotFound
from triage.ledger.entry import Ref
from triage.services import incidents
from triage.services.common import device_ref, make_entry, record_and_reload
from triage.services.ports import UnitOfWork, UnitOfWorkFactory
from triage.services.tools import record_tool_suspension
from triage.services.withdrawal import withdrawals

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
    *,
    tool: Tool | None = None,
) -> list[Breach]:
    """Count each metric in its window; suspend and alert on a breach, once per subject.

    A subject already suspended (or retired, or unknown) is left alone, and events before its
    latest reinstatement are not held against it again. ``tool``: the tool ``tool_id`` as this
    transaction read it (a step that records a counted event has just checked its tool).
    """
    settings = uow.security.thresholds()
    totals = _totals(uow, _suspendable(uow, tool_id, operator_id, tool))
    return _suspend_breaches(uow, settings, list(metrics), totals, at)


def _suspend_breaches(
    uow: UnitOfWork,
    settings: Sequence[ThresholdSetting],
    metrics: Sequence[Metric],
    totals: Mapping[tuple[Scope, str], Mapping[Metric, int]],
    at: datetime,
) -> list[Breach]:
    """Suspend and alert each subject of ``totals`` (its counted events, ever) on the first
    of ``metrics`` it breaches."""
    breaches = []
    for (scope, subject_id), counted in totals.items():
        breach = _first_breach(uow, settings, metrics, scope, subject_id, at, counted)
        if breach is not None:
            _suspend(uow, breach)
            breaches.append(breach)
    return breaches


def observed_in_order(
    uow: UnitOfWork, job: TriageJob, at: datetime, hours: WorkingHours | None
) -> list[tuple[Metric, str]]:
    """What a work order for ``job`` issued at ``at`` counts as besides a reset, with what
    the ledger says of it: use outside the working ``hours``, a reset of an unexpected
    device."""
    observed = []
    if not is_working_time(hours, at):
        observed.append((Metric.OUT_OF_HOURS, "work order issued outside working hours"))
    if job.consignment_id is None or not uow.security.arrived_as_expected(job.id):
        observed.append(
            (
                Metric.UNEXPECTED_CONSIGNMENT,
                "reset of a device that did not come in an open consignment that expected it",
            )
        )
    return observed


def reset_issued(
    uow: UnitOfWork,
    job: TriageJob,
    tool_id: str,
    operator_id: str,
    at: datetime,
    checked: OrderCheck | None = None,
) -> list[Breach]:
    """After a work order's entry: note use out of hours or for an unexpected device, check.

    ``check_order`` refused beforehand any order that would breach a threshold in what the
    order counts as; the check here counts every metric of a reset (a limit lowered below what
    the tool or operator had done already trips here). ``checked`` is what ``check_order``
    read in this transaction, when it was asked: not read again, as writers are serialised,
    so that since then only this order's entries have counted (one reset, and one of each
    metric observed, for its tool and its operator alike).
    """
    if checked is None:
        observed = observed_in_order(uow, job, at, uow.security.working_hours())
    else:
        observed = checked.observed
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
    if checked is None:
        return check(uow, tool_id, operator_id, at, RESET_METRICS)
    added = Counter([Metric.RESETS, *(metric for metric, _ in observed)])
    totals = {
        subject: {m: counted.get(m, 0) + added[m] for m in {*counted, *added}}
        for subject, counted in checked.totals.items()
    }
    return _suspend_breaches(uow, checked.settings, RESET_METRICS, totals, at)


@dataclass(frozen=True)
class OrderCheck:
    """What ``check_order`` read before a work order's entry, for ``reset_issued`` after it:
    what the order counts as besides a reset (``observed_in_order``), the thresholds, and the
    counted events, ever, of its tool and its operator, those that may be suspended."""

    observed: list[tuple[Metric, str]]
    settings: list[ThresholdSetting]
    totals: dict[tuple[Scope, str], Mapping[Metric, int]]


class ThresholdReached(Conflict):
    """A work order refused before it was issued: it would be one more than a threshold
    allows its tool or its operator."""

    def __init__(self, message: str, job: TriageJob, tool_id: str, operator_id: str) -> None:
        super().__init__(message)
        self.job = job
        self.tool_id = tool_id
        self.operator_id = operator_id

    def record(self) -> Callable[[UnitOfWork], object]:
        """The refusal's hook for ``common.record_refusal``: see ``order_refused``."""
        return order_refused(self.job, self.tool_id, self.operator_id)


def check_order(
    uow: UnitOfWork,
    job: TriageJob,
    tool: Tool,
    operator_id: str,
    at: datetime,
    hours: WorkingHours | None,
) -> OrderCheck:
    """Before a work order's entry: refuse the order (ThresholdReached, naming the limit) when
    it would breach a threshold of its tool (as this transaction read it) or its operator
    (``hours``: the facility's working hours, just read). Nothing is recorded here: the
    refusal, the alert and the suspension are ``order_refused``'s, in a transaction of their
    own once this one has rolled back. Returns what it read, for ``reset_issued`` to record
    and check."""
    checked = _order_check(uow, job, tool.id, operator_id, at, hours, tool)
    breaches = _order_breaches(uow, checked, at)
    if breaches:
        limits = "; ".join(limit_text(b) for b in breaches)
        who = " and ".join(f"{b.scope.value} {b.subject_id}" for b in breaches)
        them = "it" if [b.scope for b in breaches] == [Scope.TOOL] else "them"
        raise ThresholdReached(
            f"{limits}. No work order was issued. Trying to go beyond the limit suspended "
            f"{who} until a security manager reinstates {them} (an alert was raised)",
            job,
            tool.id,
            operator_id,
        )
    return checked


def order_refused(job: TriageJob, tool_id: str, operator_id: str) -> Callable[[UnitOfWork], object]:
    """The hook for ``common.record_refusal`` after ``check_order`` refused an order: trying
    to go beyond a threshold is an anomaly as much as going beyond it, so the tool or operator
    is suspended (its outstanding orders withdrawn) and an alert raised, as for a breach."""

    def suspend(uow: UnitOfWork) -> list[Breach]:
        at, hours = uow.clock.now(), uow.security.working_hours()
        checked = _order_check(uow, job, tool_id, operator_id, at, hours)
        breaches = _order_breaches(uow, checked, at)
        for breach in breaches:
            _suspend(uow, breach, refused=True)
        return breaches

    return suspend


def _order_check(
    uow: UnitOfWork,
    job: TriageJob,
    tool_id: str,
    operator_id: str,
    at: datetime,
    hours: WorkingHours | None,
    tool: Tool | None = None,
) -> OrderCheck:
    """What one more work order for ``job`` is checked against (see ``OrderCheck``)."""
    observed = observed_in_order(uow, job, at, hours)
    settings = uow.security.thresholds()
    totals = _totals(uow, _suspendable(uow, tool_id, operator_id, tool))
    return OrderCheck(observed, settings, totals)


def _order_breaches(uow: UnitOfWork, checked: OrderCheck, at: datetime) -> list[Breach]:
    """The thresholds one more work order would breach, per subject."""
    metrics = [Metric.RESETS, *(metric for metric, _ in checked.observed)]
    found = []
    for (scope, subject_id), counted in checked.totals.items():
        breach = _first_breach(
            uow, checked.settings, metrics, scope, subject_id, at, counted, adding=1
        )
        if breach is not None:
            found.append(breach)
    return found


# What each metric a work order counts in is called: one, several, and none allowed.
_ORDER_NOUNS = {
    Metric.RESETS: ("reset", "resets", "may do no resets"),
    Metric.OUT_OF_HOURS: (
        "work order outside working hours",
        "work orders outside working hours",
        "may be given no work order outside working hours",
    ),
    Metric.UNEXPECTED_CONSIGNMENT: (
        "reset of a device no open consignment expected",
        "resets of devices no open consignment expected",
        "may not reset a device that no open consignment expected",
    ),
}


def limit_text(breach: Breach) -> str:
    """The limit a work order would go beyond, as a person reads it: 'tool BENCH-1 may do 2
    resets an hour; this would be the 3rd'."""
    who = f"{breach.scope.value} {breach.subject_id}"
    allowed = breach.limit.max_count
    one, several, none = _ORDER_NOUNS.get(
        breach.metric,
        (breach.metric.value.replace("_", " "), breach.metric.value.replace("_", " "), ""),
    )
    if allowed == 0 and none:
        return f"{who} {none}"
    per = per_window(breach.limit.window_minutes)
    return (
        f"{who} may do {allowed} {one if allowed == 1 else several} {per}; "
        f"this would be the {ordinal(breach.count)}"
    )


def per_window(minutes: int) -> str:
    """A threshold's window as a rate: 'an hour', 'a day', 'in 90 minutes'."""
    named = {1: "a minute", 60: "an hour", 24 * 60: "a day", 7 * 24 * 60: "a week"}
    if minutes in named:
        return named[minutes]
    if minutes % 60 == 0:
        return f"in {minutes // 60} hours"
    return f"in {minutes} minutes"


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, ... 21st."""
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def refusal_recorded(uow: UnitOfWork, tool_id: str) -> list[Breach]:
    """After a refusal's entry: count refused commands against the tool."""
    return check(uow, tool_id, None, uow.clock.now(), (Metric.REFUSED_COMMANDS,))


def after_refusal(tool_id: str) -> Callable[[UnitOfWork], object]:
    """The refusal check as a hook for ``common.record_refusal``."""
    return lambda uow: refusal_recorded(uow, tool_id)


def _suspendable(
    uow: UnitOfWork, tool_id: str | None, operator_id: str | None, tool: Tool | None
) -> list[tuple[Scope, str]]:
    """The tool and the operator, of those named, that may be suspended: an active tool
    (``tool``, when the caller has just read it), an operator who may act."""
    found = []
    if tool_id:
        if tool is None or tool.id != tool_id:
            tool = uow.tools.get(tool_id)
        if tool is not None and tool.status is ToolStatus.ACTIVE:
            found.append((Scope.TOOL, tool_id))
    if operator_id:
        operator = uow.operators.get(operator_id)
        if operator is not None and operator.may_act:
            found.append((Scope.OPERATOR, operator_id))
    return found


def _totals(
    uow: UnitOfWork, subjects: Sequence[tuple[Scope, str]]
) -> dict[tuple[Scope, str], Mapping[Metric, int]]:
    """Each subject's counted events, ever, by metric (one read for them all, none for none)."""
    if not subjects:
        return {}
    ids = dict(subjects)
    found = uow.security.activity_totals(ids.get(Scope.TOOL), ids.get(Scope.OPERATOR))
    return {(scope, subject_id): found.get(scope, {}) for scope, subject_id in subjects}


def _first_breach(
    uow: UnitOfWork,
    settings: Sequence[ThresholdSetting],
    metrics: Sequence[Metric],
    scope: Scope,
    subject_id: str,
    at: datetime,
    totals: Mapping[Metric, int],
    adding: int = 0,
) -> Breach | None:
    """The first of ``metrics`` the subject's counted events (``totals`` of them ever, and
    ``adding`` more) breach."""
    reinstated: datetime | None = None
    looked_up = False
    for metric in metrics:
        limit, _ = effective_limit(settings, metric, scope, subject_id)
        if not limit.breached_by(totals.get(metric, 0) + adding):
            # No window holds more than all there ever was: counting it would find no breach.
            continue
        since = at - timedelta(minutes=limit.window_minutes)
        count = uow.security.count_activity(metric, scope, subject_id, since) + adding
        if not limit.breached_by(count):
            continue
        # Rare: only now is it worth finding when the subject was last reinstated.
        if not looked_up:
            reinstated = uow.security.last_entry_at(
                scope.value, subject_id, [f"{scope.value}.reinstated"]
            )
            looked_up = True
        if reinstated is not None and reinstated > since:
            count = uow.security.count_activity(metric, scope, subject_id, reinstated) + adding
            if not limit.breached_by(count):
                continue
        return Breach(metric, scope, subject_id, count, limit, str(uuid.uuid4()))
    return None


def _suspend(uow: UnitOfWork, breach: Breach, refused: bool = False) -> None:
    """Raise the breach's alert and suspend its subject; ``refused``: the breach was a work
    order's, refused before it was issued."""
    if refused:
        what = f"work order refused: {limit_text(breach)}"
        reason = f"anomaly: {what} (alert {breach.alert_id})"
    else:
        reason = (
            f"anomaly: {breach.count} {breach.metric.value.replace('_', ' ')} within "
            f"{breach.limit.window_minutes} minutes, more than the {breach.limit.max_count} "
            f"allowed (alert {breach.alert_id})"
        )
    subject = Ref(breach.scope.value, breach.subject_id)
    data = {
        "alert_id": breach.alert_id,
        "metric": breach.metric.value,
        "count": breach.count,
        **breach.limit.to_json(),
        "action": "suspended",
    }
    if refused:
        data["detail"] = what
    raised = make_entry(uow, ANOMALY, "alert.raised", subject, data)
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
    why = f"operator {breach.subject_id} was suspended: {reason}"
    withdrawn = withdrawals(uow, ANOMALY, why, operator_id=breach.subject_id)
    uow.ledger.record([raised, suspended, *withdrawn])
    incidents.raise_automatic(
        uow,
        "operator_suspended",
        subject,
        f"Operator {breach.subject_id} suspended: {reason}",
        {"reason": reason, "alert_id": breach.alert_id},
    )


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
    """Set the facility's working hours, in its local time (Settings.time_zone, recorded with
    them); no start and no end clears them (always on)."""
    caller.require(Permission.THRESHOLD_MANAGE)
    hours: WorkingHours | None = None
    if start or end:
        if not start or not end:
            raise InvalidInput("start, end: give both, or neither to clear the working hours")
        hours = WorkingHours.parse(
            start,
            end,
            days if days is not None else DAYS_DEFAULT,
            uow_factory.settings.time_zone,
        )
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


@dataclass(frozen=True)
class SubjectLimit:
    """The limit in force for one tool or operator on one metric, and where it comes from:
    'subject' (set for it), 'facility' or 'default'."""

    metric: Metric
    limit: Limit
    source: str

    @property
    def rate(self) -> str:
        """As a person reads it: '2 an hour', or 'none'."""
        if self.limit.max_count == 0:
            return "none"
        return f"{self.limit.max_count} {per_window(self.limit.window_minutes)}"


def subject_limits(
    uow: UnitOfWork, scope: Scope, subject_ids: Iterable[str]
) -> dict[str, list[SubjectLimit]]:
    """Subject id -> the limit in force for it on each metric, within an open unit of work."""
    settings = uow.security.thresholds()
    metrics = [metric for metric in Metric if (metric, scope) in DEFAULTS]
    return {
        subject_id: [
            SubjectLimit(metric, *effective_limit(settings, metric, scope, subject_id))
            for metric in metrics
        ]
        for subject_id in subject_ids
    }


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
