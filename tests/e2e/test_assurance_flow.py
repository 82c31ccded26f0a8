"""A facility from commissioning mode through its first FUSA, with the real `triage` command:
evidence produced and uploaded, findings, a response, a remediation plan, an approval subject
to a step, the follow-up it schedules; then the OSCAL export, loaded with compliance-trestle's
models and passed by `trestle validate`, and the evidence pack checked file by file."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import sys
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from trestle.oscal.assessment_results import AssessmentResults
from trestle.oscal.catalog import Catalog
from trestle.oscal.poam import PlanOfActionAndMilestones

from tests.e2e.conftest import Triage, start_server, stop
from triage.ledger import checkpoint, rfc6962

TRESTLE = Path(sys.executable).parent / "trestle"


def _json(triage: Triage, *args: str) -> Any:
    return json.loads(triage.run(*args, "--json").stdout)


def test_commissioning_to_an_approved_fusa_exported_as_valid_oscal(
    triage: Triage, tmp_path: Path
) -> None:
    triage.run("init")
    admin = triage.first_admin()
    sam = triage.staff(admin, "sam", "security_manager")
    auditor = triage.staff(admin, "audrey", "auditor")

    # Before anything: triage is refused, and the first assessment due is a FUSA.
    status = _json(triage, "assurance", "status", "--token", auditor)
    assert status["may_triage"] is False and "SEC Party" in status["may_triage_because"]
    assert status["next_assessment"]["kind"] == "FUSA"
    triage.commission(admin)
    status = _json(triage, "assurance", "status", "--token", auditor)
    assert status["may_triage"] is True and status["commissioning"]["active"] is True

    # Evidence: produced by the system, and a pen test report uploaded.
    triage.run("assurance", "adopt", "--token", sam)
    made = _json(triage, "assurance", "evidence", "generate", "--token", sam)["items"]
    assert {e["name"] for e in made} >= {
        "ledger_verification",
        "access_review",
        "seal_reconciliation",
    }
    report = tmp_path / "pen-test-2026.pdf"
    report.write_bytes(b"%PDF-1.4 pen test of the triage interface, two findings\n")
    upload = _json(
        triage,
        "assurance",
        "evidence",
        "upload",
        str(report),
        "--name",
        "penetration-test",
        "--title",
        "Penetration test 2026",
        "--control",
        "G3.3",
        "--token",
        sam,
    )
    assert upload["sha256"] == hashlib.sha256(report.read_bytes()).hexdigest()

    # The FUSA: a VUSA first is refused.
    first = triage.run(
        "assessment", "plan", "--kind", "VUSA", "--assessor", "Acme Assurance", "--scope",
        "the facility", "--date", "2026-12-01", "--token", sam, check=False,
    )  # fmt: skip
    assert (
        first.returncode == 2 and "first assessment of a Triage Facility is a FUSA" in first.stderr
    )
    fusa = _json(
        triage, "assessment", "plan", "--kind", "FUSA", "--assessor", "Acme Assurance Ltd",
        "--scope", "Triage Facility, Triage Tool and Interface, seals", "--date", "2026-12-01",
        "--token", sam,
    )  # fmt: skip
    fid = fusa["id"]
    evidence_ids = [e["id"] for e in made] + [upload["id"]]
    attach_args = [a for e in evidence_ids for a in ("--evidence", e)]
    triage.run("assessment", "attach", fid, *attach_args, "--token", sam)
    triage.run(
        "assessment",
        "fieldwork",
        fid,
        "--start",
        "2026-12-01",
        "--end",
        "2026-12-03",
        "--token",
        sam,
    )
    high = _json(
        triage, "assessment", "finding", fid, "--control", "G3.3", "--severity", "high",
        "--description", "Two pen test findings on the interface are not yet remedied",
        "--token", sam,
    )  # fmt: skip
    low = _json(
        triage, "assessment", "finding", fid, "--control", "G4.3", "--severity", "low",
        "--description", "Training record lacks the dates of two refresher sessions",
        "--token", sam,
    )  # fmt: skip
    due = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()
    triage.run(
        "assessment", "respond", high["id"], "--text", "Fixes scheduled for the next release",
        "--due", due, "--token", sam,
    )  # fmt: skip
    action = _json(
        triage, "assessment", "action", high["id"], "--description",
        "Patch the interface and re-test both findings", "--owner", "sam", "--due", due,
        "--token", sam,
    )  # fmt: skip
    triage.run(
        "assessment",
        "close-finding",
        low["id"],
        "--reason",
        "dates added to the record",
        "--token",
        sam,
    )
    decided = _json(
        triage, "assessment", "outcome", fid, "--result", "approval_with_steps",
        "--step", f"Re-test the interface after patching|{due}", "--token", sam,
    )  # fmt: skip
    assert decided["outcome"]["result"] == "approval_with_steps"

    # Approved (subject to a step): triage may go ahead without commissioning mode.
    triage.run(
        "assurance", "commissioning-end", "--reason", "approved at the FUSA", "--token", admin
    )
    status = _json(triage, "assurance", "status", "--token", auditor)
    assert status["may_triage"] is True and status["approval"]["result"] == "approval_with_steps"
    # The follow-up: a VUSA (a high finding is open), within a year of the decision.
    follow_up = _json(triage, "assurance", "schedule", "--token", auditor)
    assert follow_up["kind"] == "VUSA"
    assert any("high or critical" in r for r in follow_up["reasons"])
    assert follow_up["due"] <= (datetime.now(UTC).date() + timedelta(days=366)).isoformat()

    # OSCAL: load with trestle's models, and validate in a trestle workspace.
    out = tmp_path / "oscal"
    triage.run("assurance", "oscal", "--out-dir", str(out), "--token", auditor)
    catalog = json.loads((out / "catalog.json").read_text())
    results = json.loads((out / f"assessment-results-{fid}.json").read_text())
    poam = json.loads((out / "plan-of-action-and-milestones.json").read_text())
    assert len(Catalog.model_validate(catalog["catalog"]).groups or []) >= 2
    parsed = AssessmentResults.model_validate(results["assessment-results"])
    assert len(parsed.results[0].findings or []) == 2
    items = PlanOfActionAndMilestones.model_validate(poam["plan-of-action-and-milestones"])
    assert [i.title for i in items.poam_items] and action["id"] in json.dumps(poam)
    assert low["id"] not in json.dumps(poam["plan-of-action-and-milestones"]["poam-items"])
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    assert (
        subprocess.run([str(TRESTLE), "init"], cwd=workspace, capture_output=True).returncode == 0
    )
    for folder, kind, document in (
        ("catalogs", "catalog", catalog),
        ("assessment-results", "assessment-results", results),
        ("plan-of-action-and-milestones", "plan-of-action-and-milestones", poam),
    ):
        path = workspace / folder / "facility" / f"{kind}.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(document))
    checked = subprocess.run(
        [str(TRESTLE), "validate", "-a"], cwd=workspace, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "INVALID" not in checked.stdout + checked.stderr

    # The evidence pack: every file matches the manifest, which matches the ledger's hashes.
    pack = tmp_path / "pack.zip"
    triage.run("assessment", "pack", fid, "--out", str(pack), "--token", auditor)
    with zipfile.ZipFile(io.BytesIO(pack.read_bytes())) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        files = manifest["files"]
        assert {f["evidence_id"] for f in files} == set(evidence_ids)
        # Checked with nothing but the facility's verifier key.
        key = triage.run("keys", "show").stdout.strip()
        origin = key.split("+", 1)[0]
        for row in files:
            assert hashlib.sha256(archive.read(row["path"])).hexdigest() == row["sha256"]
            proof = row["inclusion_proof"]
            assert proof["index"] == row["ledger_index"]
            signed = checkpoint.open_checkpoint(proof["checkpoint"], [key], origin)
            entry = base64.b64decode(proof["entry"])
            assert json.loads(entry)["data"]["sha256"] == row["sha256"]
            rfc6962.verify_inclusion(
                rfc6962.leaf_hash(entry),
                proof["index"],
                signed.size,
                [base64.b64decode(h) for h in proof["proof"]],
                signed.root_hash,
            )
    verify = triage.run("ledger", "verify", "--token", auditor)
    assert verify.stdout.startswith("ok:")


def test_the_server_produces_automatic_evidence_on_its_schedule(triage: Triage) -> None:
    triage.run("init")
    admin = triage.first_admin()
    auditor = triage.staff(admin, "audrey", "auditor")
    server, client = start_server(triage, "--evidence-interval", "1", "--checkpoint-interval", "0")
    try:
        headers = {"Authorization": f"Bearer {auditor}"}
        deadline = time.monotonic() + 60
        found: dict[str, Any] = {"items": []}
        while time.monotonic() < deadline:
            found = client.get("/api/v1/assurance/evidence", headers=headers).json()
            if {e["name"] for e in found["items"]} >= {"ledger_verification", "replay_check"}:
                break
            time.sleep(0.5)
        names = {e["name"] for e in found["items"]}
        assert names >= {"ledger_verification", "replay_check", "access_review"}, names
        assert {e["recorded_by"] for e in found["items"]} == {"assurance"}
        assert all(e["integrity"] == "ok" for e in found["items"])
    finally:
        client.close()
        stop(server)
