"""The device's security log as the inspection's evidence, on the fake unit of work: read orders,
the tool's signed readings and every refusal, a supervisor's upload of the supplier's response,
the log the inspection uses (or the typed fallback), and reading it back."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import pytest

from tests.gbcs_logs import clean_log, error_answer, security_log
from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers, people_seed
from tests.unit.services.workflow_seed import (
    FACILITY_SIGNER,
    FACILITY_VERIFIER,
    INTACT,
    Bench,
    at_the_bench,
    authorise,
    device_fields,
    device_id,
    evidence_store,
    log_recorded,
    received,
    register_owners,
)
from triage import gbcs
from triage.domain.caller import Caller
from triage.domain.consignment import ManifestRow
from triage.domain.job import TriageJob
from triage.domain.lifecycle import JobState
from triage.domain.security_log_reading import SecurityLogReading
from triage.domain.tamper_policy import LogSource, Outcome
from triage.domain.tool import ToolStatus
from triage.domain.work_order import READ_SECURITY_LOG, SECURITY_LOG_PROFILE, WorkOrder
from triage.errors import Conflict, IllegalTransition, InvalidInput, NotFound, PermissionDenied
from triage.ledger.entry import Entry
from triage.services import intake, job_steps, steps_by_device
from triage.services import security_log as service
from triage.services.views import jobs

SUPERVISOR = callers.supervisor()
FAILING_BATTERY = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@pytest.fixture
def at_bench(factory: FakeUnitOfWorkFactory) -> Bench:
    return at_the_bench(factory)


@pytest.fixture
def job(factory: FakeUnitOfWorkFactory, at_bench: Bench) -> TriageJob:
    return received(factory, 1)


def _order(factory: FakeUnitOfWorkFactory, at_bench: Bench, job_id: str) -> WorkOrder:
    signed = service.request_read(factory, at_bench.operator, job_id, "T1", FACILITY_SIGNER)
    return WorkOrder.open(signed, FACILITY_VERIFIER)


def _reading(
    factory: FakeUnitOfWorkFactory,
    at_bench: Bench,
    order: WorkOrder,
    gbcs: bytes | None = None,
    **changes: object,
) -> str:
    """The tool's signed reading of the device's log (by default a clean one) under ``order``."""
    reading = SecurityLogReading(
        work_order_id=order.id,
        nonce=order.nonce,
        tool_id=order.tool_id,
        device_id=order.device_id,
        read_at=factory.clock.now(),
        gbcs=clean_log(order.device_id) if gbcs is None else gbcs,
    )
    return dataclasses.replace(reading, **changes).sign(at_bench.tool_signer)  # type: ignore[arg-type]


def _recorded(factory: FakeUnitOfWorkFactory) -> list[Entry]:
    return [e for e in factory.entries() if e.type == service.RECORDED]


def _read_by_tool(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob, entries: Iterable[object]
) -> str:
    """The tool reads the device's log holding ``entries`` (code, time); returns its sha256."""
    order = _order(factory, at_bench, job.id)
    raw = security_log(job.device_id, "ESME", entries)  # type: ignore[arg-type]
    service.record_reading(
        factory, at_bench.tool, evidence_store(factory), _reading(factory, at_bench, order, raw)
    )
    return hashlib.sha256(raw).hexdigest()


# -- read orders ------------------------------------------------------------------------------


def test_the_operator_at_the_bench_orders_the_tool_to_read_the_log(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob
) -> None:
    order = _order(factory, at_bench, job.id)

    assert (order.action, order.profile) == (READ_SECURITY_LOG, SECURITY_LOG_PROFILE)
    assert (order.tool_id, order.device_id, order.job_id) == ("T1", job.device_id, job.id)
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject.id, entry.actor.id) == (
        service.READ_ORDERED,
        job.device_id,
        "op",
    )
    assert entry.data["work_order_id"] == order.id
    # The tool fetches it with its other work orders; the job does not move.
    [signed] = job_steps.work_orders_for_tool(factory, at_bench.tool)
    assert WorkOrder.open(signed, FACILITY_VERIFIER) == order
    assert jobs.job_detail(factory, SUPERVISOR, job.id).job.state is JobState.RECEIVED


