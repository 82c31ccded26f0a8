"""Assurance on both databases: each kind of automatic evidence produced from a populated
facility and stored by its SHA-256 in the ledger; uploads, and files that no longer match;
the provider's controls and applicability; the gate on triage work; replay covering it all."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.conftest import Staffed
from triage.adapters.replay import replay_check
from triage.domain.assessment import Result
from triage.domain.caller import Caller
from triage.domain.roles import Role
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.services import assessment, assurance, automatic_evidence, job_steps, operators, seals

D1 = "BC-33-AC-FF-FE-FA-57-01"
D2 = "BC-33-AC-FF-FE-FA-57-02"


@pytest.fixture
def security(staffed: Staffed) -> Caller:
    operators.create_operator(
        staffed.app.uow, Caller.system("test"), "sam", "Sam", frozenset({Role.SECURITY_MANAGER})
    )
    return operators.operator_caller(staffed.app.uow, "sam")


def _populate(staffed: Staffed) -> None:
    """One device released, one quarantined; a seal lost; a refused work order."""
    staffed.manifest("C-1", [D1, D2])
    job = staffed.receive(D1)
    staffed.reset(job.id)
    job_steps.seal(staffed.app.uow, staffed.ben, job.id, "SL-0001")
    job_steps.release(staffed.app.uow, staffed.ben, job.id)
    other = staffed.receive(D2, {"metrology_seal_intact": True, "cpa_boundary_intact": False})
    assert other.state.value == "quarantined"
    seals.lose(staffed.app.uow, staffed.ben, "SL-0002", "dropped behind the bench")


def test_every_kind_of_automatic_evidence_from_a_populated_facility(
    staffed: Staffed, security: Caller
) -> None:
    _populate(staffed)
    app = staffed.app
    store = app.evidence_store()
    with pytest.raises(PermissionDenied, match=r"assurance\.manage"):
        automatic_evidence.generate(app.uow, staffed.auditor, app.issuer(), app.replay_check, store)
    made = automatic_evidence.generate(app.uow, security, app.issuer(), app.replay_check, store)
    by_name = {e.name: e for e in made}
    assert set(by_name) == {
        "ledger_verification",
        "replay_check",
        "access_review",
        "tool_inventory",
        "breaches",
        "seal_reconciliation",
        "tamper_policy",
        "triage_outcomes",
        "assessments",
        "remediation",
        "incident_register",
    }
    documents = {}
    for name, item in by_name.items():
        content = store.read(item.sha256)
        assert hashlib.sha256(content).hexdigest() == item.sha256
        documents[name] = json.loads(content)
        assert documents[name]["evidence"] == name
    # What each says is what the facility holds.
    assert documents["ledger_verification"]["ok"] is True
    assert documents["ledger_verification"]["entries_checked"] > 0
    assert documents["replay_check"]["ok"] is True
    assert {o["id"] for o in documents["access_review"]["operators"]} >= {"ben", "sam", "stella"}
    assert [t["id"] for t in documents["tool_inventory"]["tools"]] == ["BENCH-1"]
    assert documents["breaches"]["total"] == 0
    reconciliation = documents["seal_reconciliation"]
    assert reconciliation["balanced"] is True
    assert [d["serial"] for d in reconciliation["discrepancies"]] == ["SL-0002"]
    decisions = documents["tamper_policy"]["decisions"]
    assert {d["outcome"] for d in decisions} == {"eligible", "quarantine"}
    assert documents["tamper_policy"]["policy_in_force"]["policy_id"]
    jobs = {(j["state"], j["count"]) for j in documents["triage_outcomes"]["jobs"]}
    assert jobs == {("released", 1), ("quarantined", 1)}
    # The quarantine for a breached CPA boundary is a suspicious one: an incident in the register
    # (G3.1 and G3.2 evidence), with its notification deadline.
    register = documents["incident_register"]
    assert [(i["source"], i["about"]) for i in register["incidents"]] == [
        ("suspicious_quarantine", f"device {D2}")
    ]
    assert register["incidents"][0]["notifications"][0]["deadline"]
    # Each is a ledger entry naming the file's SHA-256.
    recorded = {
        e.data["name"]: e.data["sha256"] for e in staffed.entries("assurance.evidence_generated")
    }
    assert recorded == {name: item.sha256 for name, item in by_name.items()}


def test_uploads_are_kept_by_hash_and_a_changed_file_is_flagged(
    staffed: Staffed, security: Caller, tmp_path: Path
) -> None:
    app = staffed.app
    store = app.evidence_store()
    report = b"%PDF-1.4 penetration test report of the triage interface\n"
    found = assurance.upload(
        app.uow,
        security,
        store,
        name="penetration-test",
        title="Penetration test 2026",
        filename="pen-test-2026.pdf",
        media_type="application/pdf",
        content=io.BytesIO(report),
        control_ids=["G3.3"],
    )
    assert found.sha256 == hashlib.sha256(report).hexdigest()
    assert found.filename == "pen-test-2026.pdf" and found.control_ids == ("G3.3",)
    with pytest.raises(InvalidInput, match="is a path"):
        assurance.upload(
            app.uow,
            security,
            store,
            name="isms",
            title="ISMS policy",
            filename="../../etc/passwd",
            media_type="text/plain",
            content=io.BytesIO(b"x"),
        )
    with pytest.raises(NotFound, match="no control"):
        assurance.upload(
            app.uow,
            security,
            store,
            name="isms",
            title="ISMS policy",
            filename="isms.pdf",
            media_type="application/pdf",
            content=io.BytesIO(b"policy"),
            control_ids=["G99"],
        )
    assert assurance.check_files(app.uow, staffed.auditor, store) == []
    # Someone edits the file on disk.
    path = store.root / found.sha256[:2] / found.sha256
    path.write_bytes(report.replace(b"triage", b"TRIAGE"))
    flagged = assurance.check_files(app.uow, staffed.auditor, store)
    assert [f.to_json() for f in flagged] == [
        {
            "id": found.id,
            "name": "penetration-test",
            "sha256": found.sha256,
            "state": "altered",
        }
    ]
    with pytest.raises(Conflict, match="no longer matches"):
        assurance.evidence_file(app.uow, staffed.auditor, store, found.id)
    readiness = assurance.control_readiness(app.uow, security, store)
    rows = {r.control.id: r.to_json() for r in readiness}
    pen = next(e for e in rows["G3.3"]["evidence"] if e["name"] == "penetration-test")
    assert pen["state"] == "altered" and rows["G3.3"]["status"] == "missing"


def test_provider_controls_and_applicability_are_ledger_entries_and_replay_agrees(
    staffed: Staffed, security: Caller
) -> None:
    app = staffed.app
    adopted = assurance.adopt_catalogue(app.uow, security)
    with pytest.raises(Conflict, match="already in force"):
        assurance.adopt_catalogue(app.uow, security)
    assurance.add_control(
        app.uow,
        security,
        {
            "id": "P-CCTV-1",
            "clause": "provider policy SP-7",
            "group": "Provider controls",
            "title": "CCTV covers the seal store",
            "requirement": "The seal store is covered by CCTV kept for 90 days.",
            "evidence": [{"kind": "upload", "name": "cctv-log", "title": "CCTV retention log"}],
        },
    )
    with pytest.raises(InvalidInput, match="P-"):
        assurance.add_control(
            app.uow,
            security,
            {
                "id": "G9",
                "clause": "x",
                "group": "x",
                "title": "x",
                "requirement": "x",
                "evidence": [{"kind": "upload", "name": "doc", "title": "x"}],
            },
        )
    assurance.set_applicable(
        app.uow, security, "G3.2", False, "vulnerability management is the group's, assessed there"
    )
    with pytest.raises(Conflict, match="already not applicable"):
        assurance.set_applicable(app.uow, security, "G3.2", False, "said twice, still the group's")
    listing = assurance.controls(app.uow, staffed.auditor).to_json()
    assert listing["catalogue"]["adopted"] is True
    assert listing["catalogue"]["sha256"] == adopted.sha256
    by_id = {c["id"]: c for c in listing["controls"]}
    assert by_id["P-CCTV-1"]["provider"] is True
    assert by_id["G3.2"]["applicable"] is False and "group" in by_id["G3.2"]["reason"]
    types = [e.type for e in staffed.entries("assurance.catalogue_adopted")]
    assert types == ["assurance.catalogue_adopted"]
    report = replay_check(app.database, app.facility.id)
    assert report.differences == []


def test_triage_work_is_refused_without_a_current_approval_or_commissioning(
    staffed: Staffed,
) -> None:
    uow = staffed.app.uow
    staffed.manifest("C-1", [D1])
    assessment.end_commissioning(uow, staffed.admin, "first assessment is delayed")
    with pytest.raises(Conflict, match="has not been approved yet"):
        staffed.receive(D1)
    assert staffed.entries("device.received") == []
    with pytest.raises(PermissionDenied, match=r"facility\.manage"):
        assessment.start_commissioning(
            uow, staffed.ben, datetime.now(UTC) + timedelta(days=5), "let me triage please"
        )
    assessment.start_commissioning(
        uow, staffed.admin, datetime.now(UTC) + timedelta(days=5), "test devices for the FUSA"
    )
    assert staffed.receive(D1).state.value == "eligible"
    status = assessment.status(uow, staffed.auditor).to_json()
    assert status["may_triage"] is True and "commissioning" in status["may_triage_because"]
    assert status["next_assessment"]["kind"] == "FUSA"


def test_a_deferred_outcome_stops_triage_with_its_reason(
    staffed: Staffed, security: Caller
) -> None:
    uow = staffed.app.uow
    staffed.manifest("C-1", [D1])
    plan = assessment.plan(uow, security, "FUSA", "Acme Assurance", "the facility", "2026-01-05")
    assessment.record_fieldwork(uow, security, plan.id, "2026-01-05", "2026-01-07")
    decided = assessment.record_outcome(uow, security, plan.id, "deferred")
    assessment.end_commissioning(uow, staffed.admin, "the assessment decided it")

    assert assessment.get(uow, staffed.auditor, plan.id).result is Result.DEFERRED
    assert decided.to_json()["outcome"]["result"] == "deferred"
    with pytest.raises(Conflict, match="the facility's last assessment was deferred"):
        staffed.receive(D1)
    assert staffed.entries("device.received") == []
    status = assessment.status(uow, staffed.auditor).to_json()
    assert status["approval"]["result"] == "deferred" and status["approval"]["approved"] is False
    assert status["next_assessment"]["kind"] == "VUSA"
    report = replay_check(staffed.app.database, staffed.app.facility.id)
    assert report.differences == []


def test_an_assessment_from_plan_to_decision_and_what_becomes_overdue(
    staffed: Staffed, security: Caller
) -> None:
    uow = staffed.app.uow
    plan = assessment.plan(uow, security, "FUSA", "Acme Assurance", "the facility", "2026-01-05")
    with pytest.raises(Conflict, match="already in progress"):
        assessment.plan(uow, security, "FUSA", "Acme Assurance", "again", "2026-01-06")
    with pytest.raises(Conflict, match="fieldwork before the outcome"):
        assessment.record_outcome(uow, security, plan.id, "approval")
    assessment.record_fieldwork(uow, security, plan.id, "2026-01-05", "2026-01-07")
    with pytest.raises(InvalidInput, match="not among the assessed controls"):
        assessment.raise_finding(uow, security, plan.id, "G99", "low", "no such control here")
    found = assessment.raise_finding(
        uow, security, plan.id, "G5.2", "medium", "The risk assessment is two years old"
    )
    assessment.respond(uow, security, found.id, "A new risk assessment is planned", "2026-02-01")
    action = assessment.plan_action(
        uow, security, found.id, "Run the annual risk assessment workshop", "sam", "2026-02-01"
    )
    with pytest.raises(Conflict, match="remedial actions still open"):
        assessment.close_finding(uow, security, found.id, "the workshop has been held")
    decided = assessment.record_outcome(
        uow,
        security,
        plan.id,
        "approval_with_steps",
        [("Send the new risk assessment", "2026-03-01")],
    )
    with pytest.raises(Conflict, match="is decided"):
        assessment.raise_finding(uow, security, plan.id, "G1", "low", "too late for this one")
    # Today is long after every due date: the step is overdue, so approval has lapsed.
    status = assessment.status(uow, staffed.auditor).to_json()
    assert status["approval"]["approved"] is False
    assert "steps of its approval are overdue" in status["approval"]["why"]
    assert [a["action_id"] for a in status["overdue"]["actions"]] == [action.id]
    assert [f["finding_id"] for f in status["overdue"]["findings"]] == [found.id]
    # The commissioning mode the fixture started still lets work go on while it lasts.
    assert status["may_triage"] is True
    assessment.complete_step(uow, security, decided.steps[0].id)
    assessment.complete_action(uow, security, action.id)
    assessment.close_finding(uow, security, found.id, "the workshop has been held")
    after = assessment.status(uow, staffed.auditor).to_json()
    assert after["approval"]["approved"] is True and after["overdue"] == {
        "findings": [],
        "actions": [],
    }
    assert after["next_assessment"]["kind"] == "VUSA"  # approval subject to steps
    report = replay_check(staffed.app.database, staffed.app.facility.id)
    assert report.differences == []
