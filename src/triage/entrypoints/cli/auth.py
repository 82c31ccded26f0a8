"""`triage auth`: activation, MFA enrolment, login for an API token, locks.

A person at the command line logs in with password and second factor once, and gets an API
token to put in ``TRIAGE_TOKEN`` for the commands that follow.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from triage.domain.credentials import ACTIVATION_LIFETIME
from triage.entrypoints.cli.options import DataDir, JsonFlag, Reason, Token
from triage.entrypoints.cli.output import emit, fail
from triage.entrypoints.cli.session import open_app, session
from triage.errors import InvalidInput
from triage.ledger.entry import format_time

# What a login from the command line is counted against, in place of a network address.
CLI_SOURCE = "local-cli"

OperatorArg = Annotated[str, typer.Argument(help="The operator's id.")]
Password = Annotated[
    str | None,
    typer.Option(help="The password (visible to other users of this host: prefer stdin)."),
]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]

app = typer.Typer(
    help="Sign-in: activation, second factor, API tokens for the CLI, locks.",
    no_args_is_help=True,
)


def _password(password: str | None, from_stdin: bool) -> str:
    if from_stdin == (password is not None):
        raise InvalidInput("password: give exactly one of --password and --password-stdin")
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    assert password is not None
    return password


@app.command("issue-activation")
def issue_activation(
    operator_id: OperatorArg,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Issue a one-time activation code for an operator (an administrator; shown once)."""
    from triage.services import auth

    with session(data_dir, token) as s:
        code = auth.issue_activation(s.uow, s.caller, operator_id)
    hours = int(ACTIVATION_LIFETIME.total_seconds() // 3600)
    emit(
        as_json,
        {"operator": operator_id, "code": code, "expires_in_hours": hours},
        f"activation code for {operator_id} (valid {hours} h, shown once):\n{code}",
    )


@app.command("activate")
def activate(
    operator_id: OperatorArg,
    code: Annotated[str, typer.Option(help="The activation code from an administrator.")],
    password: Password = None,
    password_stdin: PasswordStdin = False,
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Set your password; prints the TOTP secret for your authenticator app."""
    from triage.services import auth

    with open_app(data_dir) as application:
        secret, uri = auth.activate(
            application.uow,
            operator_id,
            code,
            _password(password, password_stdin),
            box=application.secret_box(),
            source=CLI_SOURCE,
        )
    emit(
        as_json,
        {"operator": operator_id, "totp_secret": secret, "provisioning_uri": uri},
        f"TOTP secret (add it to your authenticator app): {secret}\n{uri}\n"
        f"then: triage auth confirm {operator_id} --code CODE --totp NNNNNN",
    )


@app.command("confirm")
def confirm(
    operator_id: OperatorArg,
    code: Annotated[str, typer.Option(help="The same activation code.")],
    totp: Annotated[str, typer.Option("--totp", help="The code your authenticator shows.")],
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Confirm your authenticator; prints ten recovery codes, this once."""
    from triage.services import auth

    with open_app(data_dir) as application:
        codes = auth.confirm_mfa(
            application.uow,
            operator_id,
            code,
            totp,
            box=application.secret_box(),
            source=CLI_SOURCE,
        )
    emit(
        as_json,
        {"operator": operator_id, "recovery_codes": codes},
        "second factor enrolled. Recovery codes (each works once; keep them safe):\n"
        + "\n".join(codes),
    )


@app.command("login")
def login(
    operator_id: OperatorArg,
    password: Password = None,
    password_stdin: PasswordStdin = False,
    totp: Annotated[
        str | None, typer.Option("--totp", help="The code your authenticator shows.")
    ] = None,
    recovery_code: Annotated[
        str | None, typer.Option(help="One of your recovery codes instead of --totp.")
    ] = None,
    bench: Annotated[str | None, typer.Option(help="The bench you work at.")] = None,
    days: Annotated[
        int, typer.Option(help="Days the token lasts (1 to the facility's maximum).")
    ] = 1,
    label: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Sign in and get an API token (shown once): export TRIAGE_TOKEN=... to use it."""
    from triage.services.token_login import token_by_login

    if (totp is None) == (recovery_code is None):
        raise fail("second factor: give exactly one of --totp and --recovery-code")
    second = totp if totp is not None else recovery_code
    assert second is not None
    with open_app(data_dir) as application:
        # Checked before signing in, so that a refused length costs no second factor.
        most = application.settings.token_max_days
        if not 1 <= days <= most:
            raise fail(f"days: a token here lasts 1 to {most} days, not {days}")
        issued = token_by_login(
            application.uow,
            operator_id,
            _password(password, password_stdin),
            second,
            CLI_SOURCE,
            bench,
            days,
            label,
            box=application.secret_box(),
            max_days=most,
        )
    emit(
        as_json,
        {"operator": operator_id, "token": issued.secret, "token_id": issued.token_id},
        f"signed in as {operator_id}. API token {issued.token_id} (shown once, "
        f"lasts {days} day(s)):\n{issued.secret}",
    )


@app.command("unlock")
def unlock(
    kind: Annotated[str, typer.Argument(help="'operator' or 'source' (an address).")],
    subject_id: Annotated[str, typer.Argument(help="The operator id or the address.")],
    reason: Reason,
    token: Token = "",
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Unlock a locked operator or source address (administrator or security manager)."""
    from triage.services import auth

    with session(data_dir, token) as s:
        lock = auth.unlock(s.uow, s.caller, kind, subject_id, reason)
    emit(
        as_json,
        {"subject_kind": lock.subject_kind, "subject_id": lock.subject_id, "unlocked": True},
        f"{lock.subject_kind} {lock.subject_id} unlocked",
    )


@app.command("recover")
def recover(
    operator_id: OperatorArg,
    reason: Reason,
    address: Annotated[
        list[str] | None,
        typer.Option(help="Also unlock this locked address (repeat for several)."),
    ] = None,
    activation: Annotated[
        bool,
        typer.Option(
            "--activation",
            help="Issue an administrator a new activation code (lost password or second "
            "factor); shown once.",
        ),
    ] = False,
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Host-side recovery, with no token: unlock an operator (and addresses), or re-activate
    an administrator, when nobody who may do it can sign in. Run on the server, as the user
    that owns the data directory; recorded in the ledger as the host."""
    from triage.services import auth

    with open_app(data_dir) as application:
        done = auth.recover(
            application.uow, operator_id, reason, address or (), activation=activation
        )
    lines = []
    if done.account_unlocked:
        lines.append(f"operator {operator_id} unlocked")
    lines += [f"address {a} unlocked" for a in done.addresses_unlocked]
    hours = int(ACTIVATION_LIFETIME.total_seconds() // 3600)
    if done.activation_code is not None:
        lines.append(
            f"activation code for {operator_id} (valid {hours} h, shown once):\n"
            f"{done.activation_code}\nthen: triage auth activate {operator_id} --code CODE "
            "--password-stdin"
        )
    if done.still_locked:
        lines.append(
            "addresses still locked (unlock with --address): " + ", ".join(done.still_locked)
        )
    emit(
        as_json,
        {
            "operator": operator_id,
            "account_unlocked": done.account_unlocked,
            "addresses_unlocked": done.addresses_unlocked,
            "activation_code": done.activation_code,
            "still_locked": done.still_locked,
            "actor": auth.HOST.ref.to_json(),
        },
        "\n".join(lines),
    )


@app.command("locks")
def locks(token: Token = "", data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """Locked operators and source addresses."""
    from triage.services import auth

    with session(data_dir, token) as s:
        found = auth.locks(s.uow, s.caller)
    items = [
        {
            "subject_kind": lock.subject_kind,
            "subject_id": lock.subject_id,
            "reason": lock.reason,
            "locked_at": format_time(lock.locked_at),
        }
        for lock in found
    ]
    text = "\n".join(
        f"{i['subject_kind']:<9} {i['subject_id']:<24} {i['locked_at']}  {i['reason']}"
        for i in items
    )
    emit(as_json, {"items": items}, text or "nothing is locked")