def test_a_new_read_order_replaces_the_one_not_carried_out(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob
) -> None:
    first = _order(factory, at_bench, job.id)
    second = _order(factory, at_bench, job.id)

    [signed] = job_steps.work_orders_for_tool(factory, at_bench.tool)
    assert WorkOrder.open(signed, FACILITY_VERIFIER).id == second.id
    with pytest.raises(InvalidInput, match="superseded"):
        service.record_reading(
            factory, at_bench.tool, evidence_store(factory), _reading(factory, at_bench, first)
        )


def test_a_read_order_asked_for_away_from_the_tools_bench_is_refused_on_the_record(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob
) -> None:
    people_seed.assign(factory, "op", "BENCH-1", "BENCH-2")
    elsewhere = callers.bench_operator("op", bench="BENCH-2")

    with pytest.raises(PermissionDenied, match="must be requested by an operator signed in"):
        service.request_read(factory, elsewhere, job.id, "T1", FACILITY_SIGNER)

    assert factory.entry_types()[-1] == "auth.refused"
    assert job_steps.work_orders_for_tool(factory, at_bench.tool) == []


def test_a_read_order_needs_the_inspect_permission_and_a_device_not_yet_inspected(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob
) -> None:
    with pytest.raises(PermissionDenied):
        service.request_read(factory, callers.stores(), job.id, "T1", FACILITY_SIGNER)
    with pytest.raises(NotFound):
        service.request_read(factory, at_bench.operator, job.id, "T9", FACILITY_SIGNER)
    log_recorded(factory, job)
    job_steps.inspect(factory, at_bench.operator, job.id, INTACT)
    before = factory.entry_types()

    with pytest.raises(Conflict, match="recorded before the device is inspected"):
        service.request_read(factory, at_bench.operator, job.id, "T1", FACILITY_SIGNER)

    assert factory.entry_types() == before


def test_an_expired_read_order_is_not_swept_as_a_failed_reset(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob
) -> None:
    _order(factory, at_bench, job.id)
    factory.clock.advance(timedelta(hours=2))

    assert job_steps.sweep_expired_orders(factory) == []
    assert job_steps.work_orders_for_tool(factory, at_bench.tool) == []
    assert jobs.job_detail(factory, SUPERVISOR, job.id).job.state is JobState.RECEIVED


