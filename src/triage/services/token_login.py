"""Signing in for an API token: how a person at the command line gets a credential."""

from __future__ import annotations

from triage.services import auth, tokens
from triage.services.ports import SecretSealer, UnitOfWorkFactory


def token_by_login(
    uow_factory: UnitOfWorkFactory,
    operator_id: str,
    password: str,
    second_factor: str,
    source: str,
    bench: str | None,
    days: int,
    label: str,
    *,
    box: SecretSealer,
    max_days: int,
) -> tokens.IssuedToken:
    """Sign in with password and second factor, mint one's own token from that session, and
    end the session: the command line keeps the token, not the session."""
    session = auth.login(uow_factory, operator_id, password, second_factor, source, bench, box=box)
    try:
        signed_in = auth.authenticate_session(uow_factory, session.secret)
        return tokens.issue_token(
            uow_factory,
            signed_in.caller,
            operator_id,
            label,
            days=days,
            bench=bench,
            max_days=max_days,
        )
    finally:
        auth.logout(uow_factory, session.secret)
