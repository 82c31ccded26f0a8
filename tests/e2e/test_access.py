"""Every door is checked: each API route and each CLI command, tried as nobody, with a dead token
and with every role, against a real server.

The routes are enumerated from the published OpenAPI document, so a new route that forgets its
check (or forgets to say in ``x-access`` what it needs) fails here.
"""

from __future__ import annotations

import json
import os
import sqlite3
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from typer.testing import CliRunner

from tests.e2e.conftest import Triage, start_server, stop
from triage.domain.roles import MATRIX, Permission, Role
from triage.entrypoints.cli import app as cli_app

# Routes anyone may call: liveness, and the steps of signing in.
PUBLIC_ALLOWED = {"/api/v1/health"}


@dataclass
class Door:
    client: httpx.Client
    triage: Triage
    tokens: dict[Role, str]
    expired: str
    revoked: str
    read_only_supervisor: str


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Door]:
    triage = Triage(tmp_path_factory.mktemp("access") / "var")
    triage.run("init")
    admin = triage.first_admin("root", "Root")
    tokens = {Role.ADMINISTRATOR: admin}
    for role in Role:
        if role is not Role.ADMINISTRATOR:
            who = role.value.replace("_", "-")
            tokens[role] = triage.staff(admin, who, role.value, bench="B1")

    def issue(*extra: str) -> tuple[str, str]:
        """Another token of the supervisor's, minted with their own."""
        own = tokens[Role.SUPERVISOR]
        out = json.loads(triage.run("operator", "token", "--token", own, "--json", *extra).stdout)
        return out["token"], out["token_id"]

    revoked, revoked_id = issue()
    triage.run(
        "operator", "revoke-token", revoked_id, "--reason", "tablet lost on site", "--token", admin
    )
    expired, expired_id = issue("--days", "1")
    # A day passes for this token: its expiry moves into the past.
    with sqlite3.connect(triage.data_dir / "triage.db") as db:
        db.execute(
            "UPDATE api_token SET expires_at = '2020-01-01 00:00:00.000000' WHERE id = ?",
            (expired_id,),
        )
    read_only, _ = issue("--scope", "read-only")
    server, client = start_server(triage, "--checkpoint-interval", "0")
    try:
        yield Door(client, triage, tokens, expired, revoked, read_only)
    finally:
        client.close()
        stop(server)


def _routes(door: Door) -> list[tuple[str, str, str]]:
    spec = door.client.get("/api/v1/openapi.json").json()
    routes = []
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            access = operation.get("x-access")
            assert access, f"{method.upper()} {path} does not say what it needs (x-access)"
            concrete = path
            while "{" in concrete:
                start = concrete.index("{")
                concrete = concrete[:start] + "x" + concrete[concrete.index("}") + 1 :]
            routes.append((method.upper(), concrete, access))
    assert len(routes) >= 30
    return routes


