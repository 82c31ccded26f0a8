"""Every door is checked: each API route, each web page and each CLI command, tried as nobody,
with a dead token and with every role, against a real server.

What each route and page needs comes from a table written by hand from the design
(``tests/e2e/access_table.py``), not from what the route says about itself: a route declaring
the wrong permission in ``x-access``, refusing the wrong roles, or missing from the table (a new
route, or one hidden from the OpenAPI document) fails here.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
import typer
from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute
from typer.testing import CliRunner

from tests.e2e import access_table as table
from tests.e2e.conftest import Triage, start_server, stop
from tests.people import PASSWORD
from triage.domain.roles import MATRIX, Permission, Role
from triage.entrypoints.asgi import create_app
from triage.entrypoints.cli import app as cli_app

# What a read-only token is scoped for (triage.domain.token.READ_ONLY, written out again).
READ_ONLY = {Permission.TRIAGE_READ, Permission.HISTORY_READ, Permission.LEDGER_READ}
READ_ONLY |= {Permission.RECEIPT_ISSUE, Permission.ACCESS_REVIEW, Permission.OWNER_READ}


@dataclass
class Door:
    client: httpx.Client
    triage: Triage
    tokens: dict[Role, str]
    ids: dict[Role, str]  # the operator holding each role
    expired: str
    revoked: str
    read_only_supervisor: str
    served: set[table.Route]  # every route of the application, from its route objects
    published: dict[table.Route, str]  # every operation of the OpenAPI document: its x-access
    browsers: dict[Role, httpx.Client]  # a signed-in browser for each role


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Door]:
    triage = Triage(tmp_path_factory.mktemp("access") / "var")
    triage.run("init")
    admin = triage.first_admin("root", "Root")
    tokens = {Role.ADMINISTRATOR: admin}
    ids = {Role.ADMINISTRATOR: "root"}
    triage.register_owner(admin)
    for role in Role:
        if role is Role.ASSET_OWNER:
            # A person of an asset owner: outside the facility, at no bench.
            ids[role] = "asset-owner"
            tokens[role] = triage.staff(admin, ids[role], role.value, asset_owner="MAP-1")
        elif role is not Role.ADMINISTRATOR:
            ids[role] = role.value.replace("_", "-")
            tokens[role] = triage.staff(admin, ids[role], role.value, bench="B1")

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
    with triage.opened() as application:
        served = _served(create_app(application).routes)
    server, client = start_server(triage, "--checkpoint-interval", "0")
    browsers: dict[Role, httpx.Client] = {}
    try:
        published = _published(client.get("/api/v1/openapi.json").json(), served)
        for role, who in ids.items():
            browsers[role] = _signed_in(client, triage, who)
        yield Door(
            client, triage, tokens, ids, expired, revoked, read_only, served, published, browsers
        )
    finally:
        for browser in browsers.values():
            browser.close()
        client.close()
        stop(server)


def _signed_in(client: httpx.Client, triage: Triage, who: str) -> httpx.Client:
    """A browser with the web session of ``who``, signed in with password and second factor."""
    browser = httpx.Client(base_url=client.base_url, timeout=30)
    signed = browser.post(
        "/login",
        data={
            "operator_id": who,
            "password": PASSWORD,
            # The code of the next step: the current one was spent confirming the authenticator.
            "second_factor": pyotp.TOTP(triage.people[who].totp_secret).at(time.time() + 30),
            "bench": "",
        },
    )
    assert signed.status_code == 303, signed.text
    # The cookie is Secure; the test client sends it over loopback as a browser does.
    browser.cookies.set("triage_session", signed.cookies["triage_session"])
    return browser


def _served(routes: list[BaseRoute]) -> set[table.Route]:
    """Method and path of every route, the included routers' too, whether the OpenAPI document
    shows it or not (HEAD goes with GET; the static files are no route)."""
    return {
        (method, getattr(context.route, "path", ""))
        for context in iter_route_contexts(routes)
        for method in getattr(context.route, "methods", None) or ()
        if method != "HEAD"
    }


def _published(spec: dict[str, Any], served: set[table.Route]) -> dict[table.Route, str]:
    """Each operation's x-access, under its route's own template: the document writes a path
    parameter without its convertor ({index:path} as {index}), the route and the table with it."""
    template = {re.sub(r":\w+}", "}", path): path for _, path in served}
    return {
        (method.upper(), template.get(path, path)): operation.get("x-access", "")
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    }


def _concrete(path: str) -> str:
    """The path with an `x` for every parameter."""
    while "{" in path:
        start = path.index("{")
        path = path[:start] + "x" + path[path.index("}") + 1 :]
    return path


def _call(door: Door, method: str, path: str, token: str | None, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    kwargs.setdefault("json", {})
    return door.client.request(method, path, headers=headers, **kwargs)


def test_every_route_is_in_the_table_once(door: Door) -> None:
    unknown = sorted(door.served - table.every_route())
    assert not unknown, f"say in tests/e2e/access_table.py what these need: {unknown}"
    gone = sorted(table.every_route() - door.served)
    assert not gone, f"tests/e2e/access_table.py lists routes that are not served: {gone}"
    assert sum(len(routes) for routes in table.LISTS) == len(table.every_route())
    assert set(door.published) <= door.served
    assert len(door.published) >= 100


def test_every_route_declares_what_the_table_says(door: Door) -> None:
    wrong = [
        (method, path, access, table.declared((method, path)))
        for (method, path), access in sorted(door.published.items())
        if access != table.declared((method, path))
    ]
    assert not wrong, f"(method, path, declared in x-access, expected): {wrong}"


def test_every_route_refuses_callers_without_valid_credentials(door: Door) -> None:
    api = {route for route in door.served if route[1].startswith(table.API)}
    for method, template in sorted(api - table.PUBLIC):
        path = _concrete(template)
        for label, token in (
            ("no credentials", None),
            ("an expired token", door.expired),
            ("a revoked token", door.revoked),
        ):
            response = _call(door, method, path, token)
            assert response.status_code == 401, (method, path, label, response.text)
            assert response.headers["content-type"] == "application/problem+json"
        if (method, template) in table.TOOL:
            # An operator's token is not a tool's signature.
            response = _call(door, method, path, door.tokens[Role.SUPERVISOR])
            assert response.status_code == 401, (method, path, response.text)


def test_every_route_refuses_every_role_without_its_permission(door: Door) -> None:
    tried = 0
    for (method, template), permission in sorted(table.NEEDS.items()):
        path = _concrete(template)
        for role, token in door.tokens.items():
            if permission in MATRIX[role]:
                continue
            response = _call(door, method, path, token)
            assert response.status_code == 403, (method, path, role, response.text)
            assert permission.value in response.json()["detail"]
            tried += 1
    assert tried >= 200


def test_every_read_lets_in_every_role_with_its_permission(door: Door) -> None:
    """Only reads are tried (a change would change the facility under the other tests); a
    parameter that names nothing gives 404 or 422, never 401 or 403."""
    tried = 0
    for (method, template), permission in sorted(table.NEEDS.items()):
        if method != "GET":
            continue
        for role, token in door.tokens.items():
            if permission in MATRIX[role]:
                response = _call(door, method, _concrete(template), token)
                assert response.status_code not in (401, 403), (template, role, response.text)
                tried += 1
    assert tried >= 100


def test_owner_scoped_reads_let_in_their_readers_and_refuse_the_rest(door: Door) -> None:
    """The facility's people with the read's permission, and an asset owner's person (owner.read:
    its own only, what it may not see being 404, never 403), read; anyone else is refused,
    told both permissions."""
    for (method, template), permission in sorted(table.OWNER_SCOPED.items()):
        for role, token in door.tokens.items():
            response = _call(door, method, _concrete(template), token)
            if MATRIX[role] & {permission, Permission.OWNER_READ}:
                assert response.status_code not in (401, 403), (template, role, response.text)
            else:
                assert response.status_code == 403, (template, role, response.text)
                detail = response.json()["detail"]
                assert permission.value in detail and "owner.read" in detail, (template, detail)


def _someone_elses(door: Door, route: table.Route, role: Role) -> httpx.Response:
    """Ask ``route`` about another operator's account, with the token of ``role``."""
    other = door.ids[Role.AUDITOR if role is Role.ADMINISTRATOR else Role.ADMINISTRATOR]
    token, (method, template) = door.tokens[role], route
    if template.endswith("/tokens/{token_id}/revoke"):
        path = template.replace("{token_id}", door.triage.people[other].token_id)
        return _call(door, method, path, token, json={"reason": "left the facility today"})
    if template.endswith("/operators/{operator_id}/benches"):
        return _call(door, method, template.replace("{operator_id}", other), token)
    if route == ("GET", f"{table.API}/tokens"):
        return _call(door, method, template, token, params={"operator_id": other})
    if route == ("POST", f"{table.API}/tokens"):
        return _call(door, method, template, token, json={"operator_id": other})
    if route in (("GET", f"{table.API}/locks"), ("GET", f"{table.API}/operators")):
        return _call(door, method, template, token)
    raise AssertionError(f"{method} {template}: say here how to ask about someone else's")


