"""Nobody acts as another person and no token skips the second factor (issue 16, attacks 7
and 9), through the API on both databases.

An administrator used to mint a token for anyone (``POST /api/v1/tokens {"operator_id":
"demo-security"}``) and then act as them; an operator with no second factor was given a token
and overrode another supervisor's inspection; a 1-day read token minted itself a 365-day one.
Now a token is minted only by its own operator, from a sign-in that passed the second factor
or a token minted from one, never outliving or out-scoping what minted it.
"""

from __future__ import annotations

import dataclasses
import secrets
from datetime import UTC, datetime, timedelta

import httpx
import pyotp
import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import Staffed
from tests.people import PASSWORD, Enrolled, enrol
from triage.config import Settings
from triage.domain.caller import Caller
from triage.domain.roles import Permission, Role
from triage.domain.token import StoredToken
from triage.entrypoints.asgi import create_app
from triage.errors import InvalidInput, PermissionDenied
from triage.ledger.entry import Entry, parse_time
from triage.services import auth, operators, tokens

DEVICE = "BC-33-AC-FF-FE-FA-55-3D"


def _api(staffed: Staffed) -> TestClient:
    return TestClient(create_app(staffed.app))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _entries(staffed: Staffed, entry_type: str) -> list[Entry]:
    return staffed.entries(entry_type)


def _expires(response: httpx.Response, client: TestClient, token: str) -> datetime:
    """When the token just issued in ``response`` expires, as its owner's list shows it."""
    token_id = response.json()["token_id"]
    listed = client.get("/api/v1/tokens", headers=_bearer(token)).json()["items"]
    return parse_time(next(t["expires_at"] for t in listed if t["id"] == token_id))


def _expiry_of(client: TestClient, enrolled: Enrolled) -> datetime:
    listed = client.get("/api/v1/tokens", headers=_bearer(enrolled.token)).json()["items"]
    return parse_time(next(t["expires_at"] for t in listed if t["id"] == enrolled.token_id))


def _legacy_token(staffed: Staffed, operator_id: str) -> str:
    """A token row for ``operator_id`` as the code before the fix stored one for an operator
    an administrator had just added (no second factor anywhere)."""
    secret = f"{tokens.TOKEN_PREFIX}{secrets.token_hex(8)}_{secrets.token_urlsafe(32)}"
    at = datetime.now(UTC)
    token_id = secret.split("_")[1]
    stored = StoredToken(token_id, operator_id, "api", at, None, at + timedelta(days=90))
    with staffed.app.uow(write=True) as uow:
        uow.tokens.add(stored, secret)
        uow.commit()
    return secret


# -- attack 7: an administrator acting as someone else ---------------------------------------


def test_an_administrator_cannot_mint_a_token_for_someone_else(staffed: Staffed) -> None:
    admin = enrol(staffed.app, Caller.system("test"), "ada", [Role.ADMINISTRATOR])
    enrol(staffed.app, staffed.admin, "sec", [Role.SECURITY_MANAGER])
    client = _api(staffed)

    impersonation = client.post(
        "/api/v1/tokens", json={"operator_id": "sec"}, headers=_bearer(admin.token)
    )
    assert impersonation.status_code == 403, impersonation.text
    detail = impersonation.json()["detail"]
    assert "nobody is issued a token by someone else" in detail
    assert "activation code instead" in detail
    # Not through the service either, whoever asks, signed in or on a trusted local path.
    for caller in (tokens.authenticate_token(staffed.app.uow, admin.token), staffed.admin):
        with pytest.raises(PermissionDenied, match="activation code instead"):
            tokens.issue_token(staffed.app.uow, caller, "sec")
    with pytest.raises(PermissionDenied, match="activation code instead"):
        tokens.issue_token(staffed.app.uow, Caller.system("test"), "sec")
    # Every token in the ledger was issued by its own operator.
    issued = _entries(staffed, "operator.token_issued")
    assert issued and all(e.actor.id == e.subject.id for e in issued)
    # For oneself it works (operator_id may be left out).
    own = client.post("/api/v1/tokens", json={"label": "script"}, headers=_bearer(admin.token))
    assert own.status_code == 201 and own.json()["operator_id"] == "ada"


