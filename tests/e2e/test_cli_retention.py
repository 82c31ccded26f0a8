"""Retention and outcome reports by command line: rules set and listed, a hold placed and
released, a dry-run purge; a consignment's outcome report written and checked offline with
`triage verify`, which refuses it once a byte is changed."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import Triage

DEVICE = "BC-33-AC-FF-FE-FA-55-3E"
HEADER = "device_id,device_type,manufacturer,model,firmware_version,inventory_status,asset_owner\n"


def test_retention_and_an_outcome_report_by_cli(triage: Triage, tmp_path: Path) -> None:
    vkey = triage.run("init").stdout.strip().splitlines()[-1]
    admin = triage.first_admin()
    stella = triage.staff(admin, "stella", "stores")
    triage.run("asset-owner", "add", "MAP-1", "--name", "Meter Assets One", "--token", admin)
    manifest = tmp_path / "m.csv"
    manifest.write_text(HEADER + f"{DEVICE},ESME,Acme,E1,1.0,Decommissioned,MAP-1\n")
    triage.run(
        "consignment", "import", str(manifest), "--reference", "C-1", "--asset-owner", "MAP-1",
        "--token", stella,
    )  # fmt: skip

    out = tmp_path / "outcome.json"
    triage.run("consignment", "outcome", "C-1", "--out", str(out), "--token", stella)
    checked = triage.run("verify", str(out), "--key", vkey, "--json")
    result = json.loads(checked.stdout)
    assert result["ok"] and result["kind"] == "consignment-outcome"
    assert result["document"]["counts"]["not_arrived"] == 1
    out.write_bytes(out.read_bytes().replace(b'"not_arrived": 1', b'"not_arrived": 0', 1))
    refused = triage.run("verify", str(out), "--key", vkey, check=False)
    assert refused.returncode == 1 and "changed after it was signed" in refused.stdout
    pdf = tmp_path / "outcome.pdf"
    triage.run(
        "consignment", "outcome", "C-1", "--format", "pdf", "--out", str(pdf), "--token", stella
    )
    assert pdf.read_bytes().startswith(b"%PDF")

    denied = triage.run("retention", "set", "device_photo", "--days", "30", "--token", stella,
                        check=False)  # fmt: skip
    assert denied.returncode != 0
    triage.run("retention", "set", "device_photo", "--days", "30", "--token", admin)
    rules = triage.run("retention", "rules", "--token", stella).stdout
    assert "device_photo: 30 days after its case closes (set by" in rules
    held = json.loads(
        triage.run(
            "retention", "hold", "device", DEVICE, "--reason", "a claim about this meter",
            "--token", admin, "--json",
        ).stdout
    )  # fmt: skip
    triage.run(
        "retention", "release", held["id"], "--reason", "the claim was withdrawn", "--token", admin
    )
    assert "no legal hold" in triage.run("retention", "holds", "--token", stella).stdout
    dry = triage.run("retention", "purge", "--dry-run", "--token", admin).stdout
    assert "0 file(s) would be purged (dry run: nothing changed)" in dry