def test_a_reset_order_is_not_carried_out_as_a_read(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    # Device 2 went through inspection with its own log; its reset order is not a read order.
    job = received(factory, 2, reference="CN-2")
    log_recorded(factory, job)
    job_steps.inspect(factory, at_bench.operator, job.id, INTACT)
    reset = authorise(factory, at_bench, job.id)

    with pytest.raises(InvalidInput, match="factory_reset order, not a read"):
        service.record_reading(
            factory, at_bench.tool, evidence_store(factory), _reading(factory, at_bench, reset)
        )


# -- the tool's reading -----------------------------------------------------------------------


def test_the_tools_reading_is_kept_and_recorded_with_the_devices_times(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob
) -> None:
    order = _order(factory, at_bench, job.id)
    raw = security_log(job.device_id, "ESME", [(0x8F1F, FAILING_BATTERY)])
    store = evidence_store(factory)

    record = service.record_reading(
        factory, at_bench.tool, store, _reading(factory, at_bench, order, raw)
    )

    sha256 = hashlib.sha256(raw).hexdigest()
    assert (record.sha256, record.size, record.use_case, record.outcome) == (
        sha256,
        len(raw),
        "ECS35b",
        "success",
    )
    assert record.source is LogSource.TOOL
    assert dict(record.source_detail) == {"tool_id": "T1", "work_order_id": order.id}
    assert [(a.code, a.at) for a in record.entries] == [(0x8F1F, FAILING_BATTERY)]
    assert store.read(sha256) == raw
    [entry] = _recorded(factory)
    assert (entry.subject.id, entry.actor.id) == (job.device_id, "T1")
    assert entry.data["sha256"] == sha256
    assert (entry.data["bytes"], entry.data["entries"]) == (len(raw), 1)
    assert entry.data["log"] == [{"code": 0x8F1F, "at": "2026-11-20T08:00:00.000000Z"}]
    assert entry.data["source"] == {"kind": "tool", "tool_id": "T1", "work_order_id": order.id}
    # The order is carried out: the tool is not handed it again.
    assert job_steps.work_orders_for_tool(factory, at_bench.tool) == []


def test_the_same_reading_sent_again_changes_nothing(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob
) -> None:
    order = _order(factory, at_bench, job.id)
    signed = _reading(factory, at_bench, order)
    store = evidence_store(factory)
    first = service.record_reading(factory, at_bench.tool, store, signed)
    before = factory.entry_types()

    again = service.record_reading(factory, at_bench.tool, store, signed)

    assert again == first
    assert factory.entry_types() == before


Tamper = Callable[[FakeUnitOfWorkFactory, Bench, TriageJob, WorkOrder], str]


def _other_tools_reading(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob, order: WorkOrder
) -> str:
    other = people_seed.enrol_tool(factory, "T2", "BENCH-1")
    reading = SecurityLogReading(
        order.id, order.nonce, "T2", order.device_id, factory.clock.now(), clean_log(job.device_id)
    )
    return reading.sign(other.signer_key)


def _replayed(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob, order: WorkOrder
) -> str:
    store = evidence_store(factory)
    service.record_reading(factory, at_bench.tool, store, _reading(factory, at_bench, order))
    # Another reading under the same order: a replay, even with the device's own log.
    changed = security_log(job.device_id, "ESME", [(0x8F3F, FAILING_BATTERY)])
    return _reading(factory, at_bench, order, changed)


def _expired(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob, order: WorkOrder
) -> str:
    factory.clock.advance(timedelta(hours=1))
    return _reading(factory, at_bench, order)


REFUSALS: dict[str, tuple[Tamper, str]] = {
    "another tool's order": (_other_tools_reading, "was not issued to tool T2"),
    "another device": (
        lambda f, b, j, o: _reading(f, b, o, device_id=device_id(9)),
        "does not match read order",
    ),
    "a wrong nonce": (
        lambda f, b, j, o: _reading(f, b, o, nonce="0" * 32),
        "does not match read order",
    ),
    "a replayed reading": (_replayed, "is completed"),
    "an expired order": (_expired, "expired at"),
    "a log of another device": (
        lambda f, b, j, o: _reading(f, b, o, clean_log(device_id(9))),
        f"comes from device {device_id(9)}, not from",
    ),
    "an event log": (
        lambda f, b, j, o: _reading(f, b, o, _event_log(j.device_id)),
        "ECS35a Read ESME Event Log",
    ),
    "a gas meter's log for an electricity meter": (
        lambda f, b, j, o: _reading(f, b, o, clean_log(j.device_id, "GSME")),
        "read with ECS35b",
    ),
    "garbage bytes": (
        lambda f, b, j, o: _reading(f, b, o, b"\xdd\x00garbage"),
        "not a 6.13 security log response: byte",
    ),
    "a signature not the tool's": (
        lambda f, b, j, o: SecurityLogReading(
            o.id, o.nonce, "T1", o.device_id, f.clock.now(), clean_log(j.device_id)
        ).sign(FACILITY_SIGNER),
        "not signed by the tool's key",
    ),
}


def _event_log(device: str) -> bytes:
    """The device's event log (ECS35a), not its security log."""
    response = gbcs.decode(clean_log(device))
    event = dataclasses.replace(response, use_case=gbcs.USE_CASES["ECS35a"])
    return gbcs.encode(event)


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_reading_that_does_not_match_is_refused_on_the_record_and_nothing_is_kept(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob, case: str
) -> None:
    tamper, problem = REFUSALS[case]
    order = _order(factory, at_bench, job.id)
    signed = tamper(factory, at_bench, job, order)
    recorded_before = len(_recorded(factory))
    store = evidence_store(factory)
    files_before = dict(store.files)
    caller = at_bench.tool if case != "another tool's order" else Caller.tool("T2")

    with pytest.raises(InvalidInput, match=problem):
        service.record_reading(factory, caller, store, signed)

    assert len(_recorded(factory)) == recorded_before
    assert store.files == files_before
    refusal = factory.entries()[-1]
    assert (refusal.type, refusal.subject.kind, refusal.subject.id) == (
        "tool.result_refused",
        "tool",
        caller.id,
    )
    assert refusal.data["reason"].startswith("security log reading refused:")


def test_refused_readings_count_against_the_tool_like_refused_results(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob
) -> None:
    order = _order(factory, at_bench, job.id)
    garbage = _reading(factory, at_bench, order, b"not a GBCS message")
    for _ in range(6):  # the default allows five refused commands an hour
        with pytest.raises(InvalidInput):
            service.record_reading(factory, at_bench.tool, evidence_store(factory), garbage)

    # The read order still outstanding is withdrawn with the suspension.
    assert factory.entry_types()[-4:] == [
        "alert.raised",
        "tool.suspended",
        "work_order.withdrawn",
        "incident.raised",
    ]
    with factory(write=False) as uow:
        tool = uow.tools.get("T1")
    assert tool is not None and tool.status is ToolStatus.SUSPENDED


def test_only_an_active_tool_records_a_reading(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob
) -> None:
    order = _order(factory, at_bench, job.id)
    with pytest.raises(PermissionDenied):
        service.record_reading(
            factory, at_bench.operator, evidence_store(factory), _reading(factory, at_bench, order)
        )
    with pytest.raises(PermissionDenied, match="not an active enrolled tool"):
        service.record_reading(
            factory,
            Caller.tool("T7"),
            evidence_store(factory),
            _reading(factory, at_bench, order),
        )
    assert _recorded(factory) == []


# -- a supervisor's upload ---------------------------------------------------------------------


def test_a_supervisor_uploads_the_suppliers_response_as_hex_text(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob
) -> None:
    raw = security_log(job.device_id, "ESME", [(0x8F3F, FAILING_BATTERY)])

    record = service.upload(
        factory, SUPERVISOR, evidence_store(factory), job.id, raw.hex().upper(), " SR-1234 "
    )

    assert record.sha256 == hashlib.sha256(raw).hexdigest()
    assert evidence_store(factory).read(record.sha256) == raw  # the bytes, not the hex text
    assert record.source is LogSource.SUPPLIER
    assert dict(record.source_detail) == {"uploaded_by": "sup", "reference": "SR-1234"}
    [entry] = _recorded(factory)
    assert (entry.actor.id, entry.data["use_case"], entry.data["entries"]) == ("sup", "ECS35b", 1)


@pytest.mark.parametrize(
    ("raw", "reference", "problem"),
    [
        (b"garbage", "SR-1", "gbcs: "),
        (b"\xdd\x00\x00", "SR-1", "not a 6.13 security log response: byte"),
        (b"", "SR-1", "gbcs: "),
        (None, "", "reference: give the supplier's reference"),
        (None, "x" * 101, "reference: "),
    ],
)
def test_an_upload_that_is_not_a_security_log_is_refused(
    factory: FakeUnitOfWorkFactory,
    at_bench: Bench,
    job: TriageJob,
    raw: bytes | None,
    reference: str,
    problem: str,
) -> None:
    message = clean_log(job.device_id) if raw is None else raw
    with pytest.raises(InvalidInput, match=problem):
        service.upload(factory, SUPERVISOR, evidence_store(factory), job.id, message, reference)
    assert _recorded(factory) == []
    assert evidence_store(factory).files == {}


def test_an_upload_is_for_the_jobs_device_by_a_supervisor_before_the_inspection(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob
) -> None:
    store = evidence_store(factory)
    with pytest.raises(PermissionDenied):
        service.upload(factory, at_bench.operator, store, job.id, clean_log(job.device_id), "SR")
    with pytest.raises(InvalidInput, match=f"comes from device {device_id(2)}"):
        service.upload(factory, SUPERVISOR, store, job.id, clean_log(device_id(2)), "SR")
    with pytest.raises(NotFound):
        service.upload(factory, SUPERVISOR, store, "no-such-job", clean_log(job.device_id), "SR")
    log_recorded(factory, job)
    job_steps.inspect(factory, at_bench.operator, job.id, INTACT)

    with pytest.raises(Conflict, match="before the device is inspected"):
        service.upload(factory, SUPERVISOR, store, job.id, clean_log(job.device_id), "SR")

    assert len(_recorded(factory)) == 1


# -- the inspection uses the log --------------------------------------------------------------


def test_a_battery_alert_days_before_a_tamper_alert_does_not_explain_it(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob
) -> None:
    # The case: typed together, both were stamped with the inspection's time and the
    # tamper alert was "explained"; in the device's log they are five days apart.
    tamper = FAILING_BATTERY + timedelta(days=5)
    sha256 = _read_by_tool(factory, at_bench, job, [(0x8F1F, FAILING_BATTERY), (0x8F73, tamper)])

    decision = job_steps.inspect(factory, at_bench.operator, job.id, INTACT)

    assert decision.outcome is Outcome.supervisor_review
    [reason] = [r for r in decision.reasons if r.rule == "unexplained-tamper-alert"]
    assert "0x8F73 battery cover removed at 2026-11-25T08:00:00Z" in reason.text
    assert "explained-tamper-alert" not in [r.rule for r in decision.reasons]
    inspected_entry, decided = factory.entries()[-2:]
    assert decided.data["security_log"] == {
        "source": "tool",
        "sha256": sha256,
        "use_case": "ECS35b",
    }
    assert inspected_entry.data["evidence"]["alerts"] == [
        {"code": 0x8F1F, "at": "2026-11-20T08:00:00.000000Z"},
        {"code": 0x8F73, "at": "2026-11-25T08:00:00.000000Z"},
    ]


def test_a_battery_alert_two_hours_before_a_tamper_alert_explains_it_with_the_real_times(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob
) -> None:
    tamper = FAILING_BATTERY + timedelta(hours=2)
    _read_by_tool(factory, at_bench, job, [(0x8F1F, FAILING_BATTERY), (0x8F73, tamper)])

    decision = job_steps.inspect(factory, at_bench.operator, job.id, INTACT)

    assert decision.outcome is Outcome.eligible
    [reason] = decision.reasons
    assert reason.text == (
        "tamper alert explained: 0x8F73 battery cover removed at 2026-11-20T10:00:00Z by "
        "0x8F1F low battery capacity at 2026-11-20T08:00:00Z"
    )


def test_a_supplier_job_naming_the_terminal_cover_explains_its_opening(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob
) -> None:
    opened = datetime(2026, 11, 28, 14, 30, tzinfo=UTC)
    _read_by_tool(factory, at_bench, job, [(0x8F76, opened)])
    job_reason = {
        "kind": "supplier_job",
        "reference": "SJ-778",
        "covers": ["terminal"],
        "on": "2026-11-28",
    }
    evidence = {**INTACT, "outer_covers_opened": ["terminal"], "legitimate_reasons": [job_reason]}

    decision = job_steps.inspect(factory, at_bench.operator, job.id, evidence)

    assert decision.outcome is Outcome.eligible
    texts = {r.rule: r.text for r in decision.reasons}
    assert texts["explained-cover-opening"] == (
        "outer cover opened for a recorded legitimate reason: terminal cover by supplier_job "
        "SJ-778 on 2026-11-28"
    )
    assert (
        "0x8F76 terminal cover removed at 2026-11-28T14:30:00Z" in texts["explained-tamper-alert"]
    )


def test_a_supplier_job_on_another_day_does_not_explain_the_devices_alert(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob
) -> None:
    _read_by_tool(factory, at_bench, job, [(0x8F76, datetime(2026, 11, 2, 9, 0, tzinfo=UTC))])
    job_reason = {"kind": "supplier_job", "reference": "SJ-1", "covers": ["terminal"]}
    evidence = {
        **INTACT,
        "legitimate_reasons": [{**job_reason, "on": "2026-11-28"}],
    }

    decision = job_steps.inspect(factory, at_bench.operator, job.id, evidence)

    assert decision.outcome is Outcome.supervisor_review
    assert [r.rule for r in decision.reasons] == ["unexplained-tamper-alert"]


def test_without_a_log_the_inspection_asks_for_one_or_a_typed_log(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob
) -> None:
    before = factory.entry_types()
    with pytest.raises(InvalidInput, match="typed_log: no security log was read"):
        job_steps.inspect(factory, at_bench.operator, job.id, INTACT)
    with pytest.raises(InvalidInput, match="alerts: the security log comes from the device"):
        job_steps.inspect(
            factory,
            at_bench.operator,
            job.id,
            {**INTACT, "alerts": [{"code": "0x8F3F", "at": "2026-11-20T08:00:00Z"}]},
        )
    assert factory.entry_types() == before


def test_a_typed_log_goes_to_a_supervisor_and_the_decision_says_it_was_typed(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob
) -> None:
    typed = {
        "reason": "log unreadable: optical port damaged",
        "alerts": [{"code": "0x8F1F", "at": "2026-11-20T08:00:00Z"}],
    }

    decision = job_steps.inspect(factory, at_bench.operator, job.id, {**INTACT, "typed_log": typed})

    assert decision.outcome is Outcome.supervisor_review
    assert [r.text for r in decision.reasons] == [
        "security log typed by hand, not read from the device (log unreadable: optical port "
        "damaged): a supervisor must review"
    ]
    inspected_entry, decided = factory.entries()[-2:]
    assert decided.data["security_log"] == {"source": "typed", "sha256": None, "use_case": None}
    assert inspected_entry.data["evidence"]["security_log"]["reason"] == typed["reason"]
    assert inspected_entry.data["evidence"]["alerts"] == [
        {"code": 0x8F1F, "at": "2026-11-20T08:00:00.000000Z"}
    ]


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ({"alerts": []}, "typed_log.reason: must be non-empty text"),
        ({"reason": "log unreadable", "alerts": [{"code": "0x8F3F"}]}, r"typed_log.alerts\[0\].at"),
        ({"reason": "log unreadable", "extra": 1}, "typed_log.extra: is not a field"),
        ("log unreadable", "typed_log: must be an object"),
    ],
)
def test_a_typed_log_needs_a_reason_and_each_codes_time(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob, typed: object, problem: str
) -> None:
    with pytest.raises(InvalidInput, match=problem):
        job_steps.inspect(factory, at_bench.operator, job.id, {**INTACT, "typed_log": typed})


