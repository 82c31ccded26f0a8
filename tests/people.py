"""People enrolled the way people are, for tests: an administrator adds them and issues an
activation code; they set a password, confirm a TOTP second factor, sign in with it and mint
a token of their own from that sign-in. Nobody is ever issued someone else's token."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyotp

from triage import bootstrap
from triage.config import Settings
from triage.domain.caller import Caller
from triage.domain.roles import Permission, Role
from triage.services import auth, bench_assignment, operators, tokens

SOURCE = "test-sign-in"
# Everyone's password in tests (a web test types it into the sign-in page).
PASSWORD = "correct horse battery staple 7"


@dataclass
class Enrolled:
    """An enrolled operator: their credentials and the token they minted for themself."""

    operator_id: str
    password: str
    totp_secret: str
    recovery_codes: list[str] = field(repr=False)  # the ones not used yet
    token: str = field(default="", repr=False)
    token_id: str = ""


def enrol(
    app: bootstrap.App,
    admin: Caller,
    operator_id: str,
    roles: Iterable[Role] | None = None,
    *,
    bench: str | None = None,
    scopes: frozenset[Permission] | None = None,
    days: int | None = None,
    label: str = "api",
) -> Enrolled:
    """Enrol ``operator_id`` (added with ``roles`` first, unless None: they exist) through the
    real path; with ``bench``, the administrator assigns it and they sign in there."""
    if roles is not None:
        operators.create_operator(app.uow, admin, operator_id, operator_id, frozenset(roles))
    if bench is not None:
        held = bench_assignment.assigned_benches(app.uow, admin, operator_id)
        if bench not in held:
            bench_assignment.assign_benches(
                app.uow, admin, operator_id, [*held, bench], "works there"
            )
    code = auth.issue_activation(app.uow, admin, operator_id)
    return enrol_with_code(
        app, operator_id, code, bench=bench, scopes=scopes, days=days, label=label
    )


def enrol_with_code(
    app: bootstrap.App,
    operator_id: str,
    code: str,
    *,
    bench: str | None = None,
    scopes: frozenset[Permission] | None = None,
    days: int | None = None,
    label: str = "api",
) -> Enrolled:
    """With an activation code: a password, a confirmed second factor, a sign-in, a token."""
    box = app.secret_box()
    totp_secret, _ = auth.activate(app.uow, operator_id, code, PASSWORD, box=box)
    recovery = auth.confirm_mfa(app.uow, operator_id, code, pyotp.TOTP(totp_secret).now(), box=box)
    enrolled = Enrolled(operator_id, PASSWORD, totp_secret, list(recovery))
    issued = sign_in_token(app, enrolled, bench=bench, scopes=scopes, days=days, label=label)
    enrolled.token, enrolled.token_id = issued.secret, issued.token_id
    return enrolled


def sign_in_token(
    app: bootstrap.App,
    enrolled: Enrolled,
    *,
    bench: str | None = None,
    scopes: frozenset[Permission] | None = None,
    days: int | None = None,
    label: str = "api",
) -> tokens.IssuedToken:
    """Sign in (password and a recovery code), mint one's own token, sign out."""
    session = auth.login(
        app.uow,
        enrolled.operator_id,
        enrolled.password,
        enrolled.recovery_codes.pop(),
        SOURCE,
        bench,
        box=app.secret_box(),
    )
    try:
        caller = auth.authenticate_session(app.uow, session.secret).caller
        return tokens.issue_token(
            app.uow,
            caller,
            enrolled.operator_id,
            label,
            scopes,
            days,
            bench,
            max_days=app.settings.token_max_days,
        )
    finally:
        auth.logout(app.uow, session.secret)


def open_data_dir(data_dir: Path, database_url: str | None = None) -> bootstrap.App:
    """The facility in ``data_dir`` (and ``database_url``, default its SQLite database), opened
    in this process as `triage` opens it."""
    url = database_url or f"sqlite:///{data_dir / 'triage.db'}"
    return bootstrap.bootstrap(Settings(data_dir=data_dir, database_url=url))
