"""The bench's steps on the fake unit of work: inspection and decision, overrides, work orders
and tool results, the expiry sweep, sealing, release, quarantine and disposal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers, people_seed
from tests.unit.services.disposal_seed import DESTRUCTION
from tests.unit.services.workflow_seed import (
    BREACHED,
    FACILITY_SIGNER,
    INTACT,
    METROLOGY_BROKEN,
    OTHER_FINDING,
    Bench,
    at_the_bench,
    authorise,
    device_id,
    inspected,
    issued_seal,
    log_recorded,
    received,
    tool_result,
    verified,
)
from triage.domain.caller import Caller
from triage.domain.job import TriageJob
from triage.domain.lifecycle import JobState
from triage.domain.tamper_policy import Outcome, TamperPolicy
from triage.domain.work_order import ResetOutcome
from triage.errors import (
    Conflict,
    IllegalTransition,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from triage.services import job_steps, seals, tamper_policy, tools
from triage.services.views import jobs

SUPERVISOR = callers.supervisor()


@pytest.fixture
def at_bench(factory: FakeUnitOfWorkFactory) -> Bench:
    return at_the_bench(factory)


def _job(factory: FakeUnitOfWorkFactory, job_id: str) -> TriageJob:
    return jobs.job_detail(factory, SUPERVISOR, job_id).job


def _orders(factory: FakeUnitOfWorkFactory, at_bench: Bench) -> list[str]:
    return job_steps.work_orders_for_tool(factory, at_bench.tool)


def _reset_failed(factory: FakeUnitOfWorkFactory, at_bench: Bench, job_id: str) -> None:
    order = authorise(factory, at_bench, job_id)
    signed = tool_result(factory, at_bench, order, ResetOutcome.FAILED)
    job_steps.record_tool_result(factory, at_bench.tool, signed)


# -- inspect ----------------------------------------------------------------------------------


def test_an_inspection_is_recorded_and_the_policy_decides(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job = received(factory, 1)
    log_recorded(factory, job)

    decision = job_steps.inspect(factory, at_bench.operator, job.id, INTACT)

    assert decision.outcome is Outcome.eligible
    inspected_entry, decided = factory.entries()[-2:]
    assert (inspected_entry.type, inspected_entry.actor.id) == ("device.inspected", "op")
    assert inspected_entry.subject.id == device_id(1)
    assert inspected_entry.data["state"] == "inspected"
    assert inspected_entry.data["evidence"]["cpa_boundary_intact"] is True
    assert (decided.type, decided.actor.id) == ("device.decided", "tamper-policy")
    assert (decided.data["seq"], decided.data["outcome"]) == (1, "eligible")
    assert decided.data["policy"]["hash"] == decision.policy_hash
    # The decision names the log it used: the supervisor's upload of the supplier's response.
    recorded = next(e for e in factory.entries() if e.type == "device.security_log_recorded")
    assert decided.data["security_log"] == {
        "source": "supplier",
        "sha256": recorded.data["sha256"],
        "use_case": "ECS35b",
    }
    assert inspected_entry.data["evidence"]["security_log"]["sha256"] == recorded.data["sha256"]
    # The packaged policy is put in force by the first inspection.
    assert "policy.activated" in factory.entry_types()
    after = _job(factory, job.id)
    assert (after.state, after.inspector_id, after.outcome) == (JobState.ELIGIBLE, "op", "eligible")


@pytest.mark.parametrize(
    ("evidence", "state"),
    [
        (BREACHED, JobState.QUARANTINED),
        (METROLOGY_BROKEN, JobState.REVERIFY_METROLOGY),
        (OTHER_FINDING, JobState.AWAITING_REVIEW),
    ],
)
def test_the_policy_sends_tampered_devices_aside(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, evidence: dict[str, object], state: JobState
) -> None:
    job_id = inspected(factory, at_bench, 1, evidence)
    assert _job(factory, job_id).state is state


def _incidents(factory: FakeUnitOfWorkFactory) -> list[tuple[str, str]]:
    return [
        (e.data["source"], e.data["about_id"])
        for e in factory.entries()
        if e.type == "incident.raised"
    ]


def test_a_quarantine_by_a_suspicious_rule_raises_an_incident(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1, BREACHED)

    decided = next(e for e in reversed(factory.entries()) if e.type == "device.decided")
    incident = factory.entries()[-1]
    assert incident.type == "incident.raised"  # in the decision's transaction, right after it
    assert decided.data["outcome"] == "quarantine"
    assert _incidents(factory) == [("suspicious_quarantine", device_id(1))]
    assert incident.data["detail"] == {"job_id": job_id, "rules": ["cpa-boundary-breached"]}
    assert "CPA tamper protection boundary breached" in incident.data["summary"]


def test_a_quarantine_by_a_rule_not_marked_suspicious_raises_none(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    packaged = factory.packaged.tamper_policy().source.decode("utf-8")
    unmarked = packaged.replace("    suspicious: true\n", "").replace(
        'version: "3"', 'version: "3-unmarked"'
    )
    tamper_policy.activate_policy(
        factory, callers.administrator(), TamperPolicy.load(unmarked.encode())
    )
    job_id = inspected(factory, at_bench, 1, BREACHED)
    assert _job(factory, job_id).state is JobState.QUARANTINED
    assert _incidents(factory) == []


def test_inspecting_needs_the_inspect_permission(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job = received(factory, 1)
    before = factory.entry_types()
    with pytest.raises(PermissionDenied):
        job_steps.inspect(factory, callers.stores(), job.id, INTACT)
    assert factory.entry_types() == before
    assert _job(factory, job.id).state is JobState.RECEIVED


def test_evidence_without_the_boundary_facts_is_refused(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job = received(factory, 1)
    before = factory.entry_types()
    with pytest.raises(InvalidInput, match="cpa_boundary_intact"):
        job_steps.inspect(factory, at_bench.operator, job.id, {"metrology_seal_intact": True})
    assert factory.entry_types() == before


def test_a_device_is_inspected_once_per_job(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    before = factory.entry_types()
    with pytest.raises(IllegalTransition):
        job_steps.inspect(factory, at_bench.operator, job_id, BREACHED)
    with pytest.raises(NotFound):
        job_steps.inspect(factory, at_bench.operator, "no-such-job", INTACT)
    assert factory.entry_types() == before
    assert _job(factory, job_id).state is JobState.ELIGIBLE


# -- override ---------------------------------------------------------------------------------

JUSTIFICATION = "the scratch is from transport, the boundary is intact"


def test_a_supervisor_overrides_the_policy_in_writing(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1, OTHER_FINDING)

    job = job_steps.override(factory, SUPERVISOR, job_id, "eligible", f"  {JUSTIFICATION} ")

    assert (job.state, job.outcome) == (JobState.ELIGIBLE, "eligible")
    entry = factory.entries()[-1]
    assert (entry.type, entry.actor.id) == ("decision.overridden", SUPERVISOR.id)
    assert entry.data == {
        "job_id": job_id,
        "state": "eligible",
        "seq": 2,
        "outcome": "eligible",
        "previous": "awaiting_review",
        "justification": JUSTIFICATION,
        "inspector": "op",
    }
    assert jobs.review_queues(factory, SUPERVISOR).awaiting_review == []


def test_overriding_needs_the_override_permission(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1, OTHER_FINDING)
    before = factory.entry_types()
    with pytest.raises(PermissionDenied):
        job_steps.override(factory, at_bench.operator, job_id, "eligible", JUSTIFICATION)
    assert factory.entry_types() == before


@pytest.mark.parametrize(
    ("outcome", "justification", "problem"),
    [
        ("maybe", JUSTIFICATION, "^outcome:"),
        ("supervisor_review", JUSTIFICATION, "an override must decide"),
        ("eligible", "looks fine", "^justification:"),
    ],
)
def test_an_override_decides_and_says_why(
    factory: FakeUnitOfWorkFactory,
    at_bench: Bench,
    outcome: str,
    justification: str,
    problem: str,
) -> None:
    job_id = inspected(factory, at_bench, 1, OTHER_FINDING)
    before = factory.entry_types()
    with pytest.raises(InvalidInput, match=problem):
        job_steps.override(factory, SUPERVISOR, job_id, outcome, justification)
    assert factory.entry_types() == before
    assert _job(factory, job_id).state is JobState.AWAITING_REVIEW


def test_the_inspector_cannot_override_their_own_inspection(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job = received(factory, 1)
    log_recorded(factory, job)
    inspector = callers.supervisor("sup-2")
    job_steps.inspect(factory, inspector, job.id, OTHER_FINDING)
    before = factory.entry_types()
    with pytest.raises(PermissionDenied, match="separation of duties"):
        job_steps.override(factory, inspector, job.id, "eligible", JUSTIFICATION)
    assert factory.entry_types() == before


def test_an_override_must_change_the_decision(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1, OTHER_FINDING)
    job_steps.override(factory, SUPERVISOR, job_id, "quarantine", JUSTIFICATION)
    before = factory.entry_types()
    with pytest.raises(Conflict, match="already quarantined"):
        job_steps.override(factory, SUPERVISOR, job_id, "quarantine", JUSTIFICATION)
    assert factory.entry_types() == before


def test_no_override_after_a_reset_was_attempted(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    authorise(factory, at_bench, job_id)
    before = factory.entry_types()
    with pytest.raises(IllegalTransition, match="after a reset was attempted"):
        job_steps.override(factory, SUPERVISOR, job_id, "quarantine", JUSTIFICATION)
    assert factory.entry_types() == before


# -- authorise_reset and work_orders_for_tool -------------------------------------------------


def test_a_work_order_is_signed_for_the_benchs_tool(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)

    order = authorise(factory, at_bench, job_id)

    assert (order.tool_id, order.device_id, order.job_id, order.operator_id) == (
        "T1",
        device_id(1),
        job_id,
        "op",
    )
    assert order.facility == factory.facility_id
    assert order.profile == "gb-factory-reset/esme@2026.1"
    assert order.issued_at == factory.clock.now()
    assert order.expires_at == factory.clock.now() + timedelta(minutes=15)
    entry = factory.entries()[-1]
    assert (entry.type, entry.actor.id, entry.subject.id) == (
        "reset.authorised",
        "op",
        device_id(1),
    )
    assert (entry.data["work_order_id"], entry.data["attempt"]) == (order.id, 1)
    assert (entry.data["tool_id"], entry.data["nonce"]) == ("T1", order.nonce)
    job = _job(factory, job_id)
    assert (job.state, job.reset_attempts) == (JobState.RESET_AUTHORISED, 1)
    assert _orders(factory, at_bench) == [entry.data["signed"]]


def test_requesting_a_reset_needs_the_permission(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    before = factory.entry_types()
    with pytest.raises(PermissionDenied):
        job_steps.authorise_reset(factory, callers.auditor(), job_id, "T1", FACILITY_SIGNER)
    assert factory.entry_types() == before


def test_a_reset_asked_for_away_from_the_tools_bench_is_refused_on_the_record(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    people_seed.assign(factory, "op", "BENCH-1", "BENCH-2")
    elsewhere = callers.bench_operator("op", bench="BENCH-2")

    with pytest.raises(PermissionDenied, match="must be requested by an operator signed in"):
        job_steps.authorise_reset(factory, elsewhere, job_id, "T1", FACILITY_SIGNER)

    refusal = factory.entries()[-1]
    assert (refusal.type, refusal.subject.id) == ("auth.refused", "op")
    assert "BENCH-2" in refusal.data["reason"]
    assert _job(factory, job_id).state is JobState.ELIGIBLE
    assert _orders(factory, at_bench) == []


def test_a_reset_from_a_bench_taken_away_is_refused_on_the_record(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    people_seed.assign(factory, "op", "BENCH-2")  # BENCH-1 taken away while signed in there

    with pytest.raises(PermissionDenied, match="not assigned to bench BENCH-1"):
        job_steps.authorise_reset(factory, at_bench.operator, job_id, "T1", FACILITY_SIGNER)

    assert factory.entry_types()[-1] == "auth.refused"
    assert _orders(factory, at_bench) == []


def test_only_an_active_enrolled_tool_is_given_work(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    with pytest.raises(NotFound):
        job_steps.authorise_reset(factory, at_bench.operator, job_id, "T9", FACILITY_SIGNER)
    tools.suspend_tool(factory, callers.administrator(), "T1", "sent away for calibration")
    before = factory.entry_types()
    with pytest.raises(Conflict, match="may not be given work"):
        job_steps.authorise_reset(factory, at_bench.operator, job_id, "T1", FACILITY_SIGNER)
    assert factory.entry_types() == before


def test_one_live_work_order_per_device_and_a_new_one_after_expiry(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    first = authorise(factory, at_bench, job_id)
    with pytest.raises(Conflict, match="still valid"):
        authorise(factory, at_bench, job_id)

    factory.clock.advance(timedelta(minutes=16))
    assert _orders(factory, at_bench) == []  # the tool is not given an expired order
    second = authorise(factory, at_bench, job_id)

    assert second.id != first.id
    assert _job(factory, job_id).reset_attempts == 2
    assert len(_orders(factory, at_bench)) == 1
    # The first order was superseded: a late result for it is refused.
    late = tool_result(factory, at_bench, first, completed_at=first.issued_at)
    with pytest.raises(InvalidInput, match="superseded"):
        job_steps.record_tool_result(factory, at_bench.tool, late)


def test_only_a_tool_fetches_work_orders(factory: FakeUnitOfWorkFactory, at_bench: Bench) -> None:
    with pytest.raises(PermissionDenied):
        job_steps.work_orders_for_tool(factory, at_bench.operator)
    tools.suspend_tool(factory, callers.administrator(), "T1", "sent away for calibration")
    with pytest.raises(PermissionDenied, match="not an active enrolled tool"):
        job_steps.work_orders_for_tool(factory, at_bench.tool)


# -- record_tool_result -----------------------------------------------------------------------


def test_a_verified_reset_moves_the_job_to_verified(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    order = authorise(factory, at_bench, job_id)
    factory.clock.advance(timedelta(minutes=3))
    signed = tool_result(factory, at_bench, order)

    job = job_steps.record_tool_result(factory, at_bench.tool, signed)

    assert job.state is JobState.VERIFIED
    completed, checked = factory.entries()[-2:]
    assert (completed.type, completed.actor.id) == ("reset.completed", "T1")
    assert (completed.data["work_order_id"], completed.data["signed"]) == (order.id, signed)
    assert (checked.type, checked.actor.kind) == ("reset.verified", "system")
    assert checked.data["failures"] == []
    [result] = jobs.job_detail(factory, SUPERVISOR, job_id).resets
    assert (result.work_order_id, result.outcome, result.verified) == (order.id, "completed", True)
    assert result.at == factory.clock.now()
    assert _orders(factory, at_bench) == []


def test_a_reset_that_cleared_nothing_fails_verification(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    order = authorise(factory, at_bench, job_id)
    signed = tool_result(factory, at_bench, order, verified=False)

    job = job_steps.record_tool_result(factory, at_bench.tool, signed)

    assert job.state is JobState.VERIFICATION_FAILED
    entry = factory.entries()[-1]
    assert entry.type == "reset.verification_failed"
    assert "mpxn not cleared" in entry.data["failures"]
    [result] = jobs.job_detail(factory, SUPERVISOR, job_id).resets
    assert result.verified is False
    assert "mpxn not cleared" in result.failures


def test_the_last_failed_attempt_quarantines_the_device(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    _reset_failed(factory, at_bench, job_id)
    assert _job(factory, job_id).state is JobState.RESET_FAILED
    _reset_failed(factory, at_bench, job_id)
    _reset_failed(factory, at_bench, job_id)  # the third of three

    job = _job(factory, job_id)
    assert (job.state, job.reset_attempts) == (JobState.QUARANTINED, 3)
    entry = factory.entries()[-1]
    assert (entry.type, entry.actor.kind) == ("device.quarantined", "system")
    assert entry.data["reason"] == "reset not verified after 3 attempts"
    assert [r.outcome for r in jobs.job_detail(factory, SUPERVISOR, job_id).resets] == [
        "failed"
    ] * 3


def test_the_same_result_sent_again_changes_nothing(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    signed = tool_result(factory, at_bench, authorise(factory, at_bench, job_id))
    first = job_steps.record_tool_result(factory, at_bench.tool, signed)
    before = factory.entry_types()

    again = job_steps.record_tool_result(factory, at_bench.tool, signed)

    assert again == first
    assert factory.entry_types() == before


def test_a_second_different_result_is_refused_as_a_replay_on_the_record(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    order = authorise(factory, at_bench, job_id)
    job_steps.record_tool_result(factory, at_bench.tool, tool_result(factory, at_bench, order))
    other = tool_result(factory, at_bench, order, ResetOutcome.FAILED)

    with pytest.raises(InvalidInput, match="is completed"):
        job_steps.record_tool_result(factory, at_bench.tool, other)

    refusal = factory.entries()[-1]
    assert (refusal.type, refusal.subject.id) == ("tool.result_refused", "T1")
    assert _job(factory, job_id).state is JobState.VERIFIED


def test_a_result_not_signed_by_the_tool_is_refused(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    order = authorise(factory, at_bench, job_id)
    impostor = Bench(at_bench.operator, at_bench.tool, people_seed.tool_key("T1")[0])

    with pytest.raises(InvalidInput, match="not signed by the tool's key"):
        job_steps.record_tool_result(factory, at_bench.tool, tool_result(factory, impostor, order))

    assert factory.entry_types()[-1] == "tool.result_refused"
    assert _job(factory, job_id).state is JobState.RESET_AUTHORISED


def test_a_reset_completed_after_the_order_expired_is_refused(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    order = authorise(factory, at_bench, job_id)
    factory.clock.advance(timedelta(minutes=16))
    signed = tool_result(factory, at_bench, order)

    with pytest.raises(InvalidInput, match="a reset after the order's expiry is not accepted"):
        job_steps.record_tool_result(factory, at_bench.tool, signed)

    assert factory.entry_types()[-1] == "tool.result_refused"
    assert _job(factory, job_id).state is JobState.RESET_AUTHORISED


def test_a_result_within_the_grace_is_accepted(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    order = authorise(factory, at_bench, job_id)
    signed = tool_result(factory, at_bench, order, completed_at=order.expires_at)
    factory.clock.advance(timedelta(minutes=15) + factory.settings.work_order_expiry_grace)

    assert job_steps.record_tool_result(factory, at_bench.tool, signed).state is JobState.VERIFIED


def test_only_a_tool_records_results(factory: FakeUnitOfWorkFactory, at_bench: Bench) -> None:
    job_id = inspected(factory, at_bench, 1)
    signed = tool_result(factory, at_bench, authorise(factory, at_bench, job_id))
    before = factory.entry_types()
    with pytest.raises(PermissionDenied):
        job_steps.record_tool_result(factory, at_bench.operator, signed)
    assert factory.entry_types() == before


# -- sweep_expired_orders ---------------------------------------------------------------------


def test_the_sweep_with_nothing_expired_writes_nothing(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    authorise(factory, at_bench, job_id)
    commits = factory.commits

    assert job_steps.sweep_expired_orders(factory) == []
    assert factory.commits == commits


def test_the_sweep_fails_a_reset_whose_order_expired_without_a_result(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    order = authorise(factory, at_bench, job_id)
    grace = factory.settings.work_order_expiry_grace
    factory.clock.advance(timedelta(minutes=15) + grace - timedelta(seconds=1))
    assert job_steps.sweep_expired_orders(factory) == []  # not yet past the grace
    factory.clock.advance(timedelta(seconds=1))

    assert job_steps.sweep_expired_orders(factory) == [job_id]

    entry = factory.entries()[-1]
    assert (entry.type, entry.actor.kind) == ("reset.failed", "system")
    assert entry.data["expired"] is True
    assert (entry.data["work_order_id"], entry.data["tool_id"]) == (order.id, "T1")
    assert "without a result from tool T1" in entry.data["detail"]
    assert _job(factory, job_id).state is JobState.RESET_FAILED
    assert job_steps.sweep_expired_orders(factory) == []
    # The order is closed as expired: its result, however late, is refused.
    late = tool_result(factory, at_bench, order, completed_at=order.issued_at)
    with pytest.raises(InvalidInput, match="is expired"):
        job_steps.record_tool_result(factory, at_bench.tool, late)


def test_the_sweep_quarantines_on_the_last_attempt(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    _reset_failed(factory, at_bench, job_id)
    _reset_failed(factory, at_bench, job_id)
    authorise(factory, at_bench, job_id)
    factory.clock.advance(timedelta(hours=1))

    assert job_steps.sweep_expired_orders(factory, grace=timedelta(0)) == [job_id]

    assert factory.entry_types()[-2:] == ["reset.failed", "device.quarantined"]
    assert _job(factory, job_id).state is JobState.QUARANTINED


# -- record_refusal ---------------------------------------------------------------------------


def test_a_tool_refusing_its_order_is_on_the_devices_record(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    order = authorise(factory, at_bench, job_id)

    job_steps.record_refusal(factory, at_bench.tool, order.id, "wrong device on the bench " * 40)
    job_steps.record_refusal(factory, at_bench.tool, "no-such-order", "signature did not verify")

    about_device, about_tool = factory.entries()[-2:]
    assert (about_device.type, about_device.actor.id) == ("tool.command_refused", "T1")
    assert about_device.subject.id == device_id(1)
    assert about_device.data["work_order_id"] == order.id
    assert len(about_device.data["reason"]) == 500
    assert (about_tool.subject.kind, about_tool.subject.id) == ("tool", "T1")
    assert _job(factory, job_id).state is JobState.RESET_AUTHORISED


def test_only_an_active_tool_records_a_refusal(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    before = factory.entry_types()
    with pytest.raises(PermissionDenied):
        job_steps.record_refusal(factory, at_bench.operator, "any", "refused")
    with pytest.raises(PermissionDenied):
        job_steps.record_refusal(factory, Caller.tool("T9"), "any", "refused")
    assert factory.entry_types() == before


# -- seal -------------------------------------------------------------------------------------


def test_a_verified_device_is_sealed_with_a_seal_issued_to_the_operator(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = verified(factory, at_bench, 1)
    issued_seal(factory, "op", "SL-000100")

    job = job_steps.seal(factory, at_bench.operator, job_id, "sl-000100")

    assert (job.state, job.seal_serial) == (JobState.SEALED, "SL-000100")
    entry = factory.entries()[-1]
    assert (entry.type, entry.actor.id, entry.subject.id) == ("seal.fitted", "op", device_id(1))
    assert (entry.data["serial"], entry.data["bench"]) == ("SL-000100", "BENCH-1")
    detail = seals.seal_detail(factory, SUPERVISOR, "SL-000100")
    assert detail.seal.status.value == "fitted"


def test_a_seal_issued_to_someone_else_is_refused(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = verified(factory, at_bench, 1)
    people_seed.add_operator(factory, "op-2")
    issued_seal(factory, "op-2", "SL-000100")
    before = factory.entry_types()

    with pytest.raises(Conflict, match="issued to op-2"):
        job_steps.seal(factory, at_bench.operator, job_id, "SL-000100")
    with pytest.raises(NotFound, match="not in the seal register"):
        job_steps.seal(factory, at_bench.operator, job_id, "SL-000999")

    assert factory.entry_types() == before
    assert _job(factory, job_id).state is JobState.VERIFIED


def test_sealing_needs_the_permission_a_bench_and_a_verified_reset(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = verified(factory, at_bench, 1)
    eligible = inspected(factory, at_bench, 2)
    issued_seal(factory, "op", "SL-000100")
    before = factory.entry_types()

    with pytest.raises(PermissionDenied):
        job_steps.seal(factory, callers.stores("op"), job_id, "SL-000100")
    with pytest.raises(PermissionDenied, match="sign in at the bench"):
        job_steps.seal(factory, callers.bench_operator("op", bench=None), job_id, "SL-000100")
    with pytest.raises(IllegalTransition):
        job_steps.seal(factory, at_bench.operator, eligible, "SL-000100")

    assert factory.entry_types() == before


# -- release ----------------------------------------------------------------------------------


def _sealed(factory: FakeUnitOfWorkFactory, at_bench: Bench, n: int) -> str:
    job_id = verified(factory, at_bench, n)
    serial = issued_seal(factory, "op", f"SL-{n:06d}")
    job_steps.seal(factory, at_bench.operator, job_id, serial)
    return job_id


def test_a_sealed_device_is_released_and_its_job_closed(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = _sealed(factory, at_bench, 1)
    factory.clock.advance(timedelta(minutes=5))

    job = job_steps.release(factory, at_bench.operator, job_id)

    assert (job.state, job.closed_at) == (JobState.RELEASED, factory.clock.now())
    entry = factory.entries()[-1]
    assert (entry.type, entry.data["seal_serial"]) == ("device.released", "SL-000001")
    with pytest.raises(IllegalTransition):
        job_steps.quarantine(factory, SUPERVISOR, job_id, "found damaged after dispatch")


def test_a_seal_found_broken_before_dispatch_sends_the_device_back_for_a_reset(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = _sealed(factory, at_bench, 1)
    seals.report_broken(factory, at_bench.operator, "SL-000001", "the wire is cut through")

    job = _job(factory, job_id)
    assert (job.state, job.seal_serial) == (JobState.SEAL_BROKEN, None)
    with pytest.raises(IllegalTransition):
        job_steps.release(factory, at_bench.operator, job_id)
    assert authorise(factory, at_bench, job_id).job_id == job_id
    assert _job(factory, job_id).reset_attempts == 2


def test_a_device_without_a_seal_is_not_released(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = verified(factory, at_bench, 1)
    before = factory.entry_types()
    with pytest.raises(Conflict, match="seal it first"):
        job_steps.release(factory, at_bench.operator, job_id)
    assert factory.entry_types() == before


def test_releasing_needs_the_release_permission(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = _sealed(factory, at_bench, 1)
    before = factory.entry_types()
    with pytest.raises(PermissionDenied):
        job_steps.release(factory, callers.stores(), job_id)
    assert factory.entry_types() == before
    assert _job(factory, job_id).state is JobState.SEALED


# -- quarantine -------------------------------------------------------------------------------


def test_a_supervisor_sets_a_device_aside_and_its_work_order_is_withdrawn(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    order = authorise(factory, at_bench, job_id)

    job = job_steps.quarantine(factory, SUPERVISOR, job_id, "  the case is  cracked ")

    assert job.state is JobState.QUARANTINED
    entry = factory.entries()[-1]
    assert (entry.type, entry.actor.id) == ("device.quarantined", SUPERVISOR.id)
    assert entry.data["reason"] == "the case is cracked"
    assert _orders(factory, at_bench) == []
    with pytest.raises(InvalidInput, match="is withdrawn"):
        job_steps.record_tool_result(factory, at_bench.tool, tool_result(factory, at_bench, order))
    assert jobs.review_queues(factory, SUPERVISOR).quarantined == [job]


@pytest.mark.parametrize("sealed", [False, True], ids=["verified", "sealed"])
def test_a_device_found_damaged_after_its_reset_is_quarantined_with_the_reason(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, sealed: bool
) -> None:
    job_id = verified(factory, at_bench, 1)
    if sealed:
        job_steps.seal(factory, at_bench.operator, job_id, issued_seal(factory, "op", "SL-1"))

    job = job_steps.quarantine(factory, SUPERVISOR, job_id, "terminal cover cracked on the bench")

    assert job.state is JobState.QUARANTINED
    entry = factory.entries()[-1]
    assert (entry.type, entry.actor.id) == ("device.quarantined", SUPERVISOR.id)
    assert entry.data["reason"] == "terminal cover cracked on the bench"
    with pytest.raises(IllegalTransition):
        job_steps.release(factory, SUPERVISOR, job_id)
    assert jobs.review_queues(factory, SUPERVISOR).quarantined == [job]


def test_a_quarantine_before_any_reset_can_be_overridden(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    job_steps.quarantine(factory, SUPERVISOR, job_id, "looked cracked under the bench lamp")

    job = job_steps.override(
        factory, callers.supervisor("sup-2"), job_id, "eligible", JUSTIFICATION
    )

    assert job.state is JobState.ELIGIBLE
    assert factory.entries()[-1].data["previous"] == "quarantined"


def test_quarantine_needs_the_permission_and_a_reason(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    before = factory.entry_types()
    with pytest.raises(PermissionDenied):
        job_steps.quarantine(factory, at_bench.operator, job_id, "the case is cracked")
    with pytest.raises(InvalidInput) as refused:
        job_steps.quarantine(factory, SUPERVISOR, job_id, "bad")
    assert refused.value.field == "reason"
    assert factory.entry_types() == before


# -- dispose ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "state"),
    [("return", JobState.RETURNED_TO_MANUFACTURER), ("destroy", JobState.DESTROYED)],
)
def test_a_quarantined_device_is_returned_or_destroyed(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, action: str, state: JobState
) -> None:
    job_id = inspected(factory, at_bench, 1, BREACHED)

    destruction = DESTRUCTION if action == "destroy" else None
    job = job_steps.dispose(factory, SUPERVISOR, job_id, action, " RMA-2026-0042 ", destruction)

    assert (job.state, job.closed_at) == (state, factory.clock.now())
    entry = next(
        e
        for e in reversed(factory.entries())
        if e.type.startswith("device.") and "job_id" in e.data
    )
    assert (entry.type, entry.data["reference"]) == (f"device.{state.value}", "RMA-2026-0042")


def test_disposal_needs_a_known_action_and_a_reference(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1, BREACHED)
    before = factory.entry_types()
    with pytest.raises(InvalidInput, match=r"^action:"):
        job_steps.dispose(factory, SUPERVISOR, job_id, "recycle", "RMA-1")
    with pytest.raises(InvalidInput, match=r"^reference:"):
        job_steps.dispose(factory, SUPERVISOR, job_id, "destroy", "   ")
    assert factory.entry_types() == before


def test_disposal_needs_the_permission_and_a_device_set_aside(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    quarantined = inspected(factory, at_bench, 1, BREACHED)
    eligible = inspected(factory, at_bench, 2)
    before = factory.entry_types()
    with pytest.raises(PermissionDenied):
        job_steps.dispose(factory, at_bench.operator, quarantined, "destroy", "CERT-1")
    with pytest.raises(IllegalTransition):
        job_steps.dispose(factory, SUPERVISOR, eligible, "destroy", "CERT-1", DESTRUCTION)
    assert factory.entry_types() == before


@pytest.mark.parametrize(
    "step",
    [
        lambda f, c: job_steps.seal(f, c, "no-such-job", "SL-0001"),
        lambda f, c: job_steps.release(f, c, "no-such-job"),
        lambda f, c: job_steps.quarantine(f, c, "no-such-job", "Cover scratched on arrival"),
        lambda f, c: job_steps.dispose(f, c, "no-such-job", "shred", ""),
    ],
    ids=["seal", "release", "quarantine", "dispose"],
)
def test_a_step_is_refused_for_want_of_permission_before_anything_is_read(
    factory: FakeUnitOfWorkFactory, step: Callable[[FakeUnitOfWorkFactory, Caller], object]
) -> None:
    # Asked by someone who may not take the step, the answer is the refusal, not whether the
    # job exists or the input was good.
    with pytest.raises(PermissionDenied):
        step(factory, callers.auditor())
    assert factory.opened == []
    assert factory.entry_types() == []