def test_a_log_read_from_the_device_cannot_be_replaced_by_typing(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob
) -> None:
    log_recorded(factory, job)
    typed = {"reason": "log unreadable: I prefer typing", "alerts": []}

    with pytest.raises(InvalidInput, match="typed_log: the device's own log was read"):
        job_steps.inspect(factory, at_bench.operator, job.id, {**INTACT, "typed_log": typed})

    assert jobs.job_detail(factory, SUPERVISOR, job.id).job.state is JobState.RECEIVED


def test_an_error_answer_is_evidence_but_not_a_log(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob
) -> None:
    record = service.upload(
        factory, SUPERVISOR, evidence_store(factory), job.id, error_answer(job.device_id), "SR-9"
    )
    assert (record.outcome, record.status, record.usable) == (
        "error",
        "DLMS data access result 1 (hardware fault)",
        False,
    )
    with pytest.raises(InvalidInput, match="typed_log: no security log was read"):
        job_steps.inspect(factory, at_bench.operator, job.id, INTACT)
    typed = {"reason": "log unreadable: the meter answers with a hardware fault", "alerts": []}

    decision = job_steps.inspect(factory, at_bench.operator, job.id, {**INTACT, "typed_log": typed})

    assert decision.outcome is Outcome.supervisor_review