def _call(door: Door, method: str, path: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return door.client.request(method, path, headers=headers, json={})


def test_every_route_refuses_callers_without_valid_credentials(door: Door) -> None:
    for method, path, access in _routes(door):
        if access == "public":
            continue
        for label, token in (
            ("no credentials", None),
            ("an expired token", door.expired),
            ("a revoked token", door.revoked),
        ):
            response = _call(door, method, path, token)
            assert response.status_code == 401, (method, path, label, response.text)
            assert response.headers["content-type"] == "application/problem+json"
        if access == "tool":
            # An operator's token is not a tool's signature.
            response = _call(door, method, path, door.tokens[Role.SUPERVISOR])
            assert response.status_code == 401, (method, path, response.text)


def test_every_route_refuses_every_role_without_its_permission(door: Door) -> None:
    tried = 0
    for method, path, access in _routes(door):
        if access in ("public", "tool", "self", "service"):
            continue
        permission = Permission(access)
        for role, token in door.tokens.items():
            if permission in MATRIX[role]:
                continue
            response = _call(door, method, path, token)
            assert response.status_code == 403, (method, path, role, response.text)
            assert permission.value in response.json()["detail"]
            tried += 1
    assert tried >= 60


def test_a_read_only_token_cannot_change_anything(door: Door) -> None:
    readers = {Permission.TRIAGE_READ, Permission.HISTORY_READ, Permission.LEDGER_READ}
    readers |= {Permission.RECEIPT_ISSUE, Permission.ACCESS_REVIEW}
    for method, path, access in _routes(door):
        if access in ("public", "tool", "self", "service") or Permission(access) in readers:
            continue
        response = _call(door, method, path, door.read_only_supervisor)
        assert response.status_code == 403, (method, path, response.text)
        assert "not scoped" in response.json()["detail"] or "may not" in response.json()["detail"]


def test_public_routes_are_only_the_expected_ones(door: Door) -> None:
    public = {path for _, path, access in _routes(door) if access == "public"}
    assert public >= PUBLIC_ALLOWED
    # Anything else public must be one of the steps of signing in.
    assert all(p in PUBLIC_ALLOWED or p.startswith("/api/v1/auth/") for p in public), public


# -- the command line ---------------------------------------------------------------------------

# Commands that need no operator token, and why.
CLI_EXEMPT = {
    "init": "creates the facility and its keys on the host",
    "serve": "starts the server; requests are checked there",
    "backup": "reads the data directory and its signing key on the host, as serve does",
    "restore": "creates a facility on the host from an archive, as init does",
    "keys show": "prints the public verifier key",
    "verify": "checks a receipt offline with the public key",
    "agent keygen": "creates a tool's key pair on the bench",
    "agent run": "the agent signs every request with its tool key",
    "demo": "only on a facility with no real operators (refused otherwise)",
    "operator add": "the first administrator only; then an administrator's token (tested below)",
    "auth activate": "signing in: the activation code is the credential",
    "auth confirm": "signing in: the activation code is the credential",
    "auth login": "signing in: password and second factor are the credential",
    "auth recover": "host-side recovery on the server with the data directory, as init and "
    "backup are; recorded as the host",
}


def _commands(group: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for name, command in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        if hasattr(command, "commands"):
            yield from _commands(command, f"{full} ")
        else:
            yield full, command


def _dummy_args(command: Any, tmp: Path) -> list[str]:
    """Values for every required parameter, so that only the credentials are missing."""
    dummy = tmp / "dummy.txt"
    dummy.write_text("x\n")
    args: list[str] = []
    for param in command.params:
        if not param.required:
            continue
        # An existing file serves for names and paths alike: the token is checked first.
        hint = typing.get_type_hints(command.callback).get(param.name)
        value = "1" if hint is int else str(dummy)
        if type(param).__name__ in ("Argument", "TyperArgument"):
            args.append(value)
        else:
            args += [param.opts[0], value]
    return args


def test_every_cli_command_refuses_without_valid_credentials(door: Door, tmp_path: Path) -> None:
    group = typer.main.get_command(cli_app)
    checked = 0
    for name, command in _commands(group):
        if name in CLI_EXEMPT:
            continue
        token_option = [p for p in command.params if "--token" in getattr(p, "opts", ())]
        assert token_option, f"`triage {name}` takes no --token: say why in CLI_EXEMPT"
        args = [*name.split(), *_dummy_args(command, tmp_path)]
        env = {k: v for k, v in door.triage.env.items() if k != "TRIAGE_TOKEN"}
        for token, says in (
            (None, "needs your API token"),
            (door.expired, "expired"),
            (door.revoked, "revoked"),
        ):
            run_env = env if token is None else {**env, "TRIAGE_TOKEN": token}
            result = _run(door.triage, args, run_env)
            assert result.exit_code == 2, (name, result.output)
            assert says in result.output, (name, says, result.output)
        checked += 1
    assert checked >= 25


def test_cli_wrong_role_is_refused(door: Door) -> None:
    auditor = door.tokens[Role.AUDITOR]
    env = {**door.triage.env, "TRIAGE_TOKEN": auditor}
    for args, needs in (
        (["device", "scan", "BC-33-AC-FF-FE-FA-55-3D"], "device.scan"),
        (["ledger", "checkpoint"], "ledger.checkpoint"),
        (["operator", "roles", "auditor", "--role", "administrator"], "operator.manage"),
        (["facility", "settings", "--max-reset-attempts", "5"], "facility.manage"),
    ):
        result = _run(door.triage, args, env)
        assert result.exit_code == 2, (args, result.output)
        assert "may not" in result.output and needs in result.output, (args, result.output)
    second_admin = _run(
        door.triage,
        ["operator", "add", "eve", "--name", "Eve", "--role", "administrator"],
        {k: v for k, v in door.triage.env.items() if k != "TRIAGE_TOKEN"},
    )
    assert second_admin.exit_code == 2 and "sign in as one" in second_admin.output


def _run(triage: Triage, args: list[str], env: dict[str, str]) -> Any:
    """The command in this process (many commands, each three times: a process each is slow)."""
    unset = {k: None for k in os.environ if k.startswith("TRIAGE_") and k not in env}
    return CliRunner().invoke(cli_app, args, env={**env, **unset})
