"""The incident register by command line: a bench operator raises an incident, the security
manager records the facility's own notification rules from a file, records a vulnerability, a
notification made earlier (--at), and closes with a justification; refusals exit 2 and say why."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import Triage

RULES = """
version: site-1
recipients: {ssc: Security Sub-Committee, smki_pma: SMKI PMA}
categories: [key_compromise, software_vulnerability, other]
sources:
  tool_suspended: {severity: high, category: other}
  operator_suspended: null
  seal_discrepancy: null
  suspicious_quarantine: null
  checkpoint_refused: null
notifications:
  - when: {category: key_compromise}
    notify: {ssc: 12, smki_pma: 6}
"""


def test_the_register_by_cli(triage: Triage, tmp_path: Path) -> None:
    triage.run("init")
    admin = triage.first_admin()
    sam = triage.staff(admin, "sam", "security_manager")
    ben = triage.staff(admin, "ben", "bench_operator", bench="B1")
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    shown = json.loads(
        triage.run("incident", "rules", "--file", str(rules), "--json", "--token", sam).stdout
    )
    assert shown["version"] == "site-1" and not shown["default"]

    raised = json.loads(
        triage.run(
            "incident", "raise", "--title", "Key card lost", "--summary", "not in the safe",
            "--severity", "medium", "--category", "key_compromise", "--json", "--token", ben,
        ).stdout
    )  # fmt: skip
    deadlines = {n["recipient"]: n["deadline"] for n in raised["notifications"]}
    assert set(deadlines) == {"ssc", "smki_pma"} and raised["rules_version"] == "site-1"
    incident_id = raised["id"]
    denied = triage.run("incident", "list", "--token", ben, check=False)
    assert denied.returncode == 2 and "incident.read" in denied.stderr

    triage.run(
        "incident", "vuln", "--title", "Old TLS library", "--summary", "in the bench agent",
        "--severity", "low", "--component", "agent 1.2", "--reference", "CVE-2026-1",
        "--remediation-due", "2099-01-31", "--token", ben,
    )  # fmt: skip
    listed = json.loads(
        triage.run("incident", "list", "--kind", "vulnerability", "--json", "--token", sam).stdout
    )
    [vuln] = listed["incidents"]
    assert (vuln["component"], vuln["reference"], vuln["remediation_due"]) == (
        "agent 1.2",
        "CVE-2026-1",
        "2099-01-31",
    )

    at = raised["raised_at"]
    triage.run(
        "incident", "notify", incident_id, "--recipient", "ssc", "--reference", "SSC-1",
        "--at", at, "--token", sam,
    )  # fmt: skip
    twice = triage.run(
        "incident", "notify", incident_id, "--recipient", "ssc", "--reference", "SSC-2",
        "--token", sam, check=False,
    )  # fmt: skip
    assert twice.returncode == 2 and "already recorded" in twice.stderr
    early = triage.run("incident", "close", incident_id, "--text", "done", "--token", sam,
                       check=False)  # fmt: skip
    assert early.returncode == 2 and "still needs its notification to smki_pma" in early.stderr
    closed = triage.run(
        "incident", "close", incident_id, "--text", "card found, locks changed",
        "--justification", "the PMA said no notification was needed", "--token", sam,
    ).stdout  # fmt: skip
    assert "closed without every notification: the PMA said" in closed
    text = triage.run("incident", "show", incident_id, "--token", sam).stdout
    assert "notify ssc" in text and "ref SSC-1" in text and "[closed]" in text