def test_routes_about_someone_elses_account_refuse_roles_without_the_permission(
    door: Door,
) -> None:
    for route, whose in sorted(table.WHOSE.items()):
        for role in Role:
            if whose.others & MATRIX[role]:
                continue
            response = _someone_elses(door, route, role)
            assert response.status_code == 403, (route, role, response.text)
            detail = response.json()["detail"]
            assert all(p.value in detail for p in whose.others), (route, role, detail)


def test_reads_about_accounts_let_in_the_owner_and_who_has_the_permission(door: Door) -> None:
    reads = {route: whose for route, whose in table.WHOSE.items() if route[0] == "GET"}
    assert reads
    for route, whose in sorted(reads.items()):
        for role in Role:
            if whose.others & MATRIX[role]:
                response = _someone_elses(door, route, role)
                assert response.status_code == 200, (route, role, response.text)
            if whose.own:
                path = route[1].replace("{operator_id}", door.ids[role])
                response = _call(door, "GET", path, door.tokens[role])
                assert response.status_code == 200, (route, role, response.text)


def test_a_read_only_token_cannot_change_anything(door: Door) -> None:
    for (method, template), permission in sorted(table.NEEDS.items()):
        if permission in READ_ONLY:
            continue
        response = _call(door, method, _concrete(template), door.read_only_supervisor)
        assert response.status_code == 403, (method, template, response.text)
        detail = response.json()["detail"]
        assert "not scoped" in detail or "may not" in detail