# -- reading it back --------------------------------------------------------------------------


def test_the_recorded_log_reads_back_with_names_classes_and_the_devices_times(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob
) -> None:
    assert service.for_job(factory, callers.auditor(), job.id) is None
    entries = [(0x8F1F, FAILING_BATTERY), (0x8F3F, FAILING_BATTERY + timedelta(hours=3))]
    sha256 = _read_by_tool(factory, at_bench, job, [*entries, (0x1234, FAILING_BATTERY)])

    shown = service.for_job(factory, callers.auditor(), job.id)

    assert shown is not None
    assert (shown.sha256, shown.source, shown.use_case, shown.usable) == (
        sha256,
        LogSource.TOOL,
        "ECS35b",
        True,
    )
    assert [(e.code, e.name, e.alert_class, e.at) for e in shown.entries] == [
        ("0x8F1F", "low battery capacity", "explaining", FAILING_BATTERY),
        ("0x8F3F", "tamper detect", "tamper", FAILING_BATTERY + timedelta(hours=3)),
        ("0x1234", None, None, FAILING_BATTERY),
    ]
    raw = service.raw(factory, callers.auditor(), evidence_store(factory), job.id, sha256)
    assert hashlib.sha256(raw).hexdigest() == sha256


def test_the_raw_log_is_given_only_for_a_log_recorded_for_the_job_and_intact(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob
) -> None:
    sha256 = _read_by_tool(factory, at_bench, job, [])
    store = evidence_store(factory)
    with pytest.raises(PermissionDenied):
        service.raw(factory, callers.nobody(), store, job.id, sha256)
    with pytest.raises(NotFound):
        service.raw(factory, callers.auditor(), store, job.id, "0" * 64)
    with pytest.raises(NotFound):
        service.for_job(factory, callers.auditor(), "no-such-job")
    store.alter(sha256)
    with pytest.raises(NotFound):
        service.raw(factory, callers.auditor(), store, job.id, sha256)


