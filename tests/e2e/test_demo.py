"""`triage demo` (what `make run` prints): staff for each role, seals ready at the bench, and
never on a facility with real people."""

from __future__ import annotations

import json

from tests.e2e.conftest import Triage


def test_demo_staff_get_tokens_and_the_bench_has_seals(triage: Triage) -> None:
    triage.run("init")
    first = json.loads(triage.run("demo", "--json").stdout)
    assert set(first["tokens"]) == {
        "demo-admin",
        "demo-supervisor",
        "demo-bench",
        "demo-stores",
        "demo-security",
        "demo-auditor",
    }
    held = json.loads(
        triage.run(
            "seals",
            "list",
            "--holder",
            "demo-bench",
            "--status",
            "issued",
            "--json",
            "--token",
            first["tokens"]["demo-bench"],
        ).stdout
    )
    assert held["total"] == 20 and held["items"][0]["serial"] == "DEMO-0001"

    # Web sign-in: every demo person has a password and a one-time code that work.
    assert set(first["web"]) == set(first["tokens"])
    bench = first["web"]["demo-bench"]
    signed = triage.run(
        "auth", "login", "demo-bench", "--password", bench["password"],
        "--recovery-code", bench["recovery_code"], "--bench", "B1", "--json",
    )  # fmt: skip
    assert json.loads(signed.stdout)["token"]

    # Run again (make run on an existing demo): fresh tokens and logins (the administrator's
    # own login is not re-enrolled by itself), no second batch of seals. Each run enrols the
    # demo people anew, so the tokens of the run before stop working.
    text = triage.run("demo").stdout
    assert "web sign-in" in text and "demo-bench" in text.split("web sign-in", 1)[1]
    assert "demo-admin: token and sign-in shown by the first 'triage demo' only" in text
    again = json.loads(triage.run("demo", "--json").stdout)
    assert again["tokens"]["demo-bench"] != first["tokens"]["demo-bench"]
    assert "demo-admin" not in again["web"] and "demo-admin" not in again["tokens"]
    assert again["web"]["demo-bench"]["password"] != bench["password"]
    stale = triage.run("seals", "batches", "--token", first["tokens"]["demo-bench"], check=False)
    assert stale.returncode == 2 and "sign in again" in stale.stderr
    batches = json.loads(
        triage.run("seals", "batches", "--json", "--token", again["tokens"]["demo-auditor"]).stdout
    )
    assert batches["total"] == 1


def test_demo_is_refused_beside_real_operators(triage: Triage) -> None:
    triage.run("init")
    triage.first_admin("ada", "Ada")
    refused = triage.run("demo", check=False)
    assert refused.returncode == 2
    assert "real operators (ada)" in refused.stderr
    assert not (triage.data_dir / "demo-bench").exists()  # no demo tool key, no fleet
