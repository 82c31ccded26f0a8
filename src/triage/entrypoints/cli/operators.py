"""`triage operator`: operators, their roles, benches and API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from triage.domain.caller import Caller
from triage.domain.people import parse_roles
from triage.domain.roles import Role
from triage.domain.token import parse_scopes
from triage.entrypoints.cli.options import DataDir, JsonFlag, Reason, Token
from triage.entrypoints.cli.output import emit, fail
from triage.entrypoints.cli.session import open_app, session, token_caller
from triage.errors import InvalidInput

app = typer.Typer(help="Operators and their API tokens.", no_args_is_help=True)
Roles = Annotated[list[str], typer.Option(help="Role (repeat for several).")]


def _roles(role: list[str]) -> frozenset[Role]:
    try:
        return parse_roles(role)
    except ValueError as exc:
        raise InvalidInput(f"role: {exc}") from exc


@app.command("add")
def add(
    operator_id: Annotated[str, typer.Argument(help="Short id, e.g. 'j.smith'.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    role: Roles,
    token: Token = "",
    asset_owner: Annotated[
        str | None,
        typer.Option(
            "--asset-owner",
            help="With --role asset_owner (alone): the registered asset owner they act for.",
        ),
    ] = None,
    issue_activation: Annotated[
        bool,
        typer.Option(
            help="Also issue their one-time activation code (the first "
            "administrator always gets one)."
        ),
    ] = False,
    issue_token: Annotated[
        bool, typer.Option(hidden=True, help="Refused: nobody is issued someone's token.")
    ] = False,
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Register an operator. The first administrator is created by the host's own user and
    given an activation code: they set a password and a second factor, then sign in."""
    from triage.services import staffing

    if issue_token:
        raise fail(
            "--issue-token: nobody is issued a token by someone else. Use "
            "--issue-activation: the operator sets a password and second factor with the "
            "code, then signs in for a token of their own ('triage auth login')"
        )
    with open_app(data_dir) as application:
        roles = _roles(role)
        # No token: the host itself, allowed only while there is no administrator.
        caller: Caller | None = token_caller(application, token) if token else None
        added = staffing.add_operator(
            application.uow, caller, operator_id, name, roles, issue_activation, (), asset_owner
        )
    created, code = added.operator, added.activation_code
    names = sorted(r.value for r in created.roles)
    data: dict[str, object] = {"operator": created.id, "roles": names}
    text = f"operator {created.id} created with roles {', '.join(names)}"
    if created.asset_owner is not None:
        data["asset_owner"] = created.asset_owner
        text += f", acting for asset owner {created.asset_owner}"
    if code is not None:
        data["activation_code"] = code
        text += (
            f"\nactivation code (shown once, valid 72 h): {code}\n"
            f"then: triage auth activate {created.id} --code CODE --password-stdin; "
            f"triage auth confirm {created.id} --code CODE --totp NNNNNN; "
            f"triage auth login {created.id} --password-stdin --totp NNNNNN"
        )
    emit(as_json, data, text)


