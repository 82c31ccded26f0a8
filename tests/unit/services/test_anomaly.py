"""Anomaly thresholds, working hours, breaches and alerts, against the fake unit of work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import security_seed as seed
from tests.unit.services import workflow_seed
from tests.unit.services.callers import (
    administrator,
    auditor,
    bench_operator,
    security_manager,
    supervisor,
)
from triage.domain.job import TriageJob
from triage.domain.lifecycle import JobState
from triage.domain.roles import Role
from triage.domain.thresholds import Limit, Metric, Scope, ThresholdSetting
from triage.domain.tool import ToolStatus
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.services import anomaly, operators, reinstatement

SATURDAY_NOON = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _tool_status(factory: FakeUnitOfWorkFactory, tool_id: str = "T1") -> ToolStatus:
    with factory(write=False) as uow:
        found = uow.tools.get(tool_id)
    assert found is not None
    return found.status


def _facility_limit(
    view: anomaly.ThresholdView, metric: Metric, scope: Scope
) -> anomaly.FacilityLimit:
    return next(f for f in view.facility if (f.metric, f.applies_to) == (metric, scope))


# -- thresholds --------------------------------------------------------------------------------


def test_a_facility_threshold_is_recorded_and_in_force(factory: FakeUnitOfWorkFactory) -> None:
    setting = anomaly.set_threshold(factory, security_manager(), "Facility", None, "RESETS", 10, 30)

    assert setting == ThresholdSetting(Scope.FACILITY, "", Metric.RESETS, Limit(10, 30))
    [entry] = factory.entries()
    assert (entry.type, entry.subject.kind, entry.subject.id) == (
        "threshold.set",
        "facility",
        "unit",
    )
    assert entry.data == {
        "scope": "facility",
        "subject_id": "",
        "metric": "resets",
        "max_count": 10,
        "window_minutes": 30,
    }
    view = anomaly.thresholds(factory, auditor())
    for scope in (Scope.TOOL, Scope.OPERATOR):
        found = _facility_limit(view, Metric.RESETS, scope)
        assert (found.limit, found.source) == (Limit(10, 30), "facility")
    assert _facility_limit(view, Metric.OUT_OF_HOURS, Scope.TOOL).source == "default"
    assert view.overrides == []


def test_a_threshold_for_one_tool_overrides_and_repeating_it_records_nothing(
    factory: FakeUnitOfWorkFactory,
) -> None:
    seed.tool(factory)
    before = len(factory.entries())

    for _ in range(2):
        anomaly.set_threshold(factory, security_manager(), "tool", "T1", "refused_commands", 2, 60)

    assert factory.entry_types()[before:] == ["threshold.set"]
    assert factory.entries()[-1].subject.kind == "tool"
    view = anomaly.thresholds(factory, security_manager())
    assert view.overrides == [
        ThresholdSetting(Scope.TOOL, "T1", Metric.REFUSED_COMMANDS, Limit(2, 60))
    ]
    assert view.to_json()["overrides"] == [
        {
            "scope": "tool",
            "subject_id": "T1",
            "metric": "refused_commands",
            "max_count": 2,
            "window_minutes": 60,
        }
    ]


def test_a_threshold_for_an_unknown_subject_is_refused(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(NotFound, match="no enrolled tool 'T9'"):
        anomaly.set_threshold(factory, security_manager(), "tool", "T9", "resets", 1, 60)
    with pytest.raises(NotFound, match="no operator 'ghost'"):
        anomaly.set_threshold(factory, security_manager(), "operator", "ghost", "resets", 1, 60)
    assert factory.entries() == []


@pytest.mark.parametrize(
    ("scope", "subject", "metric", "max_count", "window", "field"),
    [
        ("bench", None, "resets", 1, 60, "scope"),
        ("facility", None, "coffee", 1, 60, "metric"),
        ("facility", "T1", "resets", 1, 60, "subject_id"),
        ("facility", None, "resets", -1, 60, "max_count"),
        ("facility", None, "resets", 1, 0, "window_minutes"),
    ],
)
def test_a_bad_threshold_is_refused_naming_the_field(
    factory: FakeUnitOfWorkFactory,
    scope: str,
    subject: str | None,
    metric: str,
    max_count: int,
    window: int,
    field: str,
) -> None:
    with pytest.raises(InvalidInput) as refused:
        anomaly.set_threshold(
            factory, security_manager(), scope, subject, metric, max_count, window
        )
    assert refused.value.field == field
    assert factory.entries() == []


def test_only_a_security_manager_sets_thresholds(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(PermissionDenied):
        anomaly.set_threshold(factory, administrator(), "facility", None, "resets", 1, 60)
    with pytest.raises(PermissionDenied):
        anomaly.set_working_hours(factory, administrator(), "08:00", "17:00", None)
    with pytest.raises(PermissionDenied):
        anomaly.thresholds(factory, bench_operator())
    assert factory.entries() == []


# -- working hours -----------------------------------------------------------------------------


def test_working_hours_are_recorded_and_cleared(factory: FakeUnitOfWorkFactory) -> None:
    seed.facility(factory)

    hours = anomaly.set_working_hours(factory, security_manager(), "08:00", "17:00", None)

    assert hours is not None
    assert factory.entries()[-1].data == {
        "working_hours": {
            "start": "08:00",
            "end": "17:00",
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "zone": "Europe/London",
        }
    }
    assert anomaly.thresholds(factory, security_manager()).working_hours == hours

    assert anomaly.set_working_hours(factory, security_manager(), None, None, None) is None
    assert factory.entries()[-1].data == {"working_hours": None}
    assert anomaly.thresholds(factory, security_manager()).working_hours is None


@pytest.mark.parametrize(
    ("start", "end", "days", "message"),
    [
        ("08:00", None, None, "give both"),
        ("8am", "17:00", None, "start: give a time as HH:MM"),
        ("08:00", "08:00", None, "end: must differ"),
        ("08:00", "17:00", ["funday"], "days: 'funday' is not a weekday"),
        ("08:00", "17:00", [], "days: name at least one"),
    ],
)
def test_bad_working_hours_are_refused(
    factory: FakeUnitOfWorkFactory,
    start: str | None,
    end: str | None,
    days: list[str] | None,
    message: str,
) -> None:
    with pytest.raises(InvalidInput, match=message):
        anomaly.set_working_hours(factory, security_manager(), start, end, days)
    assert factory.entries() == []


# -- breaches ----------------------------------------------------------------------------------


def test_one_refusal_more_than_allowed_suspends_the_tool_and_raises_an_alert(
    factory: FakeUnitOfWorkFactory,
) -> None:
    seed.tool(factory)
    for _ in range(5):  # the default allows five refused commands an hour
        seed.refuse_result(factory)
    assert _tool_status(factory) is ToolStatus.ACTIVE
    assert "alert.raised" not in factory.entry_types()

    seed.refuse_result(factory)

    assert factory.entry_types()[-4:] == [
        "tool.result_refused",
        "alert.raised",
        "tool.suspended",
        "incident.raised",
    ]
    raised, suspended, incident = factory.entries()[-3:]
    assert (incident.data["source"], incident.data["about_id"]) == ("tool_suspended", "T1")
    assert (raised.subject.kind, raised.subject.id, raised.actor.id) == ("tool", "T1", "anomaly")
    assert raised.data["count"] == 6
    assert (raised.data["max_count"], raised.data["action"]) == (5, "suspended")
    assert raised.data["alert_id"] in suspended.data["reason"]
    assert _tool_status(factory) is ToolStatus.SUSPENDED
    [alert], total = anomaly.alerts(factory, security_manager())
    assert total == 1
    assert (alert.id, alert.metric, alert.subject_id, alert.status) == (
        raised.data["alert_id"],
        "refused_commands",
        "T1",
        "open",
    )
    assert alert.detail == {"count": 6, "max_count": 5, "window_minutes": 60, "action": "suspended"}


def test_a_suspended_tool_is_not_suspended_again(factory: FakeUnitOfWorkFactory) -> None:
    seed.tool(factory)
    anomaly.set_threshold(factory, security_manager(), "tool", "T1", "refused_commands", 0, 60)
    seed.refuse_result(factory)
    seed.refuse_result(factory)

    assert factory.entry_types().count("alert.raised") == 1
    assert factory.entry_types().count("tool.suspended") == 1


def test_refusals_before_a_reinstatement_are_not_held_against_the_tool_again(
    factory: FakeUnitOfWorkFactory,
) -> None:
    seed.tool(factory)
    for _ in range(6):
        seed.refuse_result(factory)
    assert _tool_status(factory) is ToolStatus.SUSPENDED
    factory.clock.advance(timedelta(minutes=5))
    reinstatement.reinstate_tool(factory, security_manager(), "T1", "the agent's key was renewed")
    factory.clock.advance(timedelta(minutes=1))

    seed.refuse_result(factory)  # seven in the hour, one since the reinstatement

    assert _tool_status(factory) is ToolStatus.ACTIVE
    assert factory.entry_types().count("alert.raised") == 1


def test_refusals_outside_the_window_do_not_count(factory: FakeUnitOfWorkFactory) -> None:
    seed.tool(factory)
    for _ in range(5):
        seed.refuse_result(factory)
    factory.clock.advance(timedelta(minutes=61))

    seed.refuse_result(factory)

    assert _tool_status(factory) is ToolStatus.ACTIVE


def _job(consignment_id: str | None = None) -> TriageJob:
    return TriageJob(
        id="job-1",
        device_id="00-11-22-33-44-55-66-77",
        consignment_id=consignment_id,
        state=JobState.RESET_AUTHORISED,
        inspector_id="op",
        outcome=None,
        reset_attempts=1,
        seal_serial=None,
        opened_at=SATURDAY_NOON,
        closed_at=None,
    )


def test_a_reset_out_of_hours_of_an_unexpected_device_suspends_tool_and_operator(
    factory: FakeUnitOfWorkFactory,
) -> None:
    seed.facility(factory)
    seed.tool(factory)
    seed.operator(factory, "op", Role.BENCH_OPERATOR)
    anomaly.set_working_hours(factory, security_manager(), "08:00", "17:00", None)
    before = len(factory.entries())

    with factory(write=True) as uow:
        breaches = anomaly.reset_issued(uow, _job(), "T1", "op", SATURDAY_NOON)
        uow.commit()

    assert [(b.metric, b.scope, b.subject_id, b.count) for b in breaches] == [
        (Metric.OUT_OF_HOURS, Scope.TOOL, "T1", 1),
        (Metric.OUT_OF_HOURS, Scope.OPERATOR, "op", 1),
    ]
    assert factory.entry_types()[before:] == [
        "anomaly.observed",
        "anomaly.observed",
        "alert.raised",
        "tool.suspended",
        "incident.raised",
        "alert.raised",
        "operator.suspended",
        "incident.raised",
    ]
    incidents = [e for e in factory.entries()[before:] if e.type == "incident.raised"]
    assert [(e.data["source"], e.data["about_kind"], e.data["about_id"]) for e in incidents] == [
        ("tool_suspended", "tool", "T1"),
        ("operator_suspended", "operator", "op"),
    ]
    assert "alert_id" in incidents[1].data["detail"]
    observed = factory.entries()[before : before + 2]
    assert [e.data["metric"] for e in observed] == ["out_of_hours", "unexpected_consignment"]
    assert observed[0].subject.id == "00-11-22-33-44-55-66-77"
    assert _tool_status(factory) is ToolStatus.SUSPENDED
    with pytest.raises(PermissionDenied):
        operators.operator_caller(factory, "op")
    assert anomaly.alerts(factory, security_manager())[1] == 2


@pytest.mark.parametrize(
    ("at", "out_of_hours"),
    [
        # Summer (BST, UTC+1): 08:00-18:00 in London is 07:00-17:00 UTC.
        (datetime(2026, 7, 1, 7, 30, tzinfo=UTC), False),
        (datetime(2026, 7, 1, 6, 59, tzinfo=UTC), True),
        (datetime(2026, 7, 1, 17, 30, tzinfo=UTC), True),
        # Winter (GMT): the same as UTC.
        (datetime(2026, 12, 7, 8, 0, tzinfo=UTC), False),
        (datetime(2026, 12, 7, 7, 30, tzinfo=UTC), True),
        (datetime(2026, 12, 7, 17, 30, tzinfo=UTC), False),
    ],
)
def test_working_hours_are_kept_on_the_facility_s_local_clock(
    factory: FakeUnitOfWorkFactory, at: datetime, out_of_hours: bool
) -> None:
    seed.facility(factory)
    seed.tool(factory)
    seed.operator(factory, "op", Role.BENCH_OPERATOR)
    hours = anomaly.set_working_hours(factory, security_manager(), "08:00", "18:00", None)
    assert hours is not None and hours.describe() == (
        "08:00-18:00 Europe/London on mon,tue,wed,thu,fri"
    )
    before = len(factory.entries())

    with factory(write=True) as uow:
        anomaly.reset_issued(uow, _job(), "T1", "op", at)
        uow.commit()

    observed = [
        e.data["metric"] for e in factory.entries()[before:] if e.type == "anomaly.observed"
    ]
    assert ("out_of_hours" in observed) is out_of_hours


def test_a_reset_in_working_hours_is_only_counted(factory: FakeUnitOfWorkFactory) -> None:
    seed.tool(factory)
    seed.operator(factory, "op", Role.BENCH_OPERATOR)
    anomaly.set_threshold(
        factory, security_manager(), "facility", None, "unexpected_consignment", 5, 60
    )
    before = len(factory.entries())

    with factory(write=True) as uow:
        breaches = anomaly.reset_issued(uow, _job(), "T1", "op", factory.clock.now())
        uow.commit()

    assert breaches == []
    assert factory.entry_types()[before:] == ["anomaly.observed"]
    assert factory.entries()[-1].data["metric"] == "unexpected_consignment"
    assert _tool_status(factory) is ToolStatus.ACTIVE


def test_a_reset_of_a_device_its_consignment_expected_is_not_observed(
    factory: FakeUnitOfWorkFactory,
) -> None:
    workflow_seed.may_triage(factory)
    job = workflow_seed.received(factory, 1)
    seed.tool(factory)
    seed.operator(factory, "op", Role.BENCH_OPERATOR)
    before = len(factory.entries())

    with factory(write=True) as uow:
        assert uow.security.arrived_as_expected(job.id)
        assert anomaly.reset_issued(uow, job, "T1", "op", factory.clock.now()) == []
        uow.commit()

    assert len(factory.entries()) == before


# -- alerts ------------------------------------------------------------------------------------


def _raise_alert(factory: FakeUnitOfWorkFactory) -> str:
    seed.tool(factory)
    anomaly.set_threshold(factory, security_manager(), "tool", "T1", "refused_commands", 0, 60)
    seed.refuse_result(factory)
    [alert], _ = anomaly.alerts(factory, security_manager())
    return alert.id


def test_resolving_an_alert_records_how(factory: FakeUnitOfWorkFactory) -> None:
    alert_id = _raise_alert(factory)
    factory.clock.advance(timedelta(hours=1))

    resolved = anomaly.resolve_alert(
        factory, security_manager(), alert_id, "  the tool's agent was misconfigured  "
    )

    assert (resolved.status, resolved.resolved_by, resolved.resolution) == (
        "resolved",
        "sec",
        "the tool's agent was misconfigured",
    )
    assert resolved.resolved_at == factory.clock.now()
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject.kind, entry.subject.id) == ("alert.resolved", "tool", "T1")
    assert entry.data == {"alert_id": alert_id, "resolution": "the tool's agent was misconfigured"}
    assert anomaly.alerts(factory, security_manager()) == ([], 0)
    assert anomaly.alerts(factory, security_manager(), status="resolved") == ([resolved], 1)
    assert _tool_status(factory) is ToolStatus.SUSPENDED  # reinstating is a separate act


def test_an_alert_is_resolved_once(factory: FakeUnitOfWorkFactory) -> None:
    alert_id = _raise_alert(factory)
    anomaly.resolve_alert(factory, security_manager(), alert_id, "dealt with at the bench")
    count = len(factory.entries())

    with pytest.raises(Conflict, match="already resolved"):
        anomaly.resolve_alert(factory, security_manager(), alert_id, "dealt with again")
    with pytest.raises(NotFound):
        anomaly.resolve_alert(
            factory, security_manager(), "no-such-alert", "dealt with at the bench"
        )
    assert len(factory.entries()) == count


def test_resolving_needs_a_reason_and_the_permission(factory: FakeUnitOfWorkFactory) -> None:
    alert_id = _raise_alert(factory)
    count = len(factory.entries())

    with pytest.raises(InvalidInput) as refused:
        anomaly.resolve_alert(factory, security_manager(), alert_id, "ok")
    assert refused.value.field == "resolution"
    with pytest.raises(PermissionDenied):
        anomaly.resolve_alert(factory, supervisor(), alert_id, "dealt with at the bench")
    assert len(factory.entries()) == count
    assert anomaly.alerts(factory, security_manager())[0][0].status == "open"


def test_alerts_are_listed_oldest_first_in_pages(factory: FakeUnitOfWorkFactory) -> None:
    for tool_id in ("T2", "T1"):
        seed.tool(factory, tool_id)
        anomaly.set_threshold(
            factory, security_manager(), "tool", tool_id, "refused_commands", 0, 60
        )
        seed.refuse_result(factory, tool_id)
        factory.clock.advance(timedelta(minutes=1))

    first, total = anomaly.alerts(factory, security_manager(), status=None, offset=0, limit=1)
    second, _ = anomaly.alerts(factory, security_manager(), status=None, offset=1, limit=1)

    assert total == 2
    assert [a.subject_id for a in first + second] == ["T2", "T1"]


@pytest.mark.parametrize(
    ("status", "offset", "limit", "message"),
    [
        ("closed", 0, 50, "status: must be one of"),
        ("open", -1, 50, "offset"),
        ("open", 0, 501, "limit"),
    ],
)
def test_a_bad_alert_query_is_refused(
    factory: FakeUnitOfWorkFactory, status: str, offset: int, limit: int, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        anomaly.alerts(factory, security_manager(), status, offset, limit)


def test_only_who_watches_alerts_lists_them(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(PermissionDenied):
        anomaly.alerts(factory, administrator())
