"""What is read about triage jobs: a job at the bench, the supervisor's queues, lists."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers, people_seed, workflow_seed
from tests.unit.services.workflow_seed import (
    BREACHED,
    OTHER_FINDING,
    STORES,
    Bench,
    at_the_bench,
    authorise,
    device_id,
    import_consignment,
    inspected,
    received,
    tool_result,
)
from triage.domain.caller import Caller
from triage.domain.lifecycle import JobState
from triage.domain.work_order import ResetOutcome
from triage.errors import NotFound, PermissionDenied
from triage.services import intake, job_steps, photos, tools
from triage.services.views import jobs

SUPERVISOR = callers.supervisor()
PHOTO = "ab" * 32


@pytest.fixture
def at_bench(factory: FakeUnitOfWorkFactory) -> Bench:
    return at_the_bench(factory)


# -- bench_job --------------------------------------------------------------------------------


def test_the_bench_sees_the_jobs_story_decision_photos_and_next_steps(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1, OTHER_FINDING)
    photos.attach_photo(factory, at_bench.operator, job_id, PHOTO, "image/jpeg", 1234)
    job_steps.override(
        factory, SUPERVISOR, job_id, "eligible", "scratch from transport, all intact"
    )

    seen = jobs.bench_job(factory, at_bench.operator, job_id)

    assert (seen.job.id, seen.job.state) == (job_id, JobState.ELIGIBLE)
    assert [e.type for _, e in seen.entries] == [
        "consignment.device_expected",  # about the device, in no job
        "device.received",
        "device.security_log_recorded",
        "device.inspected",
        "device.decided",
        "device.photo_attached",
        "decision.overridden",
    ]
    assert seen.decision is not None
    assert (seen.decision.entry_type, seen.decision.outcome, seen.decision.by) == (
        "decision.overridden",
        "eligible",
        SUPERVISOR.id,
    )
    assert seen.decision.justification == "scratch from transport, all intact"
    assert seen.photos == [PHOTO]
    assert seen.next_steps == ["authorise_reset", "override", "quarantine"]
    assert [t.id for t in seen.tools] == ["T1"]


def _verification_failed(factory: FakeUnitOfWorkFactory, at_bench: Bench, job_id: str) -> None:
    order = authorise(factory, at_bench, job_id)
    signed = tool_result(factory, at_bench, order, verified=False)
    job_steps.record_tool_result(factory, at_bench.tool, signed)


def test_a_failed_verification_shows_the_failed_items_and_the_attempts_left(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    _verification_failed(factory, at_bench, job_id)

    seen = jobs.bench_job(factory, at_bench.operator, job_id)

    assert seen.job.state is JobState.VERIFICATION_FAILED
    assert seen.attempts is not None
    assert (seen.attempts.used, seen.attempts.allowed, seen.attempts.left) == (1, 3, 2)
    assert "mpxn not cleared" in seen.attempts.failures
    authorise(factory, at_bench, job_id)  # a new order: the old failures are history
    retrying = jobs.bench_job(factory, at_bench.operator, job_id).attempts
    assert retrying is not None
    assert (retrying.used, retrying.left, retrying.failures) == (2, 1, [])


def test_the_decision_after_the_last_failed_attempt_is_the_systems_quarantine(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)  # the policy decided: eligible
    for _ in range(3):
        _verification_failed(factory, at_bench, job_id)

    seen = jobs.bench_job(factory, at_bench.operator, job_id)

    assert seen.job.state is JobState.QUARANTINED
    assert seen.decision is not None
    assert (seen.decision.outcome, seen.decision.by, seen.decision.reasons) == (
        "quarantine",
        "the system",
        ["reset not verified after 3 attempts"],
    )
    assert seen.attempts is not None
    assert seen.attempts.left == 0
    assert "mpxn not cleared" in seen.attempts.failures


def test_a_supervisors_quarantine_is_the_current_decision_with_its_reason(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = workflow_seed.verified(factory, at_bench, 1)
    job_steps.quarantine(factory, SUPERVISOR, job_id, "display cracked while sealing")

    seen = jobs.bench_job(factory, at_bench.operator, job_id)

    assert seen.decision is not None
    assert (seen.decision.outcome, seen.decision.by, seen.decision.reasons) == (
        "quarantine",
        SUPERVISOR.id,
        ["display cracked while sealing"],
    )
    assert seen.attempts is not None and seen.attempts.failures == []


def test_a_jobs_story_leaves_out_the_devices_earlier_visits(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    first = inspected(factory, at_bench, 1, BREACHED)
    job_steps.dispose(factory, SUPERVISOR, first, "return", "RMA-0042")
    import_consignment(factory, 1, reference="CN-again")
    second = intake.scan_device(factory, STORES, device_id(1)).job
    assert second is not None

    seen = jobs.bench_job(factory, at_bench.operator, second.id)

    assert seen.decision is None
    assert all(e.data.get("job_id") in (None, second.id) for _, e in seen.entries)
    assert [e.type for _, e in seen.entries].count("device.received") == 1
    assert seen.next_steps == ["inspect"]


def test_the_bench_is_offered_its_own_active_tools_else_every_active_one(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job = received(factory, 1)
    people_seed.enrol_tool(factory, "T2", "BENCH-2")
    people_seed.enrol_tool(factory, "T3", "BENCH-2")
    tools.suspend_tool(factory, callers.administrator(), "T3", "sent away for calibration")

    at_one = jobs.bench_job(factory, at_bench.operator, job.id)
    at_two = jobs.bench_job(factory, callers.bench_operator(bench="BENCH-2"), job.id)
    nowhere = jobs.bench_job(factory, SUPERVISOR, job.id)

    assert [t.id for t in at_one.tools] == ["T1"]
    assert [t.id for t in at_two.tools] == ["T2"]
    assert sorted(t.id for t in nowhere.tools) == ["T1", "T2"]


def test_a_bench_job_is_for_the_bench_and_must_exist(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job = received(factory, 1)
    with pytest.raises(PermissionDenied):
        jobs.bench_job(factory, callers.auditor(), job.id)
    with pytest.raises(NotFound):
        jobs.bench_job(factory, at_bench.operator, "no-such-job")


# -- review_queues ----------------------------------------------------------------------------


def test_the_supervisor_sees_what_awaits_review_and_what_is_quarantined(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    review = []
    for n in (1, 2):
        review.append(inspected(factory, at_bench, n, OTHER_FINDING))
        factory.clock.advance(timedelta(minutes=1))
    quarantined = inspected(factory, at_bench, 3, BREACHED)
    inspected(factory, at_bench, 4)  # eligible: in neither queue

    queues = jobs.review_queues(factory, SUPERVISOR)

    assert [j.id for j in queues.awaiting_review] == review
    assert [j.id for j in queues.quarantined] == [quarantined]
    # Each card says why the policy asks for a supervisor: the reasons of its decision.
    assert set(queues.reasons) == set(review)
    assert all(
        any("a scratch across the display window" in r for r in queues.reasons[j]) for j in review
    )
    with pytest.raises(PermissionDenied):
        jobs.review_queues(factory, at_bench.operator)


# -- jobs and job_detail ----------------------------------------------------------------------


def test_jobs_are_listed_oldest_first_by_state_a_page_at_a_time(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    made = []
    for n in (1, 2, 3):
        made.append(received(factory, n, reference=f"CN-{n}").id)
        factory.clock.advance(timedelta(minutes=1))
    workflow_seed.log_recorded(factory, jobs.job_detail(factory, SUPERVISOR, made[1]).job)
    job_steps.inspect(factory, at_bench.operator, made[1], BREACHED)
    reader = callers.auditor()

    every, total = jobs.jobs(factory, reader, None, 0, 10)
    page, _ = jobs.jobs(factory, reader, None, 1, 1)
    still_received, count = jobs.jobs(factory, reader, JobState.RECEIVED, 0, 10)

    assert total == 3 and [j.id for j in every] == made
    assert [j.id for j in page] == [made[1]]
    assert count == 2 and [j.id for j in still_received] == [made[0], made[2]]
    with pytest.raises(PermissionDenied):
        jobs.jobs(factory, callers.nobody(), None, 0, 10)


def test_a_jobs_detail_has_every_reset_tried(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    failed = authorise(factory, at_bench, job_id)
    job_steps.record_tool_result(
        factory, at_bench.tool, tool_result(factory, at_bench, failed, ResetOutcome.FAILED)
    )
    factory.clock.advance(timedelta(minutes=1))
    done = authorise(factory, at_bench, job_id)
    job_steps.record_tool_result(factory, at_bench.tool, tool_result(factory, at_bench, done))

    detail = jobs.job_detail(factory, callers.auditor(), job_id)

    assert detail.job.state is JobState.VERIFIED
    assert [(r.work_order_id, r.outcome, r.verified) for r in detail.resets] == [
        (failed.id, "failed", None),
        (done.id, "completed", True),
    ]


def test_a_jobs_detail_needs_the_read_permission_and_the_job(
    factory: FakeUnitOfWorkFactory,
) -> None:
    with pytest.raises(NotFound):
        jobs.job_detail(factory, callers.auditor(), "no-such-job")
    with pytest.raises(PermissionDenied):
        jobs.job_detail(factory, callers.nobody(), "no-such-job")


# -- supervisor_acts --------------------------------------------------------------------------


def test_only_the_supervisor_acts_the_caller_may_take_now_are_offered(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    set_aside = inspected(factory, at_bench, 1, BREACHED)  # quarantined by the policy
    reset_out = inspected(factory, at_bench, 2)
    for _ in range(3):
        _verification_failed(factory, at_bench, reset_out)  # quarantined by the system
    done = workflow_seed.verified(factory, at_bench, 3)

    def acts(caller: Caller, job_id: str) -> list[str]:
        return jobs.bench_job(factory, caller, job_id).acts

    assert acts(SUPERVISOR, set_aside) == ["override", "dispose"]
    assert acts(SUPERVISOR, reset_out) == ["dispose"]  # no override after a reset
    assert acts(SUPERVISOR, done) == ["quarantine"]
    assert acts(at_bench.operator, set_aside) == []
    assert acts(at_bench.operator, done) == []
    queues = jobs.review_queues(factory, SUPERVISOR)
    assert queues.acts == {set_aside: ["override", "dispose"], reset_out: ["dispose"]}


def test_the_supervisor_who_inspected_is_not_offered_the_override(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job = received(factory, 1)
    workflow_seed.log_recorded(factory, job)
    job_steps.inspect(factory, SUPERVISOR, job.id, BREACHED)

    assert jobs.bench_job(factory, SUPERVISOR, job.id).acts == ["dispose"]
    assert jobs.bench_job(factory, callers.supervisor("sup-2"), job.id).acts == [
        "override",
        "dispose",
    ]
