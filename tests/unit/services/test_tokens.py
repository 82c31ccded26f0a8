"""API tokens: issued to oneself from a second-factor sign-in, revoked, listed, checked."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers
from tests.unit.services.people_seed import (
    assign,
    enrol,
    lock_account,
    person,
    signed_in,
    suspend_operator,
)
from triage.domain.digests import stored_digest, token_hash
from triage.domain.roles import Permission, Role
from triage.domain.token import READ_ONLY
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Unauthenticated
from triage.ledger.entry import format_time
from triage.services import bench_assignment, tokens

WHY = "the laptop was left on a train"


def test_an_operator_mints_their_own_token_from_a_session(
    factory: FakeUnitOfWorkFactory,
) -> None:
    bob = person(factory, "bob", Role.SUPERVISOR)
    caller = signed_in(factory, bob)
    issued = tokens.issue_token(factory, caller, "bob", label="  laptop  ")
    assert caller.credential is not None

    assert issued.operator_id == "bob"
    assert issued.secret.startswith(f"tri_{issued.token_id}_")
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject.id, entry.actor.id) == ("operator.token_issued", "bob", "bob")
    expires = factory.clock.now() + timedelta(days=90)
    assert entry.data == {
        "token_id": issued.token_id,
        "label": "laptop",
        "scopes": ["role"],
        "expires_at": format_time(expires),
        "bench": None,
        "minted_by": {"kind": "session", "signed_in_at": caller.credential.id},
        "token_digest": stored_digest(token_hash(issued.secret)),
    }
    assert issued.secret not in repr(factory.entries())

    holder = tokens.authenticate_token(factory, issued.secret)
    assert (holder.id, holder.roles, holder.scopes, holder.bench) == (
        "bob",
        frozenset({Role.SUPERVISOR}),
        None,
        None,
    )
    assert holder.credential is not None and holder.credential.kind == "token"
    [listed] = tokens.list_tokens(factory, caller, "bob")
    assert (listed.id, listed.label, listed.expires_at, listed.state(factory.clock.now())) == (
        issued.token_id,
        "laptop",
        expires,
        "active",
    )


def test_nobody_is_issued_a_token_by_someone_else(factory: FakeUnitOfWorkFactory) -> None:
    person(factory, "bob")
    admin = signed_in(factory, person(factory, "root", Role.ADMINISTRATOR))
    before = factory.entry_types()
    with pytest.raises(PermissionDenied, match="nobody is issued a token by someone else"):
        tokens.issue_token(factory, admin, "bob")
    # Without a second-factor credential (a trusted path), not even for oneself.
    with pytest.raises(PermissionDenied, match="only from a sign-in with the second factor"):
        tokens.issue_token(factory, callers.person("bob", Role.BENCH_OPERATOR), "bob")
    assert factory.entry_types() == before


def test_read_only_scopes_are_what_the_roles_allow_of_reading(
    factory: FakeUnitOfWorkFactory,
) -> None:
    caller = signed_in(factory, person(factory, "bob", Role.BENCH_OPERATOR))
    issued = tokens.issue_token(factory, caller, "bob", scopes=READ_ONLY)
    expected = READ_ONLY & {
        Permission.TRIAGE_READ,
        Permission.HISTORY_READ,
        Permission.LEDGER_READ,
        Permission.RECEIPT_ISSUE,
    }
    assert tokens.authenticate_token(factory, issued.secret).scopes == expected
    assert factory.entries()[-1].data["scopes"] == sorted(p.value for p in expected)


def test_a_token_is_refused_scopes_beyond_the_roles_or_too_long_a_life(
    factory: FakeUnitOfWorkFactory,
) -> None:
    caller = signed_in(factory, person(factory, "bob", Role.BENCH_OPERATOR))
    before = factory.entry_types()
    with pytest.raises(InvalidInput) as beyond:
        tokens.issue_token(factory, caller, "bob", scopes=frozenset({Permission.OPERATOR_MANAGE}))
    assert beyond.value.field == "scopes"
    for days in (0, 31):
        with pytest.raises(InvalidInput) as life:
            tokens.issue_token(factory, caller, "bob", days=days, max_days=30)
        assert life.value.field == "days"
    with pytest.raises(InvalidInput) as bench:
        tokens.issue_token(factory, caller, "bob", bench="  ")
    assert bench.value.field == "bench"
    assert factory.entry_types() == before


def test_a_token_minted_by_a_scoped_token_is_never_wider_nor_longer(
    factory: FakeUnitOfWorkFactory,
) -> None:
    caller = signed_in(factory, person(factory, "bob", Role.SUPERVISOR))
    narrow = frozenset({Permission.TRIAGE_READ})
    parent = tokens.issue_token(factory, caller, "bob", scopes=narrow, days=10)
    by_token = tokens.authenticate_token(factory, parent.secret)

    with pytest.raises(PermissionDenied, match="wider scopes"):
        tokens.issue_token(factory, by_token, "bob", scopes=narrow | {Permission.DEVICE_SCAN})
    with pytest.raises(InvalidInput, match=f"cannot outlive token {parent.token_id}"):
        tokens.issue_token(factory, by_token, "bob", days=11)
    child = tokens.issue_token(factory, by_token, "bob")
    assert tokens.authenticate_token(factory, child.secret).scopes == narrow
    entry = factory.entries()[-1]
    assert entry.data["minted_by"] == {"kind": "token", "token_id": parent.token_id}
    assert entry.data["expires_at"] == format_time(factory.clock.now() + timedelta(days=10))


def test_a_bench_token_needs_the_bench_assigned(factory: FakeUnitOfWorkFactory) -> None:
    caller = signed_in(factory, person(factory, "bob"))
    with pytest.raises(bench_assignment.BenchNotAssigned):
        tokens.issue_token(factory, caller, "bob", bench="BENCH-1")
    assert "operator.token_issued" not in factory.entry_types()
    assign(factory, "bob", "BENCH-1")
    issued = tokens.issue_token(factory, caller, "bob", bench=" BENCH-1 ")
    assert tokens.authenticate_token(factory, issued.secret).bench == "BENCH-1"


def test_a_suspended_operator_is_issued_no_token(factory: FakeUnitOfWorkFactory) -> None:
    caller = signed_in(factory, person(factory, "bob"))
    suspend_operator(factory, "bob")
    with pytest.raises(NotFound, match="no active operator 'bob'"):
        tokens.issue_token(factory, caller, "bob")
    assert "operator.token_issued" not in factory.entry_types()


def test_a_token_is_revoked_by_its_operator_with_a_reason(factory: FakeUnitOfWorkFactory) -> None:
    caller = signed_in(factory, person(factory, "bob"))
    issued = tokens.issue_token(factory, caller, "bob")
    factory.clock.advance(timedelta(hours=1))

    revoked = tokens.revoke_token(factory, caller, f" {issued.token_id} ", f"  {WHY} ")

    assert revoked.revoked_at == factory.clock.now()
    assert revoked.state(factory.clock.now()) == "revoked"
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject.id, entry.actor.id, entry.data) == (
        "operator.token_revoked",
        "bob",
        "bob",
        {"token_id": issued.token_id, "reason": WHY},
    )
    with pytest.raises(Unauthenticated, match=f"{issued.token_id} is revoked"):
        tokens.authenticate_token(factory, issued.secret)
    assert tokens.list_tokens(factory, caller, "bob") == [revoked]


def test_revoking_someone_elses_token_needs_the_permission(
    factory: FakeUnitOfWorkFactory,
) -> None:
    issued = tokens.issue_token(factory, signed_in(factory, person(factory, "bob")), "bob")
    before = factory.entry_types()
    with pytest.raises(PermissionDenied):
        tokens.revoke_token(factory, callers.bench_operator("eve"), issued.token_id, WHY)
    with pytest.raises(InvalidInput) as short:
        tokens.revoke_token(factory, callers.security_manager(), issued.token_id, "lost")
    assert short.value.field == "reason"
    with pytest.raises(NotFound):
        tokens.revoke_token(factory, callers.security_manager(), "nosuchtoken", WHY)
    assert factory.entry_types() == before
    assert tokens.authenticate_token(factory, issued.secret).id == "bob"

    tokens.revoke_token(factory, callers.security_manager(), issued.token_id, WHY)
    assert factory.entries()[-1].actor.id == "sec"
    with pytest.raises(Conflict, match="already revoked"):
        tokens.revoke_token(factory, callers.administrator(), issued.token_id, WHY)
    assert factory.entry_types() == [*before, "operator.token_revoked"]


def test_tokens_are_listed_to_their_operator_or_a_reviewer(factory: FakeUnitOfWorkFactory) -> None:
    bob = signed_in(factory, person(factory, "bob"))
    ann = signed_in(factory, person(factory, "ann"))
    mine = tokens.issue_token(factory, bob, "bob")
    theirs = tokens.issue_token(factory, ann, "ann")
    assert [t.id for t in tokens.list_tokens(factory, bob, "bob")] == [mine.token_id]
    everyone = tokens.list_tokens(factory, callers.auditor())
    assert [t.id for t in everyone] == [theirs.token_id, mine.token_id]  # by operator id
    for asked in ("ann", None):
        with pytest.raises(PermissionDenied):
            tokens.list_tokens(factory, bob, asked)


def test_a_bearer_token_that_is_not_ours_or_unknown_is_refused(
    factory: FakeUnitOfWorkFactory,
) -> None:
    with pytest.raises(Unauthenticated, match="not a device-triage API token"):
        tokens.authenticate_token(factory, "ghp_abcdef")
    with pytest.raises(Unauthenticated, match="not a device-triage API token"):
        tokens.authenticate_token(factory, "tri_" + "x" * 200)
    with pytest.raises(Unauthenticated, match="unknown"):
        tokens.authenticate_token(factory, "tri_0011223344556677_secret")


def test_a_token_stops_working_when_it_expires(factory: FakeUnitOfWorkFactory) -> None:
    caller = signed_in(factory, person(factory, "bob"))
    issued = tokens.issue_token(factory, caller, "bob", days=2)
    factory.clock.advance(timedelta(days=2) - timedelta(seconds=1))
    assert tokens.authenticate_token(factory, issued.secret).id == "bob"
    factory.clock.advance(timedelta(seconds=1))
    with pytest.raises(Unauthenticated, match="is expired"):
        tokens.authenticate_token(factory, issued.secret)


def test_a_token_stops_working_while_its_operator_is_locked_or_suspended(
    factory: FakeUnitOfWorkFactory,
) -> None:
    bob = signed_in(factory, person(factory, "bob"))
    ann = signed_in(factory, person(factory, "ann"))
    bobs = tokens.issue_token(factory, bob, "bob")
    anns = tokens.issue_token(factory, ann, "ann")
    lock_account(factory, "bob")
    suspend_operator(factory, "ann")
    with pytest.raises(Unauthenticated, match="bob is locked"):
        tokens.authenticate_token(factory, bobs.secret)
    with pytest.raises(Unauthenticated, match="ann is suspended"):
        tokens.authenticate_token(factory, anns.secret)


def test_a_token_does_not_outlive_the_second_factor_it_was_minted_under(
    factory: FakeUnitOfWorkFactory,
) -> None:
    issued = tokens.issue_token(factory, signed_in(factory, person(factory, "bob")), "bob")
    factory.clock.advance(timedelta(minutes=5))
    enrol(factory, "bob")  # a new authenticator (a lost phone)
    with pytest.raises(Unauthenticated, match="predates operator bob's current second factor"):
        tokens.authenticate_token(factory, issued.secret)


def test_no_credential_counts_before_a_second_factor_is_confirmed(
    factory: FakeUnitOfWorkFactory,
) -> None:
    now = factory.clock.now()
    with pytest.raises(PermissionDenied, match="no confirmed second factor"):
        tokens.check_second_factor("bob", None, now, "the session")
    with pytest.raises(Unauthenticated, match="the session predates"):
        tokens.check_second_factor("bob", now, now - timedelta(seconds=1), "the session")
    tokens.check_second_factor("bob", now, now, "the session")