def test_an_operator_without_a_second_factor_gets_no_token_and_can_only_enrol(
    staffed: Staffed,
) -> None:
    client = _api(staffed)
    admin = enrol(staffed.app, Caller.system("test"), "ada", [Role.ADMINISTRATOR])
    manager = tokens.authenticate_token(staffed.app.uow, admin.token)
    operators.create_operator(staffed.app.uow, manager, "eve", "Eve", frozenset({Role.SUPERVISOR}))
    # The way a token used to be handed to her refuses; so does the local path.
    handed = client.post(
        "/api/v1/tokens", json={"operator_id": "eve"}, headers=_bearer(admin.token)
    )
    assert handed.status_code == 403
    eve = operators.operator_caller(staffed.app.uow, "eve")
    with pytest.raises(PermissionDenied, match="only from a sign-in with the second factor"):
        tokens.issue_token(staffed.app.uow, eve, "eve")

    # A token she holds from before the fix: nothing but enrolment until she has one.
    staffed.manifest("C-1", [DEVICE])
    job = staffed.receive(DEVICE)
    legacy = _legacy_token(staffed, "eve")
    override = {"outcome": "quarantine", "justification": "looks tampered to me"}
    for method, path, body in (
        ("GET", "/api/v1/jobs", None),
        ("POST", f"/api/v1/jobs/{job.id}/override", override),
        ("POST", "/api/v1/tokens", {}),
    ):
        refused = client.request(method, path, json=body, headers=_bearer(legacy))
        assert refused.status_code == 403, (path, refused.text)
        assert "enrol a second factor first" in refused.json()["detail"]
    assert not _entries(staffed, "device.overridden")
    assert [e.subject.id for e in _entries(staffed, "operator.token_issued")] == ["ada"]

    # Enrolment stays open to her; afterwards that old token still predates her second factor.
    code = client.post("/api/v1/operators/eve/activation", headers=_bearer(admin.token))
    activated = client.post(
        "/api/v1/auth/activate",
        json={"operator_id": "eve", "code": code.json()["code"], "password": PASSWORD},
    )
    assert activated.status_code == 200, activated.text
    totp = pyotp.TOTP(activated.json()["totp_secret"])
    confirmed = client.post(
        "/api/v1/auth/mfa/confirm",
        json={"operator_id": "eve", "code": code.json()["code"], "totp_code": totp.now()},
    )
    assert confirmed.status_code == 200, confirmed.text
    stale = client.get("/api/v1/jobs", headers=_bearer(legacy))
    assert stale.status_code == 401 and "sign in again" in stale.json()["detail"]


# -- attack 9: a token outliving or out-scoping what minted it -------------------------------


def test_a_short_lived_token_cannot_mint_a_longer_or_wider_one(staffed: Staffed) -> None:
    client = _api(staffed)
    reader = enrol(
        staffed.app, staffed.admin, "sup", scopes=frozenset({Permission.TRIAGE_READ}), days=1
    )
    parent = tokens.authenticate_token(staffed.app.uow, reader.token)

    attack = {"operator_id": "sup", "days": 365}
    longer = client.post("/api/v1/tokens", json=attack, headers=_bearer(reader.token))
    assert longer.status_code == 422, longer.text
    detail = longer.json()["detail"]
    assert f"cannot outlive token {reader.token_id}" in detail and "leave days out" in detail
    assert (
        client.post("/api/v1/tokens", json={"days": 2}, headers=_bearer(reader.token)).status_code
        == 422
    )
    with pytest.raises(InvalidInput, match="cannot outlive"):
        tokens.issue_token(staffed.app.uow, parent, "sup", "again", None, 365)

    wider = client.post(
        "/api/v1/tokens", json={"scopes": ["device.scan"]}, headers=_bearer(reader.token)
    )
    assert wider.status_code == 403 and "wider scopes" in wider.json()["detail"]

    # Left to the default, a child lasts as long as its parent, with the parent's scopes.
    child = client.post("/api/v1/tokens", json={"label": "child"}, headers=_bearer(reader.token))
    assert child.status_code == 201, child.text
    assert _expires(child, client, reader.token) == _expiry_of(client, reader)
    grandchild = tokens.authenticate_token(staffed.app.uow, child.json()["token"])
    assert grandchild.scopes == frozenset({Permission.TRIAGE_READ})
    minted = _entries(staffed, "operator.token_issued")[-1]
    assert minted.data["minted_by"] == {"kind": "token", "token_id": reader.token_id}


