"""Unauthenticated abuse of a real `triage serve` (issue 16, attacks 2, 3, 4 and 12): a flood of
every endpoint that anyone may call grows the ledger by a few entries, suspends no tool and
locks no account; X-Forwarded-For is believed only from a configured proxy; and the host can
give the facility back to its administrator without a token."""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Triage, start_server, stop
from triage.bootstrap import App, bootstrap
from triage.config import Settings
from triage.domain import agent_request
from triage.domain.tool import ToolStatus
from triage.ledger.entry import Entry, format_time

PASSWORD = "Kettle-Harbour-Lantern-47"
REQUESTS = 50
# Entries one endpoint's flood may add: a few refusals and locks, then one a minute at most.
PER_ENDPOINT = 6


@dataclass
class Site:
    triage: Triage
    admin_token: str


@pytest.fixture
def site(triage: Triage, tmp_path: Path) -> Site:
    triage.run("init")
    admin = triage.first_admin("ada")
    key = tmp_path / "tool.key"
    verifier = triage.run("agent", "keygen", "--tool-id", "BENCH-2", "--out", str(key)).stdout
    triage.run(
        "tool", "enrol", "BENCH-2", "--bench", "B2", "--key", verifier.strip(), "--token", admin
    )
    return Site(triage, admin)


@pytest.fixture
def served(site: Site) -> Iterator[httpx.Client]:
    proc, client = start_server(site.triage, "--checkpoint-interval", "0")
    try:
        yield client
    finally:
        client.close()
        stop(proc)


def _app(triage: Triage) -> App:
    database = f"sqlite:///{triage.data_dir / 'triage.db'}"
    return bootstrap(Settings(data_dir=triage.data_dir, database_url=database))


def _entries(triage: Triage) -> list[Entry]:
    with _app(triage).uow(write=False) as uow:
        return [
            Entry.from_bytes(raw)
            for batch in uow.ledger.storage.read_entries(0, 2**62)
            for _, raw in batch
        ]


def _junk_agent_headers() -> dict[str, str]:
    return {
        agent_request.HEADER_TOOL: "BENCH-2",
        agent_request.HEADER_TIME: format_time(datetime.now(UTC)),
        agent_request.HEADER_NONCE: secrets.token_hex(16),
        agent_request.HEADER_SIGNATURE: base64.b64encode(secrets.token_bytes(64)).decode(),
    }


def _junk(path: str) -> dict[str, Any]:
    """A request anyone could send to ``path``: about a real operator or tool, with made-up
    secrets."""
    if path.startswith("/api/v1/agent/"):
        body = {"result": "x", "work_order_id": "x", "reason": "x"}
        return {"headers": _junk_agent_headers(), "json": body}
    made_up = secrets.token_urlsafe(12)
    bodies = {
        "/api/v1/auth/login": {
            "operator_id": "ada",
            "password": f"Guess-{made_up}",
            "second_factor": "123456",
        },
        "/api/v1/auth/activate": {"operator_id": "ada", "code": made_up, "password": PASSWORD},
        "/api/v1/auth/mfa/confirm": {"operator_id": "ada", "code": made_up, "totp_code": "123456"},
    }
    return {"json": bodies.get(path, {})}


def _unauthenticated_endpoints(client: httpx.Client) -> list[tuple[str, str]]:
    """Every operation the OpenAPI document says anyone (or a tool's signature) may call."""
    document = client.get("/api/v1/openapi.json").json()
    found = [
        (method.upper(), path)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if operation.get("x-access") in ("public", "tool")
    ]
    assert ("POST", "/api/v1/agent/results") in found and ("POST", "/api/v1/auth/login") in found
    return found


