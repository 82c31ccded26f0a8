"""Attacks 7 and 9 of issue 16 as they were made: against `triage serve` of a demo facility and
with the `triage` command. An administrator minted a token for the security manager and changed
thresholds as them; an operator added with no second factor was handed a token; a 1-day read
token minted a 365-day one. Each is refused now, with a detail saying what to do instead."""

from __future__ import annotations

import json

import pyotp

from tests.e2e.conftest import Triage, start_server, stop
from tests.people import PASSWORD, open_data_dir
from triage.ledger.entry import Entry


def _token_entries(triage: Triage) -> list[Entry]:
    app = open_data_dir(triage.data_dir)
    try:
        with app.uow(write=False) as uow:
            raws = [raw for batch in uow.ledger.storage.read_entries(0, 10**9) for _, raw in batch]
    finally:
        app.close()
    return [e for e in map(Entry.from_bytes, raws) if e.type == "operator.token_issued"]


def test_the_demo_administrator_cannot_act_as_the_security_manager(triage: Triage) -> None:
    triage.run("init")
    demo = json.loads(triage.run("demo", "--json").stdout)
    admin = {"Authorization": f"Bearer {demo['tokens']['demo-admin']}"}
    server, client = start_server(triage, "--checkpoint-interval", "0")
    try:
        minted = client.post("/api/v1/tokens", json={"operator_id": "demo-security"}, headers=admin)
        assert minted.status_code == 403, minted.text
        assert "activation code instead" in minted.json()["detail"]
        # The security manager's own token still sets thresholds, as the security manager.
        security = {"Authorization": f"Bearer {demo['tokens']['demo-security']}"}
        assert client.get("/api/v1/thresholds", headers=security).status_code == 200
    finally:
        client.close()
        stop(server)
    # Every token of the demo was minted by its own person, from their own sign-in.
    issued = _token_entries(triage)
    assert {e.subject.id for e in issued} == set(demo["tokens"])
    assert all(e.actor.id == e.subject.id for e in issued)
    assert all(e.data["minted_by"]["kind"] == "session" for e in issued)


def test_the_first_administrator_is_given_an_activation_code_not_a_token(triage: Triage) -> None:
    triage.run("init")
    added = json.loads(
        triage.run(
            "operator", "add", "ada", "--name", "Ada", "--role", "administrator", "--json"
        ).stdout
    )
    assert "activation_code" in added and "token" not in added
    code = added["activation_code"]
    activated = json.loads(
        triage.run(
            "auth", "activate", "ada", "--code", code, "--password", PASSWORD, "--json"
        ).stdout
    )
    totp = pyotp.TOTP(activated["totp_secret"])
    recovery = json.loads(
        triage.run("auth", "confirm", "ada", "--code", code, "--totp", totp.now(), "--json").stdout
    )["recovery_codes"]
    signed_in = triage.run(
        "auth", "login", "ada", "--password", PASSWORD, "--recovery-code", recovery[0], "--json",
    )  # fmt: skip
    admin = json.loads(signed_in.stdout)["token"]
    assert triage.run("operator", "list", "--token", admin).returncode == 0
    [issued] = _token_entries(triage)
    assert issued.actor.id == "ada" and issued.data["minted_by"]["kind"] == "session"


def test_no_token_is_handed_to_someone_else_or_outlives_its_minter_at_the_command_line(
    triage: Triage,
) -> None:
    triage.run("init")
    demo = json.loads(triage.run("demo", "--json").stdout)
    admin = demo["tokens"]["demo-admin"]  # lasts 7 days

    # A supervisor added with a token for them: refused, and nobody is added.
    handed = triage.run(
        "operator", "add", "eve", "--name", "Eve", "--role", "supervisor", "--issue-token",
        "--token", admin, check=False,
    )  # fmt: skip
    assert handed.returncode == 2, handed.stdout
    assert "nobody is issued a token by someone else" in handed.stderr
    assert "--issue-activation" in handed.stderr
    listed = json.loads(triage.run("operator", "list", "--token", admin, "--json").stdout)
    assert "eve" not in [o["id"] for o in listed["items"]]
    triage.run("operator", "add", "eve", "--name", "Eve", "--role", "supervisor", "--token", admin)
    for_eve = triage.run("operator", "token", "eve", "--token", admin, check=False)
    assert for_eve.returncode == 2 and "activation code instead" in for_eve.stderr, for_eve.stdout

    # A 1-day read token mints no 365-day one, nor the administrator's one past its 7 days.
    reader = json.loads(
        triage.run(
            "operator", "token", "demo-admin", "--scope", "triage.read", "--days", "1",
            "--token", admin, "--json",
        ).stdout
    )  # fmt: skip
    longer = triage.run(
        "operator", "token", "demo-admin", "--days", "365", "--token", reader["token"],
        check=False,
    )  # fmt: skip
    assert longer.returncode == 2, longer.stdout
    assert f"cannot outlive token {reader['token_id']}" in longer.stderr
    beyond = triage.run(
        "operator", "token", "demo-admin", "--days", "8", "--token", admin, check=False
    )
    assert beyond.returncode == 2 and "cannot outlive token" in beyond.stderr
    minted = [e for e in _token_entries(triage) if e.subject.id == "demo-admin"]
    assert [e.data["minted_by"]["kind"] for e in minted] == ["session", "token"]