def test_the_table_keeps_the_separation_of_duties() -> None:
    """From the design: an auditor only reads and verifies; a security manager and an
    administrator run no triage."""
    changes = {route: p for route, p in table.NEEDS.items() if route[0] != "GET"}
    # Verifying is the auditor's own job: "verify now" records nothing but its result.
    verifying = {("POST", f"{table.API}/assurance/verify-now")}
    auditors = [route for route, p in changes.items() if p in MATRIX[Role.AUDITOR]]
    assert set(auditors) == verifying
    triage_work = ("jobs", "devices", "consignments", "exceptions")
    triage_changes = {
        route: p
        for route, p in changes.items()
        if route[1].removeprefix(f"{table.API}/").split("/")[0] in triage_work
    }
    assert len(triage_changes) >= 10
    for role in (Role.SECURITY_MANAGER, Role.ADMINISTRATOR):
        assert not [route for route, p in triage_changes.items() if p in MATRIX[role]], role


# -- the web pages ------------------------------------------------------------------------------


def test_every_page_sends_who_is_not_signed_in_to_sign_in(door: Door) -> None:
    for method, template in sorted(table.WEB):
        response = door.client.request(method, _concrete(template))
        assert response.status_code == 303, (method, template, response.status_code)
        assert response.headers["location"].startswith("/login"), (method, template)


def test_every_page_refuses_every_role_without_its_permission(door: Door) -> None:
    """Forms too: the permission is checked before the form (or its CSRF token) is read."""
    tried = 0
    for (method, template), permission in sorted(table.WEB.items()):
        if permission is None:
            continue
        for role, browser in door.browsers.items():
            if permission in MATRIX[role]:
                continue
            response = browser.request(method, _concrete(template))
            assert response.status_code == 403, (method, template, role, response.status_code)
            assert "This page is for:" in response.text, (method, template, role)
            tried += 1
    assert tried >= 100


# -- the command line ---------------------------------------------------------------------------

# Commands that need no operator token, and why.
CLI_EXEMPT = {
    "init": "creates the facility and its keys on the host",
    "serve": "starts the server; requests are checked there",
    "backup": "reads the data directory and its signing key on the host, as serve does",
    "restore": "creates a facility on the host from an archive, as init does",
    "keys show": "prints the public verifier key",
    "verify": "checks a receipt offline with the public key",
    "security-log read": "decodes a GBCS message offline, touching no facility data",
    "agent keygen": "creates a tool's key pair on the bench",
    "asset-owner keygen": "creates an asset owner's key pair at the owner, offline",
    "dispatch verify-note": "checks a dispatch note offline with the facility's public key",
    "dispatch sign-acknowledgement": "signs at the asset owner, offline, with the owner's key",
    "agent run": "the agent signs every request with its tool key",
    "agent simulate": "writes a simulated fleet file on the bench, touching no facility data",
    "demo": "only on a facility with no real operators (refused otherwise)",
    "operator add": "the first administrator only; then an administrator's token (tested below)",
    "auth activate": "signing in: the activation code is the credential",
    "auth confirm": "signing in: the activation code is the credential",
    "auth login": "signing in: password and second factor are the credential",
    "auth recover": "host-side recovery on the server with the data directory, as init and "
    "backup are; recorded as the host",
    # The witness is a program of its own, run by an asset owner, a head office or an assessor
    # apart from any facility: these act on its own directory (--dir), not on a facility.
    "witness keygen": "creates the witness's own key in its directory, touching no facility",
    "witness log add": "configures the witness's own directory, touching no facility",
    "witness log list": "reads the witness's own directory, touching no facility",
    "witness log remove": "configures the witness's own directory, touching no facility",
    "witness serve": "starts the witness; the log's signature on each checkpoint is what "
    "authenticates a request (C2SP tlog-witness)",
    "witness status": "reads the witness's own directory, touching no facility",
    "witness follow": "reads a facility's tile API, public when the facility chooses "
    "(Settings.tlog_public); --token, when given, is sent to it",
}


def _commands(group: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every command under ``group`` (the root builds its groups on first use: asked by name)."""
    ctx = typer.Context(group)
    for name in sorted(group.list_commands(ctx)):
        command = group.get_command(ctx, name)
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