@app.command("token")
def operator_token(
    operator_id: Annotated[
        str | None,
        typer.Argument(help="Yourself (the default); a token for anyone else is refused."),
    ] = None,
    token: Token = "",
    label: Annotated[str, typer.Option(help="What the token is for.")] = "api",
    scope: Annotated[
        list[str] | None,
        typer.Option(help="Limit to a permission, or 'read-only' (repeat; default: roles)."),
    ] = None,
    days: Annotated[
        int | None,
        typer.Option(
            help="Days until it expires: at most the facility's maximum and never beyond "
            "the token asking (default: 90, or as long as allowed)."
        ),
    ] = None,
    bench_name: Annotated[
        str | None, typer.Option("--bench", help="The bench this token is used at.")
    ] = None,
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Issue yourself another API token from yours (shown once; only its hash is stored):
    never wider or longer-lived than yours."""
    from triage.services import tokens

    with session(data_dir, token) as s:
        try:
            scopes = parse_scopes(scope or [])
        except ValueError as exc:
            raise fail(str(exc)) from exc
        issued = tokens.issue_token(
            s.uow,
            s.caller,
            s.caller.id if operator_id is None else operator_id,
            label,
            scopes=scopes,
            days=days,
            bench=bench_name,
            max_days=s.app.settings.token_max_days,
        )
        emit(as_json, {"token": issued.secret, "token_id": issued.token_id}, issued.secret)


@app.command("tokens")
def operator_tokens(
    operator_id: Annotated[
        str | None, typer.Argument(help="Whose tokens (default: everyone's).")
    ] = None,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """API tokens and their state (never their secrets)."""
    from triage.entrypoints.encoding import token_json
    from triage.services import tokens

    with session(data_dir, token) as s:
        found = tokens.list_tokens(s.uow, s.caller, operator_id)
    at = s.uow.clock.now()
    rows = [token_json(t, at) for t in found]
    text = "\n".join(
        f"{r['id']:18} {r['operator_id']:16} {r['state']:8} {r['expires_at']:26} {r['label']}"
        for r in rows
    )
    emit(as_json, {"items": rows}, text or "no tokens")


@app.command("revoke-token")
def operator_revoke_token(
    token_id: Annotated[str, typer.Argument(help="The token's id (not its secret).")],
    reason: Annotated[str, typer.Option(help="Why (recorded).")] = "",
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Revoke an API token at once."""
    from triage.entrypoints.encoding import token_json
    from triage.services import tokens

    with session(data_dir, token) as s:
        revoked = tokens.revoke_token(s.uow, s.caller, token_id, reason)
    emit(as_json, token_json(revoked, s.uow.clock.now()), f"token {revoked.id} revoked")


@app.command("roles")
def operator_roles(
    operator_id: Annotated[str, typer.Argument(help="The operator.")],
    role: Roles,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Give an operator a new set of roles (recorded in the ledger)."""
    from triage.services import operators

    with session(data_dir, token) as s:
        changed = operators.change_roles(s.uow, s.caller, operator_id, _roles(role))
    names = sorted(r.value for r in changed.roles)
    emit(as_json, {"operator": changed.id, "roles": names}, f"{changed.id}: {', '.join(names)}")


@app.command("benches")
def operator_benches(
    operator_id: Annotated[str, typer.Argument(help="The operator.")],
    bench: Annotated[
        list[str] | None, typer.Option(help="A bench they work at (repeat for several).")
    ] = None,
    clear: Annotated[bool, typer.Option(help="Take every bench away from them.")] = False,
    reason: Reason = "",
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Assign an operator's benches (recorded): they sign in, and order work, only there."""
    from triage.services import bench_assignment

    with session(data_dir, token) as s:
        if bool(bench) == clear:
            raise fail("give the benches (--bench, repeat for several) or --clear, not both")
        done = bench_assignment.assign_benches(s.uow, s.caller, operator_id, bench or [], reason)
    emit(
        as_json,
        {"operator": done.operator_id, "benches": done.benches, "previous": done.previous},
        f"{done.operator_id}: benches {', '.join(done.benches) or 'none'} "
        f"(before: {', '.join(done.previous) or 'none'})",
    )


@app.command("list")
def list_operators(token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """Operators, their roles and their benches."""
    from triage.services.views import people as people_views

    with session(data_dir, token) as s:
        found = people_views.roster(s.uow, s.caller)
    rows = [
        {
            "id": o.id,
            "name": o.name,
            "roles": sorted(r.value for r in o.roles),
            "benches": found.benches.get(o.id, []),
            "active": o.active,
            "suspended": o.suspended,
            "mfa_enrolled": o.mfa_enrolled,
        }
        for o in found.operators
    ]
    text = "\n".join(
        f"{o.id:20} {','.join(sorted(r.value for r in o.roles)):40} "
        f"{','.join(found.benches.get(o.id, [])) or '-':12} {o.name}"
        for o in found.operators
    )
    emit(as_json, {"items": rows}, text or "no operators yet")
