"""Thresholds stop the act that breaches them (issue 18): a work order that would breach a limit
is refused before it exists, naming the limit; an order outstanding when its tool or operator is
suspended is withdrawn, never to be carried out; the bench and the security office say so."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers, people_seed
from tests.unit.services.workflow_seed import (
    FACILITY_SIGNER,
    Bench,
    at_the_bench,
    authorise,
    device_id,
    inspected,
    received,
    tool_result,
)
from triage.domain.lifecycle import JobState
from triage.domain.thresholds import Limit, Metric, Scope
from triage.domain.tool import ToolStatus
from triage.errors import Conflict, InvalidInput
from triage.ledger.entry import Entry
from triage.services import anomaly, job_steps, reinstatement, security_log, tools
from triage.services.views import jobs
from triage.services.views import people as people_views

SEC = callers.security_manager()
SUPERVISOR = callers.supervisor()


@pytest.fixture
def at_bench(factory: FakeUnitOfWorkFactory) -> Bench:
    return at_the_bench(factory)


def _about(factory: FakeUnitOfWorkFactory, entry_type: str, device: str) -> list[Entry]:
    return [e for e in factory.entries() if e.type == entry_type and e.subject.id == device]


def _tool_status(factory: FakeUnitOfWorkFactory) -> ToolStatus:
    with factory(write=False) as uow:
        found = uow.tools.get("T1")
    assert found is not None
    return found.status


def _limit_tool_resets(factory: FakeUnitOfWorkFactory, max_count: int) -> None:
    anomaly.set_threshold(factory, SEC, "tool", "T1", "resets", max_count, 60)


# -- refused before it exists -----------------------------------------------------------------


def test_the_order_beyond_the_limit_is_refused_and_no_order_exists(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    _limit_tool_resets(factory, 2)
    job_ids = [inspected(factory, at_bench, n) for n in (1, 2, 3)]
    authorise(factory, at_bench, job_ids[0])
    authorise(factory, at_bench, job_ids[1])
    issued = factory.entry_types().count("reset.authorised")

    with pytest.raises(anomaly.ThresholdReached) as refused:
        authorise(factory, at_bench, job_ids[2])

    limit = "tool T1 may do 2 resets an hour; this would be the 3rd"
    assert str(refused.value).startswith(f"{limit}. No work order was issued")
    assert "suspended tool T1 until a security manager reinstates it" in str(refused.value)
    assert factory.entry_types().count("reset.authorised") == issued
    assert jobs.job_detail(factory, SUPERVISOR, job_ids[2]).job.state is JobState.ELIGIBLE
    # The refusal is on the device's record, by whom asked, naming the limit.
    [entry] = _about(factory, "work_order.refused", device_id(3))
    assert entry.actor.id == "op" and entry.data["reason"].startswith(limit)
    # ...and the attempt suspended the tool, with an alert naming the tool and the limit.
    assert _tool_status(factory) is ToolStatus.SUSPENDED
    [alert], _ = anomaly.alerts(factory, SEC)
    assert (alert.subject_kind, alert.subject_id, alert.metric) == ("tool", "T1", "resets")
    assert alert.detail == {
        "count": 3,
        "max_count": 2,
        "window_minutes": 60,
        "action": "suspended",
        "detail": f"work order refused: {limit}",
    }


def test_within_the_limit_orders_are_issued(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    _limit_tool_resets(factory, 2)
    for n in (1, 2):
        authorise(factory, at_bench, inspected(factory, at_bench, n))
    assert _tool_status(factory) is ToolStatus.ACTIVE
    assert len(job_steps.work_orders_for_tool(factory, at_bench.tool)) == 2
    assert "work_order.refused" not in factory.entry_types()


def test_other_refusals_come_first_and_suspend_nobody(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    # An order for a device whose order is still live is a conflict, not an attempted breach.
    _limit_tool_resets(factory, 1)
    job_id = inspected(factory, at_bench, 1)
    authorise(factory, at_bench, job_id)
    with pytest.raises(Conflict, match="still valid"):
        authorise(factory, at_bench, job_id)
    assert _tool_status(factory) is ToolStatus.ACTIVE
    assert "work_order.refused" not in factory.entry_types()


@pytest.mark.parametrize(
    ("metric", "scope", "count", "limit", "text"),
    [
        (Metric.RESETS, Scope.TOOL, 3, Limit(2, 60), "tool T1 may do 2 resets an hour; "),
        (Metric.RESETS, Scope.OPERATOR, 2, Limit(1, 1440), "operator op may do 1 reset a day; "),
        (Metric.RESETS, Scope.TOOL, 12, Limit(11, 30), "may do 11 resets in 30 minutes; "),
        (Metric.RESETS, Scope.TOOL, 22, Limit(21, 120), "may do 21 resets in 2 hours; "),
        (Metric.RESETS, Scope.TOOL, 1, Limit(0, 60), "tool T1 may do no resets"),
        (
            Metric.OUT_OF_HOURS,
            Scope.TOOL,
            3,
            Limit(2, 60),
            "may do 2 work orders outside working hours an hour; this would be the 3rd",
        ),
        (
            Metric.UNEXPECTED_CONSIGNMENT,
            Scope.OPERATOR,
            1,
            Limit(0, 60),
            "operator op may not reset a device that no open consignment expected",
        ),
    ],
)
def test_the_limit_is_named_as_a_person_reads_it(
    metric: Metric, scope: Scope, count: int, limit: Limit, text: str
) -> None:
    subject = "T1" if scope is Scope.TOOL else "op"
    breach = anomaly.Breach(metric, scope, subject, count, limit, "alert-1")
    assert text in anomaly.limit_text(breach)


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (22, "22nd"),
        (101, "101st"),
        (111, "111th"),
    ],
)
def test_ordinals(number: int, text: str) -> None:
    assert anomaly.ordinal(number) == text


# -- outstanding orders are withdrawn ---------------------------------------------------------


def test_orders_outstanding_at_a_suspension_are_withdrawn_and_give_back_their_attempt(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    order = authorise(factory, at_bench, job_id)

    tools.suspend_tool(factory, callers.administrator(), "T1", "its case was found opened")

    [withdrawn] = _about(factory, "work_order.withdrawn", device_id(1))
    assert factory.entry_types()[-3:] == [
        "tool.suspended",
        "work_order.withdrawn",
        "incident.raised",
    ]
    assert withdrawn.data == {
        "job_id": job_id,
        "work_order_id": order.id,
        "action": "factory_reset",
        "tool_id": "T1",
        "operator_id": "op",
        "reason": "tool T1 was suspended: its case was found opened",
        "reset_attempts": 0,
    }
    job = jobs.job_detail(factory, SUPERVISOR, job_id).job
    assert (job.state, job.reset_attempts) == (JobState.RESET_AUTHORISED, 0)

    # Reinstated, the tool is not given the order, and its result for it is refused.
    reinstatement.reinstate_tool(factory, SEC, "T1", "the case was resealed and checked")
    assert job_steps.work_orders_for_tool(factory, at_bench.tool) == []
    with pytest.raises(InvalidInput, match=r"is withdrawn: .*its tool or operator suspended"):
        job_steps.record_tool_result(factory, at_bench.tool, tool_result(factory, at_bench, order))
    # A new order is the device's first attempt.
    authorise(factory, at_bench, job_id)
    assert jobs.job_detail(factory, SUPERVISOR, job_id).job.reset_attempts == 1


def test_an_operators_suspension_withdraws_the_orders_they_gave(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    anomaly.set_threshold(factory, SEC, "operator", "op", "resets", 1, 60)
    first = inspected(factory, at_bench, 1)
    authorise(factory, at_bench, first)

    with pytest.raises(anomaly.ThresholdReached, match="operator op may do 1 reset an hour"):
        authorise(factory, at_bench, inspected(factory, at_bench, 2))

    types = factory.entry_types()
    assert types[-5:] == [
        "work_order.refused",
        "alert.raised",
        "operator.suspended",
        "work_order.withdrawn",
        "incident.raised",
    ]
    assert factory.entries()[-2].data["reason"].startswith("operator op was suspended: anomaly:")
    assert _tool_status(factory) is ToolStatus.ACTIVE
    assert job_steps.work_orders_for_tool(factory, at_bench.tool) == []


def test_a_reinstatement_withdraws_orders_an_older_version_left_outstanding(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    authorise(factory, at_bench, job_id)
    people_seed.suspend_operator(factory, "op")  # as recorded before withdrawals existed
    assert len(job_steps.work_orders_for_tool(factory, at_bench.tool)) == 1

    reinstatement.reinstate_operator(factory, SEC, "op", "the batch was agreed with sup")

    assert factory.entry_types()[-2:] == ["work_order.withdrawn", "operator.reinstated"]
    assert job_steps.work_orders_for_tool(factory, at_bench.tool) == []


def test_a_read_order_is_withdrawn_too(factory: FakeUnitOfWorkFactory, at_bench: Bench) -> None:
    job = received(factory, 1)
    security_log.request_read(factory, at_bench.operator, job.id, "T1", FACILITY_SIGNER)

    tools.suspend_tool(factory, callers.administrator(), "T1", "its case was found opened")

    [withdrawn] = _about(factory, "work_order.withdrawn", device_id(1))
    assert withdrawn.data["action"] == "read_security_log"
    assert "reset_attempts" not in withdrawn.data


# -- what the bench and the security office read ----------------------------------------------


def test_the_bench_page_says_the_order_was_withdrawn_and_the_tool_suspended(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    order = authorise(factory, at_bench, job_id)
    assert jobs.bench_job(factory, at_bench.operator, job_id).stopped is None

    tools.suspend_tool(factory, callers.administrator(), "T1", "its case was found opened")

    stopped = jobs.bench_job(factory, at_bench.operator, job_id).stopped
    assert stopped is not None
    assert (stopped.work_order_id, stopped.tool_id, stopped.tool_status) == (
        order.id,
        "T1",
        "suspended",
    )
    assert stopped.tool_out_of_service
    assert stopped.withdrawn == "tool T1 was suspended: its case was found opened"


def test_the_security_office_sees_each_tools_thresholds(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    people_seed.enrol_tool(factory, "T2", "BENCH-2")
    _limit_tool_resets(factory, 2)

    shown = people_views.tools_and_alerts(factory, SEC)

    resets = {
        t: next(lim for lim in shown.limits[t] if lim.metric is Metric.RESETS) for t in shown.limits
    }
    assert (resets["T1"].rate, resets["T1"].source) == ("2 an hour", "subject")
    assert (resets["T2"].rate, resets["T2"].source) == ("60 an hour", "default")
    assert {lim.metric for lim in shown.limits["T1"]} == set(Metric)
