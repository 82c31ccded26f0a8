"""The triage workflow through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.integration.conftest import CLEAN, Staffed
from tests.unit.services.disposal_seed import destruction_today
from triage.adapters.devices.simulated import SimulatedFleet
from triage.adapters.replay import replay_check
from triage.adapters.tables import triage_job
from triage.domain.consignment import ManifestRow
from triage.domain.lifecycle import JobState
from triage.domain.tamper_policy import TamperPolicy
from triage.domain.work_order import ToolResult
from triage.errors import Conflict, IllegalTransition, InvalidInput, PermissionDenied
from triage.ledger.receipt import verify_receipt
from triage.services import history, intake, job_steps, photos, tamper_policy
from triage.services import ledger as ledger_service
from triage.services.intake import ManifestRejected
from triage.services.views import consignments as consignment_views
from triage.services.views import jobs

D1, D2, D3 = "BC-33-AC-FF-FE-FA-55-01", "BC-33-AC-FF-FE-FA-55-02", "BC-33-AC-FF-FE-FA-55-03"


def _assert_record_consistent(staffed: Staffed) -> None:
    app = staffed.app
    assert ledger_service.verify(
        app.uow, ledger_service.LEDGER_ACTOR, app.verifier_key(), app.origin
    ).ok
    report = replay_check(app.database, app.facility.id)
    assert report.differences == []


def test_device_released_with_its_whole_story_in_the_ledger(staffed: Staffed) -> None:
    staffed.manifest("C-1", [D1])
    job = staffed.receive(D1.lower().replace("-", ":"))
    assert job.state is JobState.ELIGIBLE
    job = staffed.reset(job.id)
    assert job.state is JobState.VERIFIED
    job_steps.seal(staffed.app.uow, staffed.ben, job.id, "sl-0001")
    job = job_steps.release(staffed.app.uow, staffed.ben, job.id)
    assert job.state is JobState.RELEASED
    assert job.seal_serial == "SL-0001"
    assert job.closed_at is not None

    story = history.device_history(staffed.app.uow, staffed.auditor, D1)
    assert [e.type for _, e in story.entries] == [
        "consignment.device_expected",
        "device.received",
        "device.security_log_recorded",
        "device.inspected",
        "device.decided",
        "reset.authorised",
        "reset.completed",
        "reset.verified",
        "seal.fitted",
        "device.released",
    ]
    decided = story.entries[4][1]
    assert decided.data["policy"]["id"] == "tamper-default"
    recorded = story.entries[2][1]
    assert decided.data["security_log"]["sha256"] == recorded.data["sha256"]
    assert decided.actor.kind == "system"
    receipt = history.device_receipt(
        staffed.app.uow, staffed.auditor, D1, staffed.app.origin, staffed.app.signer_key()
    )
    proven = verify_receipt(receipt, [staffed.app.verifier_key()])
    assert [i for i, _ in proven.entries] == [i for i, _ in story.entries]
    _assert_record_consistent(staffed)


def test_a_device_comes_back_years_later_for_a_new_job(staffed: Staffed) -> None:
    staffed.manifest("C-1", [D1])
    first = staffed.reset(staffed.receive(D1).id)
    job_steps.seal(staffed.app.uow, staffed.ben, first.id, "SL-0001")
    job_steps.release(staffed.app.uow, staffed.ben, first.id)
    SimulatedFleet(staffed.fleet_path).set_failure(D1, fail_times=0)
    with staffed.app.uow(write=False) as uow:
        assert uow.jobs.open_for_device(D1) is None
    rows = [
        ManifestRow(
            2,
            {
                "device_id": D1,
                "device_type": "ESME",
                "manufacturer": "Acme",
                "model": "M1",
                "firmware_version": "1.1",
                "inventory_status": "Decommissioned",
                "asset_owner": "MAP-1",
            },
        )
    ]
    intake.import_manifest(staffed.app.uow, staffed.sup, "C-2", "MAP-1", rows)
    second = staffed.receive(D1)
    assert second.id != first.id
    story = history.device_history(staffed.app.uow, staffed.auditor, D1)
    assert [j.id for j in story.jobs] == [first.id, second.id]
    assert sum(e.type == "device.received" for _, e in story.entries) == 2
    _assert_record_consistent(staffed)


def _row(line: int, device_id: str, status: str = "Decommissioned") -> ManifestRow:
    return ManifestRow(
        line,
        {
            "device_id": device_id,
            "device_type": "GSME",
            "manufacturer": "Acme",
            "model": "G1",
            "firmware_version": "2.0",
            "inventory_status": status,
            "asset_owner": "MAP-1",
        },
    )


def test_a_bad_manifest_imports_nothing_and_names_every_bad_row(staffed: Staffed) -> None:
    rows = [
        _row(2, D1),
        _row(3, "BC-33-AC-FF-FE-FA-55"),
        _row(4, D2, status="Commissioned"),
        _row(5, D1),
        ManifestRow(6, problem="has 3 values for 7 columns"),
        _row(7, D3),
    ]
    with pytest.raises(ManifestRejected) as rejected:
        intake.import_manifest(staffed.app.uow, staffed.sup, "C-1", "MAP-1", rows)
    found = [(p.line, p.field) for p in rejected.value.problems]
    assert found == [(3, "device_id"), (4, "inventory_status"), (5, "device_id"), (6, "row")]
    assert "Commissioned" in str(rejected.value.problems[1])
    assert "duplicate of line 2" in rejected.value.problems[2].problem
    with staffed.app.uow(write=False) as uow:
        assert uow.consignments.page(0, 10) == ([], 0)

    report = intake.import_manifest(
        staffed.app.uow, staffed.sup, "C-1", "MAP-1", rows, skip_invalid=True
    )
    assert report.imported == 2
    assert [p.line for p in report.problems] == [3, 4, 5, 6]
    _assert_record_consistent(staffed)


def test_devices_with_an_open_job_or_already_expected_are_refused(staffed: Staffed) -> None:
    staffed.manifest("C-1", [D1, D2])
    staffed.receive(D1)
    with pytest.raises(ManifestRejected) as rejected:
        intake.import_manifest(
            staffed.app.uow, staffed.sup, "C-2", "MAP-1", [_row(2, D1), _row(3, D2)]
        )
    problems = [p.problem for p in rejected.value.problems]
    assert "open triage job" in problems[0]
    assert "already expected in open consignment" in problems[1]
    with pytest.raises(Conflict, match="imported already"):
        intake.import_manifest(staffed.app.uow, staffed.sup, "C-1", "MAP-1", [_row(2, D3)])


def test_unexpected_device_raises_an_exception_not_a_job(staffed: Staffed) -> None:
    scanned = intake.scan_device(staffed.app.uow, staffed.ben, D3)
    assert scanned.job is None
    assert scanned.exception_id is not None
    assert "not expected" in scanned.message
    with staffed.app.uow(write=False) as uow:
        open_items, total = uow.exceptions.page("open", 0, 10)
    assert total == 1
    assert open_items[0].device_id == D3
    with pytest.raises(PermissionDenied):
        intake.resolve_exception(staffed.app.uow, staffed.ben, scanned.exception_id, "x" * 20)
    intake.resolve_exception(
        staffed.app.uow, staffed.sup, scanned.exception_id, "returned to MAP-1 unopened"
    )
    with staffed.app.uow(write=False) as uow:
        assert uow.exceptions.page("open", 0, 10)[1] == 0
    with pytest.raises(InvalidInput, match="device_id"):
        intake.scan_device(staffed.app.uow, staffed.ben, "not a device")
    _assert_record_consistent(staffed)


def test_closing_a_consignment_reports_what_never_arrived(staffed: Staffed) -> None:
    consignment_id = staffed.manifest("C-1", [D1, D2, D3])
    staffed.receive(D2)
    closed, missing = intake.close_consignment(staffed.app.uow, staffed.sup, consignment_id)
    assert missing == [D1, D3]
    assert (closed.expected, closed.arrived) == (3, 1)
    with pytest.raises(Conflict, match="already closed"):
        intake.close_consignment(staffed.app.uow, staffed.sup, consignment_id)
    # A device of a closed consignment is unexpected now.
    assert intake.scan_device(staffed.app.uow, staffed.ben, D1).exception_id is not None


def test_a_consignment_is_read_and_closed_by_its_reference(staffed: Staffed) -> None:
    staffed.manifest("C-7/A", [D1, D2])
    staffed.receive(D2)
    shown = consignment_views.consignment_detail(staffed.app.uow, staffed.sup, "C-7/A")
    assert (shown.arrived, shown.not_arrived) == ([D2], [D1])
    closed, missing = intake.close_consignment(staffed.app.uow, staffed.sup, "C-7/A")
    assert (closed.reference, missing) == ("C-7/A", [D1])


def test_policy_routes_each_boundary_and_an_override_needs_another_supervisor(
    staffed: Staffed,
) -> None:
    staffed.manifest("C-1", [D1, D2, D3])
    cpa = staffed.receive(D1, {**CLEAN, "cpa_boundary_intact": False})
    assert cpa.state is JobState.QUARANTINED
    mid = staffed.receive(D2, {**CLEAN, "metrology_seal_intact": False})
    assert mid.state is JobState.REVERIFY_METROLOGY
    scanned = intake.scan_device(staffed.app.uow, staffed.sup, D3)
    assert scanned.job is not None
    staffed.record_log(scanned.job.id)
    decision = job_steps.inspect(
        staffed.app.uow, staffed.sup, scanned.job.id, {**CLEAN, "outer_covers_opened": ["terminal"]}
    )
    assert decision.outcome.value == "supervisor_review"
    assert any("terminal cover" in r.text for r in decision.reasons)
    job_id = scanned.job.id
    with pytest.raises(PermissionDenied, match="separation of duties"):
        job_steps.override(
            staffed.app.uow, staffed.sup, job_id, "eligible", "supplier job J-1 seen"
        )
    with pytest.raises(PermissionDenied):
        job_steps.override(staffed.app.uow, staffed.ben, job_id, "eligible", "x" * 30)
    with pytest.raises(InvalidInput, match="justification"):
        job_steps.override(staffed.app.uow, staffed.sup2, job_id, "eligible", "ok")
    job = job_steps.override(
        staffed.app.uow,
        staffed.sup2,
        job_id,
        "eligible",
        "terminal cover opened by supplier job J-123 on 2026-11-01, paperwork seen",
    )
    assert job.state is JobState.ELIGIBLE
    assert job.outcome == "eligible"
    disposed = job_steps.dispose(
        staffed.app.uow, staffed.sup, cpa.id, "destroy", "DC-2026-001", destruction_today()
    )
    assert disposed.state is JobState.DESTROYED
    returned = job_steps.dispose(staffed.app.uow, staffed.sup, mid.id, "return", "RMA-77")
    assert returned.state is JobState.RETURNED_TO_MANUFACTURER
    with pytest.raises(IllegalTransition):
        job_steps.authorise_reset(
            staffed.app.uow, staffed.ben, cpa.id, "BENCH-1", staffed.app.signer_key()
        )
    _assert_record_consistent(staffed)


def test_reset_failures_are_retried_then_quarantined(staffed: Staffed) -> None:
    staffed.manifest("C-1", [D1, D2])
    fleet = SimulatedFleet(staffed.fleet_path)
    fleet.set_failure(D1, fail_times=1)
    fleet.set_failure(D2, half_fail_times=3)

    job = staffed.receive(D1)
    job = staffed.reset(job.id)
    assert job.state is JobState.RESET_FAILED
    job = staffed.reset(job.id)
    assert job.state is JobState.VERIFIED
    assert job.reset_attempts == 2

    job = staffed.receive(D2)
    for attempt in (1, 2):
        job = staffed.reset(job.id)
        assert job.state is JobState.VERIFICATION_FAILED, attempt
    job = staffed.reset(job.id)
    assert job.state is JobState.QUARANTINED
    with staffed.app.uow(write=False) as uow:
        results = uow.jobs.reset_results(job.id)
    assert [r.verified for r in results] == [False, False, False]
    assert any("not cleared" in f for f in results[0].failures)
    with pytest.raises(IllegalTransition):
        staffed.reset(job.id)
    _assert_record_consistent(staffed)


def test_tool_results_that_do_not_match_their_work_order_are_refused(staffed: Staffed) -> None:
    staffed.manifest("C-1", [D1])
    job = staffed.receive(D1)
    signed_order = job_steps.authorise_reset(
        staffed.app.uow, staffed.ben, job.id, "BENCH-1", staffed.app.signer_key()
    )
    with pytest.raises(Conflict, match="still valid"):
        job_steps.authorise_reset(
            staffed.app.uow, staffed.ben, job.id, "BENCH-1", staffed.app.signer_key()
        )
    carried_out: list[ToolResult] = []

    def forge(result: ToolResult) -> ToolResult:
        carried_out.append(result)
        return dataclasses.replace(result, nonce="0" * 32)

    forged = staffed.carry_out(signed_order, forge)
    with pytest.raises(InvalidInput, match="does not match"):
        job_steps.record_tool_result(staffed.app.uow, staffed.tool, forged)
    good = carried_out[0].sign(staffed.tool_key)
    assert (
        job_steps.record_tool_result(staffed.app.uow, staffed.tool, good).state is JobState.VERIFIED
    )
    size = staffed.ledger_size()
    # The very same signed result again is an agent's retry: taken once, nothing recorded.
    assert (
        job_steps.record_tool_result(staffed.app.uow, staffed.tool, good).state is JobState.VERIFIED
    )
    assert staffed.ledger_size() == size
    # Another result for the closed order (signed again, a moment later) is a replay.
    later = dataclasses.replace(
        carried_out[0], completed_at=carried_out[0].completed_at + timedelta(seconds=1)
    )
    with pytest.raises(InvalidInput, match="replay"):
        job_steps.record_tool_result(staffed.app.uow, staffed.tool, later.sign(staffed.tool_key))
    story = history.device_history(staffed.app.uow, staffed.auditor, D1)
    assert story.entries[-1][1].type == "reset.verified"
    with staffed.app.uow(write=False) as uow:
        refusals = [uow.ledger.log.entry(i) for i in uow.ledger.indexes_for("tool", "BENCH-1")]
    assert sum(b"tool.result_refused" in r for r in refusals) == 2
    _assert_record_consistent(staffed)


def test_seals_and_release_rules(staffed: Staffed) -> None:
    staffed.manifest("C-1", [D1, D2])
    one = staffed.reset(staffed.receive(D1).id)
    two = staffed.reset(staffed.receive(D2).id)
    with pytest.raises(Conflict, match="without a fitted seal"):
        job_steps.release(staffed.app.uow, staffed.ben, one.id)
    with pytest.raises(InvalidInput, match="serial"):
        job_steps.seal(staffed.app.uow, staffed.ben, one.id, "a b")
    job_steps.seal(staffed.app.uow, staffed.ben, one.id, "SL-0009")
    with pytest.raises(Conflict, match=f"it is fitted to device {D1}"):
        job_steps.seal(staffed.app.uow, staffed.ben, two.id, "SL-0009")
    with pytest.raises(IllegalTransition):
        job_steps.seal(staffed.app.uow, staffed.ben, one.id, "SL-0010")


def test_roles_are_checked_by_every_use_case(staffed: Staffed) -> None:
    staffed.manifest("C-1", [D1])
    with pytest.raises(PermissionDenied):
        intake.import_manifest(staffed.app.uow, staffed.ben, "C-9", "MAP-1", [_row(2, D2)])
    with pytest.raises(PermissionDenied):
        intake.scan_device(staffed.app.uow, staffed.auditor, D1)
    with pytest.raises(PermissionDenied):
        intake.scan_device(staffed.app.uow, staffed.admin, D1)
    job = staffed.receive(D1)
    with pytest.raises(PermissionDenied):
        job_steps.authorise_reset(
            staffed.app.uow, staffed.auditor, job.id, "BENCH-1", staffed.app.signer_key()
        )
    with pytest.raises(PermissionDenied, match="only an enrolled Triage Tool"):
        job_steps.record_tool_result(staffed.app.uow, staffed.ben, "anything")
    assert history.device_history(staffed.app.uow, staffed.auditor, D1).device_id == D1


def test_replay_finds_a_table_changed_behind_the_ledger(staffed: Staffed) -> None:
    staffed.manifest("C-1", [D1])
    job = staffed.receive(D1)
    assert replay_check(staffed.app.database, staffed.app.facility.id).differences == []
    with staffed.app.database.engine.begin() as conn:
        conn.execute(update(triage_job).where(triage_job.c.id == job.id).values(state="released"))
    differences = replay_check(staffed.app.database, staffed.app.facility.id).differences
    assert [(d.table, d.key) for d in differences] == [("triage_job", job.id)]
    assert "state is 'released' but the entries give 'eligible'" in differences[0].message


def test_facility_settings_change_the_retry_limit_and_are_recorded(staffed: Staffed) -> None:
    from triage.services import facility as facility_service

    with pytest.raises(PermissionDenied):
        facility_service.change_settings(staffed.app.uow, staffed.sup, max_reset_attempts=1)
    with pytest.raises(InvalidInput, match="max_reset_attempts"):
        facility_service.change_settings(staffed.app.uow, staffed.admin, max_reset_attempts=0)
    assert facility_service.change_settings(
        staffed.app.uow, staffed.admin, max_reset_attempts=1
    ) == (1, 15)
    staffed.manifest("C-1", [D1])
    SimulatedFleet(staffed.fleet_path).set_failure(D1, fail_times=1)
    job = staffed.reset(staffed.receive(D1).id)
    assert job.state is JobState.QUARANTINED
    _assert_record_consistent(staffed)


def test_inspection_photos_are_pictures_recorded_by_hash_on_open_jobs(staffed: Staffed) -> None:
    staffed.manifest("C-P", [D1])
    job = staffed.receive(D1)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    assert photos.photo_type(png) == "image/png"
    with pytest.raises(InvalidInput, match="JPEG or PNG"):
        photos.photo_type(b"<svg onload=alert(1)>")
    with pytest.raises(InvalidInput, match="larger than"):
        photos.photo_type(b"\xff\xd8\xff" + b"\x00" * photos.MAX_PHOTO_BYTES)
    with pytest.raises(PermissionDenied):
        photos.attach_photo(staffed.app.uow, staffed.auditor, job.id, "ab" * 32, "image/png", 72)
    photos.attach_photo(staffed.app.uow, staffed.ben, job.id, "ab" * 32, "image/png", 72)
    recorded = staffed.entries("device.photo_attached")
    assert [(e.subject.id, e.data["sha256"], e.data["job_id"]) for e in recorded] == [
        (D1, "ab" * 32, job.id)
    ]


def test_an_earlier_tamper_policy_is_put_back_in_force_and_replays(staffed: Staffed) -> None:
    # A policy's row is keyed by its text's hash: going back to an earlier version (or loading
    # the same file twice) once failed on that key instead of putting the text back in force.
    app = staffed.app
    source = app.uow.packaged.tamper_policy().source.decode("utf-8")
    first, second = (
        TamperPolicy.load(source.replace('version: "1"', f'version: "{v}"').encode())
        for v in ("2", "3")
    )
    for policy in (first, second, first, first):
        tamper_policy.activate_policy(app.uow, staffed.admin, policy)
    with app.uow(write=False) as uow:
        assert uow.policies.active_source() == first.source.decode("utf-8")
    _assert_record_consistent(staffed)


def test_a_verified_device_found_damaged_is_quarantined_and_a_quarantine_overridden(
    staffed: Staffed,
) -> None:
    staffed.manifest("C-1", [D1, D2, D3])
    verified = staffed.reset(staffed.receive(D1).id)
    assert verified.state is JobState.VERIFIED
    uow = staffed.app.uow

    damaged = job_steps.quarantine(uow, staffed.sup, verified.id, "display cracked on the bench")

    assert damaged.state is JobState.QUARANTINED
    breached = staffed.receive(D2, {**CLEAN, "cpa_boundary_intact": False})
    overridden = job_steps.override(
        uow, staffed.sup2, breached.id, "eligible", "the CPA label was peeled in transport"
    )
    assert overridden.state is JobState.ELIGIBLE
    reviewed = staffed.receive(D3, {**CLEAN, "outer_covers_opened": ["terminal"]})
    queues = jobs.review_queues(uow, staffed.sup2)
    assert [j.id for j in queues.quarantined] == [damaged.id]
    assert queues.acts[damaged.id] == ["dispose"]  # reset already: no override
    assert any("terminal cover" in r for r in queues.reasons[reviewed.id])
    _assert_record_consistent(staffed)