def test_a_flood_of_every_unauthenticated_endpoint_adds_a_few_entries_and_locks_nobody(
    site: Site, served: httpx.Client
) -> None:
    endpoints = _unauthenticated_endpoints(served)
    grown = {}
    for method, path in [*endpoints, ("POST", "/login")]:
        before = len(_entries(site.triage))
        statuses = set()
        for _ in range(REQUESTS):
            if path == "/login":  # the web sign-in form
                form = {
                    "operator_id": "ada",
                    "password": secrets.token_hex(8),
                    "second_factor": "1",
                }
                response = served.post(path, data=form)
            else:
                response = served.request(method, path, **_junk(path))
            statuses.add(response.status_code)
        assert max(statuses) < 500, (method, path, statuses)
        grown[f"{method} {path}"] = len(_entries(site.triage)) - before
    assert all(count <= PER_ENDPOINT for count in grown.values()), grown

    with _app(site.triage).uow(write=False) as uow:
        tool = uow.tools.get("BENCH-2")
        locks = uow.credentials.locks()
    assert tool is not None and tool.status is ToolStatus.ACTIVE
    assert [lock.subject_id for lock in locks if lock.subject_kind == "operator"] == []
    types = [e.type for e in _entries(site.triage)]
    assert "tool.suspended" not in types and "alert.raised" not in types
    # The administrator's token still works.
    bearer = {"Authorization": f"Bearer {site.admin_token}"}
    assert served.get("/api/v1/locks", headers=bearer).status_code == 200


def _fail_login(client: httpx.Client, operator_id: str, forwarded: str) -> int:
    response = client.post(
        "/api/v1/auth/login",
        json={"operator_id": operator_id, "password": "Wrong-password-1", "second_factor": "1"},
        headers={"X-Forwarded-For": forwarded},
    )
    return response.status_code


def _sources(triage: Triage) -> set[str]:
    return {str(e.data["source"]) for e in _entries(triage) if e.type == "auth.login_failed"} | {
        e.subject.id for e in _entries(triage) if e.subject.kind == "source"
    }


def test_a_spoofed_forwarded_for_is_ignored_and_the_address_locks(
    site: Site, served: httpx.Client
) -> None:
    statuses = [_fail_login(served, f"nobody-{n}", f"198.51.100.{n}") for n in range(25)]
    assert statuses[0] == 401 and statuses[-1] == 403, statuses
    # The ledger names the socket's address only, and that address is locked.
    assert _sources(site.triage) == {"127.0.0.1"}
    with _app(site.triage).uow(write=False) as uow:
        locked = [(lock.subject_kind, lock.subject_id) for lock in uow.credentials.locks()]
    assert locked == [("source", "127.0.0.1")]


def test_a_trusted_proxy_names_the_client_and_the_host_recovers_a_locked_administrator(
    site: Site,
) -> None:
    triage = site.triage
    proc, client = start_server(
        triage, "--checkpoint-interval", "0", "--trusted-proxy", "127.0.0.1"
    )
    try:
        # The right-most address the proxy did not add itself is the client's; what the client
        # wrote to the left of it counts for nothing.
        _fail_login(client, "nobody", "10.9.8.7, 203.0.113.5")
        assert "203.0.113.5" in _sources(triage) and "10.9.8.7" not in _sources(triage)

        # A guess from five addresses locks the administrator (as it should) ...
        for n in range(5):
            while _fail_login(client, "ada", f"198.51.100.{n}") == 429:
                time.sleep(1)  # the growing wait between failures: a guess is slow
        bearer = {"Authorization": f"Bearer {site.admin_token}"}
        refused = client.get("/api/v1/locks", headers=bearer)
        assert refused.status_code == 401 and "locked" in refused.json()["detail"]
        # ... whose own token cannot unlock them; the host can, with no token.
        unlock = triage.run(
            "auth",
            "unlock",
            "operator",
            "ada",
            "--reason",
            "x",
            "--token",
            site.admin_token,
            check=False,
        )
        assert unlock.returncode != 0
        done = json.loads(
            triage.run(
                "auth", "recover", "ada", "--reason", "locked out by a password guess", "--json"
            ).stdout
        )
        assert done["account_unlocked"] is True
        assert client.get("/api/v1/locks", headers=bearer).status_code == 200
        # A new activation code for an administrator who lost their password or second factor.
        again = json.loads(
            triage.run(
                "auth", "recover", "ada", "--activation", "--reason", "lost phone", "--json"
            ).stdout
        )
        activated = triage.run(
            "auth", "activate", "ada", "--code", again["activation_code"], "--password", PASSWORD
        )
        assert "TOTP secret" in activated.stdout
    finally:
        client.close()
        stop(proc)
    recovered = [e for e in _entries(triage) if e.actor.kind == "system" and e.actor.id == "host"]
    assert [(e.type, e.subject.id) for e in recovered] == [
        ("auth.unlocked", "ada"),
        ("auth.activation_issued", "ada"),
    ]
    assert recovered[0].data["reason"] == "locked out by a password guess"
