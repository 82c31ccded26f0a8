"""Sign-in through a real `triage serve`: cookies, CSRF, rate limits, and the CLI's login."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pyotp
import pytest

from tests.e2e.conftest import TEMPLATES, Triage, start_server, stop
from triage.domain.roles import Permission

DEVICE_SCAN = Permission.DEVICE_SCAN.value

PASSWORD = "Kettle-Harbour-Lantern-47"


@dataclass
class Site:
    client: httpx.Client
    triage: Triage
    recovery: list[str]
    admin_token: str


def _json(result: str) -> dict[str, Any]:
    value = json.loads(result)
    assert isinstance(value, dict)
    return value


def _first_administrator(triage: Triage) -> tuple[list[str], str]:
    """A new facility whose first administrator, ada, is added and enrolled through the
    command line: her recovery codes and an API token from her sign-in."""
    triage.run("init")
    # The host adds the first administrator, with an activation code (no token: nothing skips
    # the second factor).
    added = triage.run(
        "operator", "add", "ada", "--name", "Ada", "--role", "administrator", "--json"
    ).stdout
    assert "token" not in _json(added)
    code = str(_json(added)["activation_code"])
    activated = _json(
        triage.run(
            "auth", "activate", "ada", "--code", code, "--password", PASSWORD, "--json"
        ).stdout
    )
    totp = pyotp.TOTP(str(activated["totp_secret"]))
    confirmed = _json(
        triage.run("auth", "confirm", "ada", "--code", code, "--totp", totp.now(), "--json").stdout
    )
    recovery = [str(c) for c in confirmed["recovery_codes"]]
    # The CLI's way in: password and second factor give an API token (the next step's code,
    # since this step's was spent on the enrolment).
    login = triage.run(
        "auth",
        "login",
        "ada",
        "--password",
        PASSWORD,
        "--totp",
        totp.at(time.time() + 30),
        "--json",
    )
    token = str(_json(login.stdout)["token"])
    assert triage.run("auth", "locks", "--token", token).stdout.strip() == "nothing is locked"
    triage.run(
        "operator", "add", "sam", "--name", "Sam", "--role", "security_manager", "--token", token
    )
    return recovery, token


@pytest.fixture
def site(triage: Triage) -> Iterator[Site]:
    recovery, token = TEMPLATES.copied(triage, "ada-by-cli", _first_administrator)
    proc, client = start_server(triage)
    try:
        yield Site(client, triage, recovery, token)
    finally:
        client.close()
        stop(proc)


def _login(site: Site, second: str) -> httpx.Response:
    response = site.client.post(
        "/api/v1/auth/login",
        json={"operator_id": "ada", "password": PASSWORD, "second_factor": second},
    )
    # The cookie is Secure, so a client on plain HTTP must not send it by itself: the tests
    # send it by hand, as a browser on HTTPS would.
    site.client.cookies.clear()
    return response


def _cookie(response: httpx.Response) -> tuple[str, list[str]]:
    header = response.headers["set-cookie"]
    first, *attributes = [part.strip() for part in header.split(";")]
    name, _, value = first.partition("=")
    assert name == "triage_session"
    return value, [a.lower() for a in attributes]


def test_login_sets_a_secure_httponly_strict_cookie(site: Site) -> None:
    response = _login(site, site.recovery[0])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["operator_id"] == "ada" and body["csrf_token"]
    secret, attributes = _cookie(response)
    assert secret and secret not in response.text
    assert {"httponly", "secure", "samesite=strict", "path=/", "max-age=28800"} <= set(attributes)


def test_changes_with_the_cookie_need_the_csrf_token(site: Site) -> None:
    response = _login(site, site.recovery[1])
    secret, _ = _cookie(response)
    csrf = response.json()["csrf_token"]
    cookie = {"Cookie": f"triage_session={secret}"}
    issue = "/api/v1/operators/sam/activation"

    assert site.client.get("/api/v1/locks", headers=cookie).status_code == 200
    refused = site.client.post(issue, headers=cookie)
    assert refused.status_code == 403
    assert "X-CSRF-Token" in refused.json()["detail"]
    wrong = site.client.post(issue, headers={**cookie, "X-CSRF-Token": csrf[:-2] + "xx"})
    assert wrong.status_code == 403
    accepted = site.client.post(issue, headers={**cookie, "X-CSRF-Token": csrf})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["code"]

    # Logout needs the token too, and then the cookie is worthless.
    assert site.client.post("/api/v1/auth/logout", headers=cookie).status_code == 403
    ended = site.client.post("/api/v1/auth/logout", headers={**cookie, "X-CSRF-Token": csrf})
    assert ended.status_code == 204
    assert site.client.get("/api/v1/locks", headers=cookie).status_code == 401


def test_rapid_failures_are_answered_429_with_retry_after(site: Site) -> None:
    statuses = []
    for _ in range(4):
        response = site.client.post(
            "/api/v1/auth/login",
            json={"operator_id": "ada", "password": "Wrong-password-1", "second_factor": "1"},
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    assert statuses[0] == 401
    assert statuses[-1] == 429, statuses
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "wait" in response.json()["detail"]


def test_unauthenticated_callers_cannot_issue_activation_or_unlock(site: Site) -> None:
    assert site.client.post("/api/v1/operators/sam/activation").status_code == 401
    unlock = {"subject_kind": "operator", "subject_id": "ada", "reason": "x"}
    assert site.client.post("/api/v1/locks/unlock", json=unlock).status_code == 401
    bearer = {"Authorization": f"Bearer {site.admin_token}"}
    assert site.client.get("/api/v1/locks", headers=bearer).status_code == 200


def test_tokens_are_issued_listed_and_revoked_through_the_api(site: Site) -> None:
    client, triage = site.client, site.triage
    admin = {"Authorization": f"Bearer {site.admin_token}"}
    ben_token = triage.staff(site.admin_token, "ben", "bench_operator")
    ben = {"Authorization": f"Bearer {ben_token}"}

    # Ben gives himself a read-only token: shown once, not cached, limited to reading.
    made = client.post(
        "/api/v1/tokens",
        json={"operator_id": "ben", "label": "wall screen", "scopes": ["read-only"], "days": 7},
        headers=ben,
    )
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    reader = {"Authorization": f"Bearer {made.json()['token']}"}
    assert client.get("/api/v1/ledger", headers=reader).status_code == 200
    scan = client.post("/api/v1/devices/scan", json={"device_id": "x"}, headers=reader)
    assert scan.status_code == 403
    # A read-only token mints only read-only ones, and Ben none for somebody else.
    same = client.post("/api/v1/tokens", json={"operator_id": "ben"}, headers=reader)
    assert same.status_code == 201
    scan_token = {"operator_id": "ben", "scopes": [DEVICE_SCAN]}
    wider = client.post("/api/v1/tokens", json=scan_token, headers=reader)
    assert wider.status_code == 403 and "wider" in wider.json()["detail"]
    other = client.post("/api/v1/tokens", json={"operator_id": "sam"}, headers=ben)
    assert other.status_code == 403 and "activation code instead" in other.json()["detail"]
    bad = client.post("/api/v1/tokens", json={"operator_id": "ben", "scopes": ["x"]}, headers=ben)
    assert bad.status_code == 422 and "scopes: scope 'x' is not one of" in bad.json()["detail"]

    # Ben sees his own tokens, never a secret; the administrator sees everyone's.
    own = client.get("/api/v1/tokens", headers=ben).json()
    assert {t["operator_id"] for t in own["items"]} == {"ben"} and own["total"] == 3
    assert {t["label"] for t in own["items"]} == {"api", "wall screen"}
    read_only = [t for t in own["items"] if t["label"] == "wall screen"]
    assert "device.scan" not in read_only[0]["scopes"] and read_only[0]["state"] == "active"
    assert "tri_" not in json.dumps(own)  # no secret, not even a part of one
    assert client.get("/api/v1/tokens?operator_id=sam", headers=ben).status_code == 403
    everyone = client.get("/api/v1/tokens", headers=admin).json()
    assert {t["operator_id"] for t in everyone["items"]} >= {"ada", "ben"}

    # The administrator revokes the wall screen's token, with a reason: it stops at once.
    token_id = made.json()["token_id"]
    revoked = client.post(
        f"/api/v1/tokens/{token_id}/revoke", json={"reason": "screen replaced"}, headers=admin
    )
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert client.get("/api/v1/ledger", headers=reader).status_code == 401
    again = client.post(
        f"/api/v1/tokens/{token_id}/revoke", json={"reason": "revoked a second time"}, headers=admin
    )
    assert again.status_code == 409
    missing = client.post(
        "/api/v1/tokens/nope/revoke", json={"reason": "no such token here"}, headers=admin
    )
    assert missing.status_code == 404


def test_an_administrator_adds_a_person_changes_roles_and_locks_them_through_the_api(
    site: Site,
) -> None:
    client, admin = site.client, {"Authorization": f"Bearer {site.admin_token}"}
    person = {
        "operator_id": "kim",
        "name": "Kim",
        "roles": ["bench_operator", "stores"],
        "benches": ["B2", "B1"],
    }
    added = client.post("/api/v1/operators", json=person, headers=admin)
    assert added.status_code == 201, added.text
    assert added.headers["cache-control"] == "no-store"
    body = added.json()
    assert body["operator"]["roles"] == ["bench_operator", "stores"]
    assert body["operator"]["benches"] == ["B1", "B2"]
    assert body["activation_code"]  # handed over in person, shown this once
    again = client.post("/api/v1/operators", json=person, headers=admin)
    assert again.status_code == 409
    bad = client.post("/api/v1/operators", json={**person, "roles": ["boss"]}, headers=admin)
    assert bad.status_code == 422 and "not one of" in bad.json()["detail"]

    roles = client.put("/api/v1/operators/kim/roles", json={"roles": ["auditor"]}, headers=admin)
    assert roles.status_code == 200 and roles.json() == ["auditor"]
    locked = client.post(
        "/api/v1/operators/kim/lock", json={"reason": "left the company today"}, headers=admin
    )
    assert locked.status_code == 200 and locked.json()["reason"] == "left the company today"
    listed = {o["id"]: o for o in client.get("/api/v1/operators", headers=admin).json()["items"]}
    assert listed["kim"]["locked"] and listed["kim"]["roles"] == ["auditor"]
    assert not listed["ada"]["locked"]
    own = client.post("/api/v1/operators/ada/lock", json={"reason": "x" * 12}, headers=admin)
    assert own.status_code == 403