# -- by device --------------------------------------------------------------------------------


def test_the_log_is_read_uploaded_and_shown_by_the_device_id(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, job: TriageJob
) -> None:
    device = device_id(1).lower()
    issued = steps_by_device.request_read(factory, at_bench.operator, device, "T1", FACILITY_SIGNER)
    assert issued.job_id == job.id
    assert WorkOrder.open(issued.work_order, FACILITY_VERIFIER).action == READ_SECURITY_LOG
    assert steps_by_device.security_log_of(factory, SUPERVISOR, device) is None

    record = steps_by_device.upload_log(
        factory, SUPERVISOR, evidence_store(factory), device, clean_log(job.device_id), "SR-5"
    )

    shown = steps_by_device.security_log_of(factory, SUPERVISOR, device)
    assert shown is not None and shown.sha256 == record.sha256
    job_steps.inspect(factory, at_bench.operator, job.id, INTACT)
    with pytest.raises(IllegalTransition):  # once inspected, a job is not inspected again
        job_steps.inspect(factory, at_bench.operator, job.id, INTACT)


# -- a Type 2 device keeps no security log -------------------------------------------------------


@pytest.fixture
def type_2_job(factory: FakeUnitOfWorkFactory, at_bench: Bench) -> TriageJob:
    """An in-home display (a Type 2 device: no GBCS security credentials) scanned in."""
    rows = [ManifestRow(2, device_fields(7, device_type="TYPE2"))]
    register_owners(factory, "North Energy")
    intake.import_manifest(factory, callers.stores(), "CN-7", "North Energy", rows)
    scanned = intake.scan_device(factory, SUPERVISOR, device_id(7))
    assert scanned.job is not None, scanned.message
    return scanned.job


