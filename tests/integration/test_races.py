"""Identical requests at the same moment, on both databases: exactly one is taken.

Eight threads wait at a barrier, then each makes the same state-changing request through the
facility's unit-of-work factory (each its own transaction, as eight API requests would be).
Exactly one succeeds; the others are refused with a 409 (Conflict) saying why, never a database
error; the ledger holds exactly one entry of the step; verification and replay stay clean.

On PostgreSQL a writer used to read what it checks (the job's state, the seal's holder) before
taking the ledger's lock, so several requests all passed their checks: a device released six
times, five seals fitted to one device, eight valid work orders, and 500s from unique keys.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pyotp
import pytest

from tests.duis_responses import DUIS_XSD, Listed, read_inventory
from tests.integration.conftest import CLEAN, Staffed
from tests.unit.services.disposal_seed import destruction_today
from triage.adapters.replay import replay_check
from triage.domain.caller import Caller
from triage.domain.lifecycle import JobState
from triage.domain.roles import Role
from triage.domain.seals import SealStatus
from triage.duis import schema as duis_schema
from triage.entrypoints.statuses import status_of
from triage.errors import Conflict, IllegalTransition, NotFound, TriageError
from triage.ledger.cosignature import generate_cosigner_key
from triage.ledger.entry import Ref
from triage.services import (
    anomaly,
    assessment,
    auth,
    duis_requests,
    hub_returns,
    incidents,
    intake,
    inventory,
    job_steps,
    operators,
    seals,
    tokens,
    tools,
    witnessing,
)
from triage.services import ledger as ledger_service
from triage.services.common import make_entry

N = 8
D1, D2 = "BC-33-AC-FF-FE-FA-57-01", "BC-33-AC-FF-FE-FA-57-02"
DCC_USER = "90-B3-D5-1F-30-01-00-00"


class Outcomes:
    """What each of the N racing calls returned or raised."""

    def __init__(self) -> None:
        self.results: list[Any] = []
        self.refusals: list[TriageError] = []
        self.failures: list[BaseException] = []


def race(step: Callable[[int], Any], n: int = N) -> Outcomes:
    """Run ``step(i)`` for i in 0..n-1 in n threads released together by a barrier."""
    barrier = threading.Barrier(n)
    outcomes = Outcomes()
    guard = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            result = step(i)
        except TriageError as exc:
            with guard:
                outcomes.refusals.append(exc)
        except BaseException as exc:  # a database error: what the test exists to catch
            with guard:
                outcomes.failures.append(exc)
        else:
            with guard:
                outcomes.results.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a racing request never finished"
    return outcomes


def one_wins(outcomes: Outcomes, refused: type[TriageError] = Conflict, says: str = "") -> Any:
    """Exactly one success; every other call refused with ``refused`` saying ``says``."""
    assert outcomes.failures == [], f"errors that are not refusals: {outcomes.failures!r}"
    assert len(outcomes.results) == 1, (
        f"{len(outcomes.results)} of {N} identical requests succeeded"
    )
    assert len(outcomes.refusals) == N - 1
    for refusal in outcomes.refusals:
        assert isinstance(refusal, refused), repr(refusal)
        assert says in str(refusal), str(refusal)
    return outcomes.results[0]


def recorded(staffed: Staffed, entry_type: str, subject: Ref, **data: Any) -> int:
    """How many entries of ``entry_type`` about ``subject`` (with ``data``) the ledger holds."""
    return sum(
        1
        for e in staffed.entries(entry_type)
        if e.subject == subject and all(e.data.get(k) == v for k, v in data.items())
    )


def assert_record_clean(staffed: Staffed) -> None:
    app = staffed.app
    assert ledger_service.verify(
        app.uow, ledger_service.LEDGER_ACTOR, app.verifier_key(), app.origin
    ).ok
    assert replay_check(app.database, app.facility.id).differences == []


def device(device_id: str) -> Ref:
    return Ref("device", device_id)


# -- the bench ---------------------------------------------------------------------------------


def test_one_of_eight_work_orders_for_a_device_is_issued(staffed: Staffed) -> None:
    staffed.manifest("C-1", [D1])
    job = staffed.receive(D1)
    key = staffed.app.signer_key()
    outcomes = race(
        lambda _: job_steps.authorise_reset(staffed.app.uow, staffed.ben, job.id, "BENCH-1", key)
    )
    one_wins(outcomes, Conflict, "still valid")
    assert recorded(staffed, "reset.authorised", device(D1)) == 1
    assert staffed.job(job.id).state is JobState.RESET_AUTHORISED
    assert_record_clean(staffed)


def test_one_of_eight_inspections_is_recorded(staffed: Staffed) -> None:
    staffed.manifest("C-1", [D1])
    scanned = intake.scan_device(staffed.app.uow, staffed.ben, D1)
    assert scanned.job is not None
    job_id = scanned.job.id
    staffed.record_log(job_id)
    outcomes = race(lambda _: job_steps.inspect(staffed.app.uow, staffed.ben, job_id, CLEAN))
    one_wins(outcomes, IllegalTransition, "cannot inspect a device that is eligible")
    assert recorded(staffed, "device.inspected", device(D1)) == 1
    assert recorded(staffed, "device.decided", device(D1)) == 1
    assert_record_clean(staffed)


def test_one_of_eight_identical_overrides_is_recorded(staffed: Staffed) -> None:
    staffed.manifest("C-1", [D1])
    scanned = intake.scan_device(staffed.app.uow, staffed.sup, D1)
    assert scanned.job is not None
    job_id = scanned.job.id
    staffed.record_log(job_id)
    evidence = {**CLEAN, "outer_covers_opened": ["terminal"]}
    assert job_steps.inspect(staffed.app.uow, staffed.sup, job_id, evidence).outcome.value == (
        "supervisor_review"
    )
    why = "terminal cover opened by supplier job J-123, paperwork seen"
    outcomes = race(
        lambda _: job_steps.override(staffed.app.uow, staffed.sup2, job_id, "eligible", why)
    )
    one_wins(outcomes, Conflict, f"job {job_id} is already eligible")
    assert recorded(staffed, "decision.overridden", device(D1)) == 1
    assert staffed.job(job_id).state is JobState.ELIGIBLE
    assert_record_clean(staffed)


def test_one_of_eight_seals_is_fitted_to_a_device(staffed: Staffed) -> None:
    staffed.manifest("C-1", [D1])
    job_id = staffed.reset(staffed.receive(D1).id).id
    # Eight different seals, all ben's, fitted to the one device at once.
    serials = [f"SL-{n:04d}" for n in range(1, N + 1)]
    outcomes = race(lambda i: job_steps.seal(staffed.app.uow, staffed.ben, job_id, serials[i]))
    sealed = one_wins(outcomes, IllegalTransition, "cannot seal a device that is sealed")
    assert recorded(staffed, "seal.fitted", device(D1)) == 1
    with staffed.app.uow(write=False) as uow:
        found = uow.seals.seals_by_serial(serials)
    fitted = [s for s in serials if found[s].status is SealStatus.FITTED]
    assert fitted == [sealed.seal_serial]
    assert all(found[s].holder == "ben" for s in serials if s not in fitted)
    assert_record_clean(staffed)


def _sealed(staffed: Staffed, device_id: str) -> str:
    job_id = staffed.reset(staffed.receive(device_id).id).id
    job_steps.seal(staffed.app.uow, staffed.ben, job_id, "SL-0001")
    return job_id


def test_one_of_eight_releases_is_recorded(staffed: Staffed) -> None:
    staffed.manifest("C-1", [D1])
    job_id = _sealed(staffed, D1)
    outcomes = race(lambda _: job_steps.release(staffed.app.uow, staffed.ben, job_id))
    one_wins(outcomes, IllegalTransition, "cannot release a device that is released")
    assert recorded(staffed, "device.released", device(D1)) == 1
    assert_record_clean(staffed)


def test_one_of_eight_quarantines_is_recorded(staffed: Staffed) -> None:
    staffed.manifest("C-1", [D1])
    job_id = staffed.receive(D1).id
    reason = "set aside for a sample check"
    outcomes = race(lambda _: job_steps.quarantine(staffed.app.uow, staffed.sup, job_id, reason))
    one_wins(outcomes, IllegalTransition, "cannot quarantine a device that is quarantined")
    assert recorded(staffed, "device.quarantined", device(D1)) == 1
    assert_record_clean(staffed)


def test_one_of_eight_disposals_is_recorded(staffed: Staffed) -> None:
    staffed.manifest("C-1", [D1])
    job = staffed.receive(D1, {**CLEAN, "cpa_boundary_intact": False})
    assert job.state is JobState.QUARANTINED
    # Half ask to destroy it, half to return it: only one of them happens.
    outcomes = race(
        lambda i: job_steps.dispose(
            staffed.app.uow,
            staffed.sup,
            job.id,
            ("destroy", "return")[i % 2],
            f"REF-{i}",
            destruction_today() if i % 2 == 0 else None,
        )
    )
    done = one_wins(outcomes, IllegalTransition, "a device that is")
    assert (
        recorded(staffed, "device.destroyed", device(D1))
        + recorded(staffed, "device.returned_to_manufacturer", device(D1))
        == 1
    )
    assert done.state in (JobState.DESTROYED, JobState.RETURNED_TO_MANUFACTURER)
    assert_record_clean(staffed)


# -- seals -------------------------------------------------------------------------------------


def test_one_seal_is_issued_to_one_of_eight_operators(staffed: Staffed) -> None:
    # SL-0061 is in stock; eight requests hand it to ben, sup or sup2.
    takers = ["ben", "sup", "sup2"]
    outcomes = race(
        lambda i: seals.issue(staffed.app.uow, staffed.stores, takers[i % 3], serials=["SL-0061"])
    )
    (issued,) = one_wins(outcomes, Conflict, "SL-0061")
    assert recorded(staffed, "seal.issued", Ref("seal", "SL-0061")) == 1
    with staffed.app.uow(write=False) as uow:
        assert uow.seals.seal("SL-0061").holder == issued.holder  # type: ignore[union-attr]
    assert_record_clean(staffed)


def test_one_of_eight_returns_of_a_seal_is_recorded(staffed: Staffed) -> None:
    outcomes = race(
        lambda _: seals.return_to_stock(staffed.app.uow, staffed.stores, serials=["SL-0010"])
    )
    one_wins(outcomes, Conflict, "SL-0010")
    assert recorded(staffed, "seal.returned", Ref("seal", "SL-0010")) == 1
    assert_record_clean(staffed)


def test_one_of_eight_voids_of_a_seal_is_recorded(staffed: Staffed) -> None:
    reason = "cracked in the packet"
    outcomes = race(lambda _: seals.void(staffed.app.uow, staffed.stores, "SL-0011", reason))
    one_wins(outcomes, Conflict, "SL-0011")
    assert recorded(staffed, "seal.voided", Ref("seal", "SL-0011")) == 1
    assert_record_clean(staffed)


def test_one_of_eight_losses_of_a_seal_is_recorded(staffed: Staffed) -> None:
    reason = "not in the drawer at stocktake"
    outcomes = race(lambda _: seals.lose(staffed.app.uow, staffed.stores, "SL-0012", reason))
    one_wins(outcomes, Conflict, "SL-0012")
    # One loss, so one open discrepancy for security to resolve, not eight.
    assert recorded(staffed, "seal.lost", Ref("seal", "SL-0012")) == 1
    assert_record_clean(staffed)


def test_one_of_eight_identical_seal_batches_is_received(staffed: Staffed) -> None:
    outcomes = race(
        lambda _: seals.receive_batch(
            staffed.app.uow,
            staffed.stores,
            supplier="Acme Seals",
            delivery_reference="DN-2",
            iso_class="H",
            class_description=None,
            store="STORE-A",
            first="SL-0201",
            last="SL-0210",
        )
    )
    one_wins(outcomes, Conflict, "already in the seal register")
    received = [
        e for e in staffed.entries("seal.batch_received") if e.data.get("first") == "SL-0201"
    ]
    assert len(received) == 1
    assert_record_clean(staffed)


# -- intake ------------------------------------------------------------------------------------


def test_one_of_eight_closes_of_a_consignment_is_recorded(staffed: Staffed) -> None:
    consignment_id = staffed.manifest("C-1", [D1, D2])
    outcomes = race(
        lambda _: intake.close_consignment(staffed.app.uow, staffed.sup, consignment_id)
    )
    one_wins(outcomes, Conflict, "consignment C-1 of MAP-1 is already closed")
    assert recorded(staffed, "consignment.closed", Ref("consignment", consignment_id)) == 1
    assert_record_clean(staffed)


def test_eight_scans_of_one_device_open_one_job(staffed: Staffed) -> None:
    staffed.manifest("C-1", [D1])
    outcomes = race(lambda _: intake.scan_device(staffed.app.uow, staffed.ben, D1))
    # Scanning a device already received is not an error: it answers with the open job.
    assert outcomes.failures == [] and outcomes.refusals == []
    assert len({r.job.id for r in outcomes.results}) == 1
    assert sum(r.message.startswith("already received") for r in outcomes.results) == N - 1
    assert recorded(staffed, "device.received", device(D1)) == 1
    assert_record_clean(staffed)


# -- people and security -----------------------------------------------------------------------


def _token_of_ben(staffed: Staffed) -> str:
    """A token ben mints for himself, signed in with his second factor; returns its id."""
    app = staffed.app
    code = auth.issue_activation(app.uow, staffed.admin, "ben")
    password = "Kettle-Harbour-Lantern-47"
    secret, _ = auth.activate(app.uow, "ben", code, password, box=app.secret_box())
    recovery = auth.confirm_mfa(
        app.uow, "ben", code, pyotp.TOTP(secret).now(), box=app.secret_box()
    )
    session = auth.login(app.uow, "ben", password, recovery[0], "192.0.2.10", box=app.secret_box())
    ben = auth.authenticate_session(app.uow, session.secret).caller
    return tokens.issue_token(app.uow, ben, "ben", label="tablet").token_id


def test_one_of_eight_revocations_of_a_token_is_recorded(staffed: Staffed) -> None:
    token_id = _token_of_ben(staffed)
    outcomes = race(
        lambda _: tokens.revoke_token(
            staffed.app.uow, staffed.admin, token_id, "tablet lost on site"
        )
    )
    one_wins(outcomes, Conflict, f"token {token_id} was already revoked")
    revoked = recorded(staffed, "operator.token_revoked", Ref("operator", "ben"), token_id=token_id)
    assert revoked == 1
    assert_record_clean(staffed)


def test_one_of_eight_unlocks_is_recorded(staffed: Staffed) -> None:
    # The lock as the login service records it after five wrong passwords.
    with staffed.app.uow(write=True) as uow:
        locked = {"reason": "5 failed logins in a row", "failures": 5}
        uow.ledger.record(
            [make_entry(uow, Caller.system("auth"), "auth.locked", Ref("operator", "ben"), locked)]
        )
        uow.commit()
    outcomes = race(
        lambda _: auth.unlock(staffed.app.uow, staffed.admin, "operator", "ben", "checked by phone")
    )
    # The others find nothing left to unlock (404, as a second unlock later would).
    one_wins(outcomes, NotFound, "'ben' is not locked")
    assert recorded(staffed, "auth.unlocked", Ref("operator", "ben")) == 1
    assert_record_clean(staffed)


def test_one_of_eight_suspensions_of_a_tool_is_recorded(staffed: Staffed) -> None:
    outcomes = race(
        lambda _: tools.suspend_tool(staffed.app.uow, staffed.admin, "BENCH-1", "lost on site")
    )
    one_wins(outcomes, Conflict, "tool BENCH-1 is suspended")
    assert recorded(staffed, "tool.suspended", Ref("tool", "BENCH-1")) == 1
    assert_record_clean(staffed)


def test_eight_identical_threshold_settings_are_recorded_once(staffed: Staffed) -> None:
    operators.create_operator(
        staffed.app.uow, Caller.system("test"), "sam", "Sam", frozenset({Role.SECURITY_MANAGER})
    )
    sam = operators.operator_caller(staffed.app.uow, "sam")
    outcomes = race(
        lambda _: anomaly.set_threshold(staffed.app.uow, sam, "tool", "BENCH-1", "resets", 5, 60)
    )
    # Setting what is already in force is no change (an idempotent PUT): all succeed, and the
    # ledger says it once.
    assert outcomes.failures == [] and outcomes.refusals == []
    assert len(outcomes.results) == N
    assert recorded(staffed, "threshold.set", Ref("tool", "BENCH-1"), max_count=5) == 1
    assert_record_clean(staffed)


# -- assessment --------------------------------------------------------------------------------


def _due(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def test_assessment_steps_are_each_taken_once(staffed: Staffed) -> None:
    uow, admin = staffed.app.uow, staffed.admin
    outcomes = race(
        lambda i: assessment.plan(
            uow, admin, "FUSA", "Acme Assurance", f"the facility, plan {i}", _due(10)
        )
    )
    planned = one_wins(outcomes, Conflict, "already in progress")
    about = Ref("assessment", planned.id)  # what its entries are about
    assert len(staffed.entries("assessment.planned")) == 1

    assessment.record_fieldwork(uow, admin, planned.id, _due(10), _due(12))
    finding = assessment.raise_finding(
        uow, admin, planned.id, "G5.2", "medium", "The risk assessment is two years old"
    )
    action = assessment.plan_action(
        uow, admin, finding.id, "Run the annual risk assessment workshop", "sam", _due(40)
    )
    outcomes = race(lambda _: assessment.complete_action(uow, admin, action.id))
    one_wins(outcomes, Conflict, f"remedial action {action.id} is already done")
    assert recorded(staffed, "assessment.action_done", about) == 1

    outcomes = race(
        lambda _: assessment.close_finding(uow, admin, finding.id, "the workshop was held")
    )
    one_wins(outcomes, Conflict, f"finding {finding.id} is closed")
    assert recorded(staffed, "assessment.finding_closed", about) == 1

    outcomes = race(
        lambda i: assessment.record_outcome(
            uow,
            admin,
            planned.id,
            "approval_with_steps",
            [(f"Send the new risk assessment ({i})", _due(60))],
        )
    )
    decided = one_wins(outcomes, Conflict, "is decided")
    assert recorded(staffed, "assessment.outcome_recorded", about) == 1

    step_id = decided.steps[0].id
    outcomes = race(lambda _: assessment.complete_step(uow, admin, step_id))
    one_wins(outcomes, Conflict, f"step {step_id} is already done")
    assert recorded(staffed, "assessment.step_done", about) == 1
    assert_record_clean(staffed)


def test_the_first_writes_of_a_new_facility_race_cleanly(staffed: Staffed) -> None:
    """Eight first inspections of eight devices at once activate the tamper policy once."""
    devices = [f"BC-33-AC-FF-FE-FA-58-{n:02d}" for n in range(N)]
    staffed.manifest("C-1", devices)
    jobs = []
    for device_id in devices:
        scanned = intake.scan_device(staffed.app.uow, staffed.ben, device_id)
        assert scanned.job is not None
        jobs.append(scanned.job.id)
        staffed.record_log(scanned.job.id)
    outcomes = race(lambda i: job_steps.inspect(staffed.app.uow, staffed.ben, jobs[i], CLEAN))
    assert outcomes.failures == [] and outcomes.refusals == []
    assert len(staffed.entries("policy.activated")) == 1
    assert len(staffed.entries("device.decided")) == N
    assert_record_clean(staffed)


def test_a_unique_key_the_checks_missed_is_a_conflict_not_a_database_error(
    staffed: Staffed,
) -> None:
    """The last line of defence: a write the services' checks let through but the database's
    keys refuse (here a second batch of serials already in the register) is a 409 naming the
    clash, and nothing is recorded."""
    (first,) = staffed.entries("seal.batch_received")
    size = staffed.ledger_size()
    again = {**first.data, "batch_id": "00000000-0000-4000-8000-000000000001"}
    with (
        pytest.raises(Conflict, match="clashes with what is already recorded") as refused,
        staffed.app.uow(write=True) as uow,
    ):
        batch = Ref("seal_batch", again["batch_id"])
        uow.ledger.record([make_entry(uow, staffed.stores, "seal.batch_received", batch, again)])
        uow.commit()
    assert "seal" in str(refused.value)
    assert status_of(refused.value) == 409
    assert staffed.ledger_size() == size
    assert_record_clean(staffed)


# -- the national inventory and the incident register (issue 20) -------------------------------


def test_one_of_eight_imports_of_a_read_inventory_response_is_recorded(staffed: Staffed) -> None:
    staffed.manifest("C-1", [D1])
    xml = read_inventory(Listed(D1, "ESME", "Decommissioned", "Acme", "M1", None, "1.0"))
    store = staffed.app.evidence_store()
    outcomes = race(
        lambda _: inventory.import_response(staffed.app.uow, staffed.stores, store, xml)
    )
    one_wins(outcomes, Conflict, "imported already")
    assert len(staffed.entries("inventory.response_imported")) == 1
    assert recorded(staffed, "device.inventory_read", device(D1)) == 1
    assert_record_clean(staffed)


def test_one_of_eight_returns_of_a_hub_to_the_dcc_is_recorded(staffed: Staffed) -> None:
    staffed.manifest("C-1", [D1], device_type="CHF")
    duis_requests.set_dcc_user(staffed.app.uow, staffed.admin, "MAP-1", DCC_USER)
    staffed.receive(D1)
    schema = duis_schema.load(DUIS_XSD)
    outcomes = race(
        lambda i: hub_returns.return_hub(
            staffed.app.uow,
            staffed.sup,
            schema,
            D1,
            "no_fault",
            "No Fault Return (general)",
            f"DCC-RET-{i}",
        )
    )
    one_wins(outcomes, Conflict, "has no open triage job")
    assert recorded(staffed, "device.returned_to_dcc", device(D1)) == 1
    # The hub's 8.14.4 request is written once, with the return that won.
    assert recorded(staffed, "duis.request_written", device(D1)) == 1
    assert_record_clean(staffed)


def test_one_of_eight_batches_of_an_owner_s_duis_requests_is_produced(staffed: Staffed) -> None:
    staffed.manifest("C-1", [D1])
    duis_requests.set_dcc_user(staffed.app.uow, staffed.admin, "MAP-1", DCC_USER)
    job_steps.release(staffed.app.uow, staffed.ben, _sealed(staffed, D1))
    schema, store = duis_schema.load(DUIS_XSD), staffed.app.evidence_store()
    outcomes = race(
        lambda _: duis_requests.produce_batch(
            staffed.app.uow, staffed.stores, schema, store, "MAP-1"
        )
    )
    done = one_wins(outcomes, Conflict, "no DUIS request is due for asset owner MAP-1")
    assert len(staffed.entries("duis.batch_produced")) == 1
    # Its requests were written once each, not once per producer.
    written = staffed.entries("duis.request_written")
    assert len(written) == len(done.requests) and written
    assert_record_clean(staffed)


def test_one_of_eight_notifications_to_the_ssc_is_recorded(staffed: Staffed) -> None:
    system = Caller.system("test")
    operators.create_operator(
        staffed.app.uow, system, "sam", "Sam", frozenset({Role.SECURITY_MANAGER})
    )
    manager = operators.operator_caller(staffed.app.uow, "sam")
    raised = incidents.raise_incident(
        staffed.app.uow,
        manager,
        title="Door to the bench room found open",
        summary="found open at 07:00",
        severity="high",
        category="physical_tamper",
    )
    outcomes = race(
        lambda i: incidents.notify(staffed.app.uow, manager, raised.id, "ssc", f"SSC-{i}")
    )
    one_wins(outcomes, Conflict, "was already recorded")
    assert recorded(staffed, "incident.notified", Ref("incident", raised.id)) == 1
    assert_record_clean(staffed)


def test_eight_suspensions_of_a_tool_raise_one_incident(staffed: Staffed) -> None:
    race(lambda _: tools.suspend_tool(staffed.app.uow, staffed.admin, "BENCH-1", "lost on site"))
    raised = staffed.entries("incident.raised")
    assert [(e.data["source"], e.data["about_id"]) for e in raised] == [
        ("tool_suspended", "BENCH-1")
    ]
    assert_record_clean(staffed)


def test_one_of_eight_identical_witness_policies_is_recorded(staffed: Staffed) -> None:
    """The policy in force is read under the writer lock: the same policy set eight times at
    once is recorded once, the rest refused as already in force."""
    _, w1 = generate_cosigner_key("witness.test/w1")
    text = f"witness w1 {w1} http://127.0.0.1:9/\nquorum w1\n"
    app = staffed.app
    one_wins(
        race(lambda _: witnessing.set_policy(app.uow, staffed.admin, text, app.verifier_key())),
        says="already the witness policy in force",
    )
    assert recorded(staffed, "ledger.witness_policy_set", Ref("ledger", app.facility.id)) == 1
    assert_record_clean(staffed)
