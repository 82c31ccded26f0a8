"""Benches on the command line (issue 16, attack 8): `triage demo` assigns bench B1 to its bench
operator, who cannot sign in declaring bench B2; an administrator assigns benches with
`triage operator benches`, and `triage operator list` shows them."""

from __future__ import annotations

import json
import time
from typing import Any

import pyotp

from tests.e2e.conftest import Triage


def _benches(triage: Triage, admin: str) -> dict[str, Any]:
    listed = json.loads(triage.run("operator", "list", "--token", admin, "--json").stdout)
    return {o["id"]: o["benches"] for o in listed["items"]}


def test_a_bench_operator_signs_in_only_at_an_assigned_bench(triage: Triage) -> None:
    triage.run("init")
    demo = json.loads(triage.run("demo", "--json").stdout)
    ben = demo["web"]["demo-bench"]
    login = ("auth", "login", "demo-bench", "--password", ben["password"], "--json")
    refused = triage.run(
        *login, "--recovery-code", ben["recovery_code"], "--bench", "B2", check=False
    )
    assert refused.returncode != 0
    assert "operator demo-bench is not assigned to bench B2; ask an administrator" in refused.stderr

    admin = demo["tokens"]["demo-admin"]
    assert _benches(triage, admin) == {
        "demo-admin": [],
        "demo-auditor": [],
        "demo-bench": ["B1"],
        "demo-security": [],
        "demo-stores": [],
        "demo-supervisor": ["B1"],
    }
    assign = ("operator", "benches", "demo-bench", "--reason", "covers B2 on Fridays", "--json")
    done = json.loads(
        triage.run(*assign, "--bench", "B2", "--bench", "B1", "--token", admin).stdout
    )
    assert done == {"operator": "demo-bench", "benches": ["B1", "B2"], "previous": ["B1"]}
    assert _benches(triage, admin)["demo-bench"] == ["B1", "B2"]
    totp = pyotp.TOTP(ben["totp_secret"])
    signed = triage.run(*login, "--totp", totp.at(time.time() + 30), "--bench", "B2")
    assert json.loads(signed.stdout)["token"]

    # Only an administrator assigns benches, and says which (or --clear).
    own = triage.run(*assign, "--bench", "B9", "--token", demo["tokens"]["demo-bench"], check=False)
    assert own.returncode != 0 and "operator.manage" in own.stderr
    neither = triage.run(*assign, "--token", admin, check=False)
    assert neither.returncode != 0 and "--clear" in neither.stderr
    cleared = json.loads(triage.run(*assign, "--clear", "--token", admin).stdout)
    assert cleared["benches"] == [] and _benches(triage, admin)["demo-bench"] == []