def test_a_type_2_device_is_inspected_without_a_log_and_the_decision_says_why(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, type_2_job: TriageJob
) -> None:
    decision = job_steps.inspect(factory, at_bench.operator, type_2_job.id, INTACT)

    assert decision.outcome is Outcome.eligible
    inspected_entry, decided = factory.entries()[-2:]
    assert decided.data["security_log"] == {"source": "none", "sha256": None, "use_case": None}
    assert inspected_entry.data["evidence"]["security_log"]["reason"] == service.NO_LOG_KEPT


def test_a_type_2_devices_log_is_neither_read_uploaded_nor_typed(
    factory: FakeUnitOfWorkFactory, at_bench: Bench, type_2_job: TriageJob
) -> None:
    before = factory.entry_types()
    with pytest.raises(Conflict, match="keeps no GBCS security log"):
        service.request_read(factory, at_bench.operator, type_2_job.id, "T1", FACILITY_SIGNER)
    with pytest.raises(Conflict, match="keeps no GBCS security log"):
        service.upload(
            factory,
            SUPERVISOR,
            evidence_store(factory),
            type_2_job.id,
            clean_log(type_2_job.device_id, "GSME"),
            "SR-1",
        )
    typed = {"reason": "log unreadable: no display", "alerts": []}
    with pytest.raises(InvalidInput, match="typed_log: a Type 2 device"):
        job_steps.inspect(factory, at_bench.operator, type_2_job.id, {**INTACT, "typed_log": typed})
    assert factory.entry_types() == before
