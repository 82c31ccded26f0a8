"""Signing in at the command line for an API token."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services.people_seed import BOX, PASSWORD, SOURCE, code_now, next_step, person
from triage.errors import InvalidInput, Unauthenticated
from triage.services import tokens
from triage.services.token_login import token_by_login


def test_a_login_mints_a_token_and_ends_its_session(factory: FakeUnitOfWorkFactory) -> None:
    bob = person(factory, "bob")
    next_step(factory)
    issued = token_by_login(
        factory, "bob", PASSWORD, code_now(factory, bob.totp_secret), SOURCE, None, 7, "cli",
        box=BOX, max_days=30,
    )  # fmt: skip

    assert factory.entry_types()[-3:] == ["auth.login", "operator.token_issued", "auth.logout"]
    minted = factory.entries()[-2]
    assert minted.data["label"] == "cli" and minted.data["minted_by"]["kind"] == "session"
    assert tokens.authenticate_token(factory, issued.secret).id == "bob"
    with factory(write=False) as uow:
        [session] = uow.credentials.sessions.values()
    assert session.ended_at == factory.clock.now()


def test_the_session_ends_even_when_no_token_is_minted(factory: FakeUnitOfWorkFactory) -> None:
    bob = person(factory, "bob")
    next_step(factory)
    with pytest.raises(InvalidInput) as refused:
        token_by_login(
            factory, "bob", PASSWORD, code_now(factory, bob.totp_secret), SOURCE, None, 31,
            "cli", box=BOX, max_days=30,
        )  # fmt: skip
    assert refused.value.field == "days"
    assert factory.entry_types()[-2:] == ["auth.login", "auth.logout"]


def test_a_wrong_password_mints_nothing(factory: FakeUnitOfWorkFactory) -> None:
    bob = person(factory, "bob")
    next_step(factory)
    with pytest.raises(Unauthenticated):
        token_by_login(
            factory, "bob", "Not the password 1", code_now(factory, bob.totp_secret), SOURCE,
            None, 7, "cli", box=BOX, max_days=30,
        )  # fmt: skip
    assert factory.entry_types()[-1] == "auth.login_failed"
    with factory(write=False) as uow:
        assert uow.tokens.all("bob") == []
