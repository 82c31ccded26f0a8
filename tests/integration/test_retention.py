"""Retention and outcome reports on both databases: a purge recorded in the ledger and the
file gone, replay agreeing with every projection, the purged file's digest still proven in the
ledger; a consignment's outcome report counted from the tables and signed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete

from tests.integration.conftest import Staffed, move_clock
from tests.unit.services import disposal_seed
from triage.adapters.projector import project_recorded
from triage.adapters.replay import replay_check
from triage.adapters.tables import evidence_file, evidence_purge, legal_hold, retention_rule
from triage.domain.caller import Caller
from triage.domain.roles import Role
from triage.domain.signed_document import verify_document
from triage.errors import NotFound
from triage.ledger.receipt import verify_receipt
from triage.services import documents, intake, job_steps, outcome_reports, retention, security_log

DEVICES = ["BC-33-AC-FF-FE-00-10-01", "BC-33-AC-FF-FE-00-10-02", "BC-33-AC-FF-FE-00-10-03"]
RMA = "the case is cracked across the front"


def _returned(staffed: Staffed, device_id: str) -> str:
    job = staffed.receive(device_id)
    job_steps.quarantine(staffed.app.uow, staffed.sup, job.id, RMA)
    job_steps.dispose(staffed.app.uow, staffed.sup, job.id, "return", "RMA-1")
    return job.id


def test_a_purge_is_recorded_the_file_deleted_and_replay_and_receipts_still_agree(
    staffed: Staffed, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, admin = staffed.app, staffed.admin
    staffed.manifest("CN-R", DEVICES[:2])
    kept_job = _returned(staffed, DEVICES[0])
    held_job = _returned(staffed, DEVICES[1])
    store = app.evidence_store()
    with app.uow(write=False) as uow:
        [purged_log] = [r.sha256 for r in uow.security_logs.for_job(kept_job)]
        [held_log] = [r.sha256 for r in uow.security_logs.for_job(held_job)]
    retention.set_rule(app.uow, admin, "security_log", 1)
    retention.place_hold(app.uow, admin, "device", DEVICES[1], "a dispute about this meter")
    move_clock(monkeypatch, app, app.uow.clock.now() + timedelta(days=2))

    run = retention.purge(app.uow, admin, store)

    assert [c.sha256 for c in run.purged] == [purged_log] and run.deleted == 1
    assert store.check(purged_log) == "missing" and store.check(held_log) == "ok"
    [entry] = staffed.entries("evidence.purged")
    assert entry.data["sha256"] == purged_log and entry.data["rule"]["days"] == 1
    assert replay_check(app.database, app.facility.id).differences == []
    # The purged file's digest is still in the ledger, proven by the device's receipt.
    receipt = documents.receipt(app.uow, staffed.auditor, DEVICES[0], app.issuer())
    proven = verify_receipt(receipt, [app.verifier_key()])
    assert purged_log in [e.data.get("sha256") for _, e in proven.entries]
    with pytest.raises(NotFound, match=r"purged on .* under the retention rule for security_log"):
        security_log.raw(app.uow, staffed.auditor, store, kept_job, purged_log)
    again = retention.purge(app.uow, admin, store)
    assert (again.purged, again.deleted) == ([], 0)


def test_the_rows_a_migration_projects_from_the_ledger_are_those_the_projector_made(
    staffed: Staffed,
) -> None:
    staffed.manifest("CN-M", DEVICES[:1])
    staffed.receive(DEVICES[0])
    with staffed.app.uow(write=False) as uow:
        projected = uow.retention.files()
    with staffed.app.database.engine.begin() as conn:
        for table in (evidence_purge, legal_hold, retention_rule, evidence_file):
            conn.execute(delete(table))
        assert project_recorded(conn, "triage.adapters.projector_retention") > 0
    with staffed.app.uow(write=False) as uow:
        assert uow.retention.files() == projected != []
    assert replay_check(staffed.app.database, staffed.app.facility.id).differences == []


def test_an_outcome_report_counts_each_device_and_verifies(staffed: Staffed) -> None:
    app = staffed.app
    staffed.manifest("CN-O", DEVICES)
    released = staffed.receive(DEVICES[0])
    staffed.reset(released.id)
    job_steps.seal(app.uow, staffed.ben, released.id, "SL-0001")
    job_steps.release(app.uow, staffed.ben, released.id)
    destroyed = staffed.receive(DEVICES[1])
    job_steps.quarantine(app.uow, staffed.sup, destroyed.id, RMA)
    job_steps.dispose(
        app.uow, staffed.sup, destroyed.id, "destroy", "WEEE-1", disposal_seed.DESTRUCTION
    )
    intake.scan_device(app.uow, staffed.ben, DEVICES[2])

    report = outcome_reports.outcome_report(app.uow, staffed.auditor, "CN-O", app.issuer())

    assert {k: v for k, v in report.counts.items() if v} == {
        "expected": 3,
        "arrived": 3,
        "released": 1,
        "destroyed": 1,
        "unfinished": 1,
    }
    [sealed] = [d for d in report.devices if d.outcome == "released"]
    assert sealed.seal_serial == "SL-0001"
    checked = verify_document(report.signed.to_json(), [app.verifier_key()])
    assert checked.kind == "consignment-outcome"
    owner = Caller.operator("p", frozenset({Role.ASSET_OWNER}), asset_owner="MAP-2")
    with pytest.raises(NotFound):
        outcome_reports.outcome_report(app.uow, owner, "CN-O", app.issuer())
    pdf = outcome_reports.outcome_pdf(app.uow, staffed.auditor, "CN-O", app.issuer(), app.documents)
    assert pdf.content.startswith(b"%PDF") and pdf.filename == "outcome-CN-O.pdf"