def test_a_token_from_a_session_lasts_up_to_the_facility_maximum_not_the_session(
    staffed: Staffed,
) -> None:
    """A session lasts hours; the credential that passed the second factor is the person's
    enrolled second factor: a token from a session lasts up to the facility's maximum, and no
    longer than that second factor (enrolled anew, it ends every token minted before)."""
    limited = dataclasses.replace(
        staffed.app, settings=dataclasses.replace(staffed.app.settings, token_max_days=30)
    )
    client = TestClient(create_app(limited))
    ben = enrol(staffed.app, staffed.admin, "ben")
    signed = client.post(
        "/api/v1/auth/login",
        json={
            "operator_id": "ben",
            "password": ben.password,
            "second_factor": ben.recovery_codes.pop(),
        },
    )
    assert signed.status_code == 200, signed.text
    session = {
        "Cookie": f"triage_session={signed.cookies['triage_session']}",
        "X-CSRF-Token": signed.json()["csrf_token"],
    }
    client.cookies.clear()

    too_long = client.post("/api/v1/tokens", json={"days": 31}, headers=session)
    assert too_long.status_code == 422
    assert "1 to 30 days (the facility's maximum), not 31" in too_long.json()["detail"]
    made = client.post("/api/v1/tokens", json={"days": 30}, headers=session)
    assert made.status_code == 201, made.text
    login = _entries(staffed, "auth.login")[-1]
    issued = _entries(staffed, "operator.token_issued")[-1]
    # What minted it is named, by the sign-in's time (its auth.login entry), never a secret.
    assert issued.data["minted_by"]["kind"] == "session"
    assert parse_time(issued.data["minted_by"]["signed_in_at"]) == login.at
    assert signed.cookies["triage_session"] not in issued.to_bytes().decode()
    token = made.json()["token"]
    assert client.get("/api/v1/jobs", headers=_bearer(token)).status_code == 200

    # Enrolled anew: until confirmed, ben may only enrol; once confirmed, the old token is gone.
    code = auth.issue_activation(staffed.app.uow, staffed.admin, "ben")
    secret, _ = auth.activate(staffed.app.uow, "ben", code, PASSWORD, box=staffed.app.secret_box())
    pending = client.get("/api/v1/jobs", headers=_bearer(token))
    assert pending.status_code == 403 and "enrol a second factor first" in pending.json()["detail"]
    assert client.get("/api/v1/jobs", headers=session).status_code == 403
    auth.confirm_mfa(
        staffed.app.uow, "ben", code, pyotp.TOTP(secret).now(), box=staffed.app.secret_box()
    )
    gone = client.get("/api/v1/jobs", headers=_bearer(token))
    assert gone.status_code == 401 and "predates operator ben's current second factor" in gone.text


def test_the_facility_maximum_is_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAGE_TOKEN_MAX_DAYS", "14")
    assert Settings.from_env().token_max_days == 14
    monkeypatch.delenv("TRIAGE_TOKEN_MAX_DAYS")
    assert Settings.from_env().token_max_days == 90
    for bad in ("0", "366", "ninety", "-1"):
        monkeypatch.setenv("TRIAGE_TOKEN_MAX_DAYS", bad)
        with pytest.raises(InvalidInput, match="TRIAGE_TOKEN_MAX_DAYS"):
            Settings.from_env()
