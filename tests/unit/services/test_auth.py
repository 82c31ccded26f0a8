"""People's authentication: activation, MFA enrolment, login, lockout, sessions, logout."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers
from tests.unit.services.people_seed import (
    BOX,
    PASSWORD,
    SOURCE,
    Enrolled,
    add_operator,
    assign,
    code_now,
    enrol,
    lock_account,
    next_step,
    person,
    suspend_operator,
)
from triage.domain.caller import Caller
from triage.domain.credentials import code_hash
from triage.domain.roles import Role
from triage.errors import (
    AccessLocked,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
    Unauthenticated,
)
from triage.services import auth
from triage.services.bench_assignment import BenchNotAssigned

ADMIN = callers.administrator()
WHY = "confirmed by phone it was them"


def _login(factory: FakeUnitOfWorkFactory, who: Enrolled, **kw: str) -> auth.NewSession:
    next_step(factory)
    return auth.login(
        factory,
        kw.get("operator_id", who.operator_id),
        kw.get("password", PASSWORD),
        kw.get("code", code_now(factory, who.totp_secret)),
        kw.get("source", SOURCE),
        kw.get("bench"),
        box=BOX,
    )


def _texts(factory: FakeUnitOfWorkFactory) -> str:
    return repr([(e.type, e.data) for e in factory.entries()])


# -- activation and enrolment ------------------------------------------------------------------


def test_an_operator_activates_and_enrols_a_second_factor(factory: FakeUnitOfWorkFactory) -> None:
    add_operator(factory, "bob")
    code = auth.issue_activation(factory, ADMIN, "bob")
    secret, uri = auth.activate(factory, "bob", code, PASSWORD, box=BOX)
    assert uri == factory.totp.provisioning_uri(secret, "bob", "device-triage unit")
    recovery = auth.confirm_mfa(factory, "bob", code, code_now(factory, secret), box=BOX)

    assert len(recovery) == 10 and len(set(recovery)) == 10
    assert factory.entry_types() == [
        "operator.created",
        "auth.activation_issued",
        "auth.activated",
        "auth.mfa_enrolled",
    ]
    issued, activated, enrolled = factory.entries()[1:]
    assert issued.actor.id == "adm" and set(issued.data) == {"expires_at", "code_digest"}
    assert activated.actor.id == "bob" and activated.data["second_factor"] == "pending"
    assert enrolled.data["second_factor"] == "totp" and enrolled.data["recovery_codes"] == 10
    for secret_text in (code, secret, PASSWORD, *recovery):
        assert secret_text not in _texts(factory)  # no entry holds a secret
    with factory(write=False) as uow:
        holder = uow.credentials.holder("bob")
        assert uow.credentials.activation_code("bob") is None  # used up
        assert uow.credentials.recovery_codes_left("bob") == 10
    assert holder is not None and holder.operator.mfa_enrolled
    assert holder.second_factor_since == factory.clock.now() and not holder.locked


def test_activation_codes_are_issued_by_an_administrator_to_an_active_operator(
    factory: FakeUnitOfWorkFactory,
) -> None:
    add_operator(factory, "adm", Role.ADMINISTRATOR)
    with pytest.raises(PermissionDenied):
        auth.issue_activation(factory, callers.security_manager(), "adm")
    with pytest.raises(NotFound):
        auth.issue_activation(factory, ADMIN, "ghost")
    auth.issue_activation(factory, ADMIN, "adm")  # not yet enrolled: may bootstrap oneself
    enrol(factory, "adm")
    with pytest.raises(PermissionDenied, match="cannot issue their own activation code"):
        auth.issue_activation(factory, ADMIN, "adm")
    assert factory.entry_types().count("auth.activation_issued") == 2


def test_a_wrong_or_expired_activation_code_is_refused_and_recorded(
    factory: FakeUnitOfWorkFactory,
) -> None:
    add_operator(factory, "bob")
    code = auth.issue_activation(factory, ADMIN, "bob")
    with pytest.raises(Unauthenticated, match="activation code is wrong"):
        auth.activate(factory, "bob", "aaaaa-bbbbb", PASSWORD, box=BOX, source=SOURCE)
    refused = factory.entries()[-1]
    assert (refused.type, refused.data) == ("auth.activation_refused", {"reason": "wrong_code"})
    factory.clock.advance(timedelta(hours=72))
    with pytest.raises(Unauthenticated, match="expired"):
        auth.activate(factory, "bob", code, PASSWORD, box=BOX)
    assert factory.entries()[-1].data == {"reason": "expired_code"}
    with factory(write=False) as uow:
        assert uow.credentials.credential("bob") is None


def test_a_weak_password_is_refused_before_the_code_is_used(factory: FakeUnitOfWorkFactory) -> None:
    add_operator(factory, "bob")
    code = auth.issue_activation(factory, ADMIN, "bob")
    for weak in ("short1A", "bob-is-my-Name-1", "aaaaaaaaaaaaaaaa"):
        with pytest.raises(InvalidInput) as refused:
            auth.activate(factory, "bob", code, weak, box=BOX)
        assert refused.value.field == "password"
    secret, _ = auth.activate(factory, "bob", code, PASSWORD, box=BOX)  # the code still works
    assert secret


def test_wrong_activation_codes_are_limited_per_account(factory: FakeUnitOfWorkFactory) -> None:
    add_operator(factory, "bob")
    code = auth.issue_activation(factory, ADMIN, "bob")
    limit = factory.settings.code_failures_per_account
    for n in range(limit):
        with pytest.raises(Unauthenticated):
            auth.activate(factory, "bob", f"wrong-{n}", PASSWORD, box=BOX, source=f"10.0.0.{n}")
    with pytest.raises(TooManyAttempts) as limited:
        auth.activate(factory, "bob", code, PASSWORD, box=BOX)
    assert limited.value.retry_after == factory.settings.code_retry_seconds
    factory.clock.advance(factory.settings.code_failure_window + timedelta(seconds=1))
    assert auth.activate(factory, "bob", code, PASSWORD, box=BOX)[0]


def test_confirming_needs_an_activation_first_and_the_current_code(
    factory: FakeUnitOfWorkFactory,
) -> None:
    add_operator(factory, "bob")
    code = auth.issue_activation(factory, ADMIN, "bob")
    with pytest.raises(Conflict, match="has not set a password yet"):
        auth.confirm_mfa(factory, "bob", code, "123456", box=BOX)
    secret, _ = auth.activate(factory, "bob", code, PASSWORD, box=BOX)
    factory.clock.advance(timedelta(minutes=2))
    stale = factory.totp.code(secret, int(factory.clock.now().timestamp()) // 30 - 3)
    with pytest.raises(InvalidInput, match="totp_code"):
        auth.confirm_mfa(factory, "bob", code, stale, box=BOX)
    assert "auth.mfa_enrolled" not in factory.entry_types()


# -- login and lockout -------------------------------------------------------------------------


def test_a_login_opens_a_session_and_records_it(factory: FakeUnitOfWorkFactory) -> None:
    bob = person(factory, "bob", Role.SUPERVISOR)
    assign(factory, "bob", "BENCH-1")
    session = _login(factory, bob, bench="BENCH-1")

    assert (session.operator_id, session.bench) == ("bob", "BENCH-1")
    assert session.expires_at == factory.clock.now() + factory.settings.session_absolute_timeout
    entry = factory.entries()[-1]
    assert (entry.type, entry.actor.id, entry.data) == (
        "auth.login",
        "bob",
        {"source": SOURCE, "bench": "BENCH-1", "second_factor": "totp"},
    )
    signed = auth.authenticate_session(factory, session.secret)
    assert (signed.caller.id, signed.caller.bench, signed.csrf_token) == (
        "bob",
        "BENCH-1",
        session.csrf_token,
    )
    with factory(write=False) as uow:
        found = uow.operators.get("bob")
    assert found is not None and found.last_login_at == factory.clock.now()


def test_a_recovery_code_signs_in_once(factory: FakeUnitOfWorkFactory) -> None:
    bob = person(factory, "bob")
    spare = bob.recovery_codes[0]
    _login(factory, bob, code=spare.upper().replace("-", " "))
    assert factory.entries()[-1].data["second_factor"] == "recovery_code"
    assert factory.entries()[-1].data["recovery_codes_left"] == 9
    with pytest.raises(Unauthenticated, match="is wrong"):
        _login(factory, bob, code=spare)
    assert factory.entries()[-1].data["reason"] == "bad_second_factor"


def test_a_totp_code_is_good_once(factory: FakeUnitOfWorkFactory) -> None:
    bob = person(factory, "bob")
    session = _login(factory, bob)
    code = code_now(factory, bob.totp_secret)
    with pytest.raises(Unauthenticated):
        auth.login(factory, "bob", PASSWORD, code, SOURCE, box=BOX)
    assert session.secret


def test_a_wrong_password_is_counted_and_recorded(factory: FakeUnitOfWorkFactory) -> None:
    bob = person(factory, "bob")
    with pytest.raises(Unauthenticated, match="password or second factor is wrong"):
        _login(factory, bob, password="Not the password 1")
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject.id, entry.actor.id, entry.data) == (
        "auth.login_failed",
        "bob",
        "auth",
        {"reason": "bad_password", "source": SOURCE},
    )
    with factory(write=False) as uow:
        assert uow.credentials.consecutive_failures("bob")[0] == 1
    # Too soon after a failure: not even checked.
    with pytest.raises(TooManyAttempts):
        auth.login(factory, "bob", PASSWORD, code_now(factory, bob.totp_secret), SOURCE, box=BOX)


def test_an_unknown_operator_is_recorded_against_the_address(
    factory: FakeUnitOfWorkFactory,
) -> None:
    with pytest.raises(Unauthenticated):
        auth.login(factory, "ghost", PASSWORD, "123456", SOURCE, box=BOX)
    entry = factory.entries()[-1]
    assert (entry.subject.kind, entry.subject.id, entry.data["reason"]) == (
        "source",
        SOURCE,
        "unknown_operator",
    )
    with pytest.raises(Unauthenticated):
        auth.login(factory, "ghost", PASSWORD, "123456", SOURCE, box=BOX)
    assert len(factory.entries()) == 1  # once a minute, not per request


def test_failures_from_two_addresses_lock_the_account_until_unlocked(
    factory: FakeUnitOfWorkFactory,
) -> None:
    bob = person(factory, "bob")
    session = _login(factory, bob)
    lock_account(factory, "bob")
    locked = factory.entries()[-1]
    assert (locked.type, locked.subject.id, locked.data["failures"]) == ("auth.locked", "bob", 5)
    with pytest.raises(AccessLocked, match="bob is locked"):
        _login(factory, bob)
    with pytest.raises(Unauthenticated, match="bob is locked"):
        auth.authenticate_session(factory, session.secret)
    assert [lock.subject_id for lock in auth.locks(factory, callers.auditor())] == ["bob"]

    unlocked = auth.unlock(factory, ADMIN, "operator", "bob", WHY)
    assert unlocked.subject_id == "bob"
    entry = factory.entries()[-1]
    assert (entry.type, entry.actor.id, entry.data["reason"]) == ("auth.unlocked", "adm", WHY)
    assert auth.locks(factory, ADMIN) == []
    factory.clock.advance(timedelta(minutes=1))
    assert _login(factory, bob).operator_id == "bob"  # the failures were forgotten


def test_four_failures_in_a_row_from_one_address_lock_the_address(
    factory: FakeUnitOfWorkFactory,
) -> None:
    bob = person(factory, "bob")
    for _ in range(3):
        factory.clock.advance(timedelta(minutes=1))
        with pytest.raises(Unauthenticated):
            _login(factory, bob, password="Not the password 1")
    factory.clock.advance(timedelta(minutes=1))
    with pytest.raises(AccessLocked, match=f"logins from {SOURCE} are now locked"):
        _login(factory, bob, password="Not the password 1")
    assert factory.entries()[-1].subject.id == SOURCE
    with pytest.raises(AccessLocked, match=f"logins from {SOURCE} are locked"):
        _login(factory, bob)
    assert _login(factory, bob, source="203.0.113.7").operator_id == "bob"


def test_unlocking_is_refused_without_permission_for_oneself_or_when_not_locked(
    factory: FakeUnitOfWorkFactory,
) -> None:
    person(factory, "bob")
    lock_account(factory, "bob")
    before = factory.entry_types()
    with pytest.raises(PermissionDenied):
        auth.unlock(factory, callers.supervisor(), "operator", "bob", WHY)
    with pytest.raises(PermissionDenied, match="own account"):
        auth.unlock(factory, callers.administrator("bob"), "operator", "bob", WHY)
    with pytest.raises(InvalidInput, match="subject_kind"):
        auth.unlock(factory, ADMIN, "tool", "bob", WHY)
    with pytest.raises(InvalidInput):
        auth.unlock(factory, ADMIN, "operator", "bob", "ok")
    with pytest.raises(NotFound, match="not locked"):
        auth.unlock(factory, ADMIN, "source", SOURCE, WHY)
    assert factory.entry_types() == before
    with pytest.raises(PermissionDenied):
        auth.locks(factory, callers.bench_operator())


def test_a_suspended_or_unenrolled_operator_cannot_sign_in(factory: FakeUnitOfWorkFactory) -> None:
    bob = person(factory, "bob")
    suspend_operator(factory, "bob")
    with pytest.raises(AccessLocked, match="bob is suspended"):
        _login(factory, bob)
    assert factory.entries()[-1].data["reason"] == "suspended"
    add_operator(factory, "ann")
    code = auth.issue_activation(factory, ADMIN, "ann")
    secret, _ = auth.activate(factory, "ann", code, PASSWORD, box=BOX)
    with pytest.raises(PermissionDenied, match="no confirmed second factor"):
        _login(factory, Enrolled("ann", secret, []))
    assert factory.entries()[-1].data["reason"] == "mfa_not_enrolled"


def test_signing_in_at_a_bench_not_assigned_is_refused(factory: FakeUnitOfWorkFactory) -> None:
    bob = person(factory, "bob")
    with pytest.raises(BenchNotAssigned):
        _login(factory, bob, bench="BENCH-9")
    assert factory.entries()[-1].data == {
        "reason": "bench_not_assigned",
        "source": SOURCE,
        "bench": "BENCH-9",
    }
    with pytest.raises(InvalidInput, match="bench"):
        _login(factory, bob, bench=" ")


# -- host recovery -----------------------------------------------------------------------------


def test_the_host_unlocks_an_administrator_and_issues_a_new_code(
    factory: FakeUnitOfWorkFactory,
) -> None:
    person(factory, "root", Role.ADMINISTRATOR)
    lock_account(factory, "root")
    done = auth.recover(factory, "root", WHY, activation=True)

    assert done.account_unlocked and done.addresses_unlocked == []
    assert done.activation_code is not None and done.still_locked == []
    unlocked, issued = factory.entries()[-2:]
    assert (unlocked.type, unlocked.actor.id) == ("auth.unlocked", "host")
    assert (issued.type, issued.data["reason"]) == ("auth.activation_issued", WHY)
    with factory(write=False) as uow:
        stored = uow.credentials.activation_code("root")
    assert stored is not None and stored[0] == code_hash(done.activation_code)


def test_the_host_reactivates_only_administrators_and_only_when_asked(
    factory: FakeUnitOfWorkFactory,
) -> None:
    person(factory, "bob")
    before = factory.entry_types()
    with pytest.raises(PermissionDenied, match="not an active administrator"):
        auth.recover(factory, "bob", WHY, activation=True)
    with pytest.raises(Conflict, match="nothing else was asked"):
        auth.recover(factory, "bob", WHY)
    with pytest.raises(NotFound, match="not locked"):
        auth.recover(factory, "bob", WHY, addresses=["198.51.100.99"])
    with pytest.raises(NotFound):
        auth.recover(factory, "ghost", WHY)
    assert factory.entry_types() == before


# -- sessions ----------------------------------------------------------------------------------


def test_a_session_ends_when_idle_or_too_old(factory: FakeUnitOfWorkFactory) -> None:
    bob = person(factory, "bob")
    session = _login(factory, bob)
    limits = factory.settings
    factory.clock.advance(limits.session_idle_timeout - timedelta(seconds=1))
    auth.authenticate_session(factory, session.secret)  # and touched: last seen now
    factory.clock.advance(limits.session_idle_timeout - timedelta(seconds=1))
    auth.authenticate_session(factory, session.secret)
    factory.clock.advance(limits.session_idle_timeout)
    with pytest.raises(Unauthenticated, match="minutes unused"):
        auth.authenticate_session(factory, session.secret)

    other = _login(factory, bob)
    steps = limits.session_absolute_timeout // (limits.session_idle_timeout / 2)
    for _ in range(int(steps) - 1):
        factory.clock.advance(limits.session_idle_timeout / 2)
        auth.authenticate_session(factory, other.secret)
    factory.clock.advance(limits.session_idle_timeout / 2)
    with pytest.raises(Unauthenticated, match="h after sign-in"):
        auth.authenticate_session(factory, other.secret)


def test_an_unknown_session_is_refused(factory: FakeUnitOfWorkFactory) -> None:
    for secret in ("", "x" * 301, "never-issued"):
        with pytest.raises(Unauthenticated):
            auth.authenticate_session(factory, secret)


def test_logging_out_ends_the_session_for_good(factory: FakeUnitOfWorkFactory) -> None:
    bob = person(factory, "bob")
    session = _login(factory, bob)
    auth.logout(factory, session.secret)
    entry = factory.entries()[-1]
    assert (entry.type, entry.actor.id, entry.data) == ("auth.logout", "bob", {"bench": None})
    with pytest.raises(Unauthenticated, match="has ended"):
        auth.authenticate_session(factory, session.secret)
    with pytest.raises(Unauthenticated, match="no live session"):
        auth.logout(factory, session.secret)
    assert factory.entry_types().count("auth.logout") == 1


def test_changing_ones_password_ends_ones_other_sessions(factory: FakeUnitOfWorkFactory) -> None:
    bob = person(factory, "bob")
    here = _login(factory, bob)
    there = _login(factory, bob)
    caller = auth.authenticate_session(factory, here.secret).caller
    new = "Another good 77 passphrase"

    ended = auth.change_password(factory, caller, PASSWORD, new, current_session=here.secret)

    assert ended == 1
    entry = factory.entries()[-1]
    assert (entry.type, entry.data["sessions_ended"]) == ("auth.password_changed", 1)
    assert new not in _texts(factory)
    auth.authenticate_session(factory, here.secret)
    with pytest.raises(Unauthenticated):
        auth.authenticate_session(factory, there.secret)
    with pytest.raises(Unauthenticated):
        _login(factory, bob)  # the old password
    factory.clock.advance(timedelta(minutes=1))
    assert _login(factory, bob, password=new).operator_id == "bob"


def test_changing_a_password_is_refused_for_a_wrong_old_one_or_a_weak_new_one(
    factory: FakeUnitOfWorkFactory,
) -> None:
    bob = person(factory, "bob")
    caller = auth.authenticate_session(factory, _login(factory, bob).secret).caller
    with pytest.raises(InvalidInput) as weak:
        auth.change_password(factory, caller, PASSWORD, "short")
    assert weak.value.field == "new_password"
    with pytest.raises(InvalidInput, match="must differ"):
        auth.change_password(factory, caller, PASSWORD, PASSWORD)
    with pytest.raises(PermissionDenied, match="only an operator"):
        auth.change_password(factory, Caller.system(), PASSWORD, "Another good 77 pass")
    assert "auth.password_changed" not in factory.entry_types()
    with pytest.raises(PermissionDenied, match="old_password"):
        auth.change_password(factory, caller, "Not the password 1", "Another good 77 pass")
    assert factory.entries()[-1].data["reason"] == "bad_password"  # counted as a failed login


def test_an_administrator_locks_an_operator_out_at_once_until_unlocked(
    factory: FakeUnitOfWorkFactory,
) -> None:
    bob = person(factory, "bob")
    session = _login(factory, bob)
    locked = auth.lock_operator(factory, ADMIN, "bob", "laptop stolen from the bench")
    assert (locked.subject_id, locked.reason) == ("bob", "laptop stolen from the bench")
    entry = factory.entries()[-1]
    assert (entry.type, entry.actor.id, entry.subject.id) == ("auth.locked", "adm", "bob")
    with pytest.raises(Unauthenticated, match="bob is locked"):
        auth.authenticate_session(factory, session.secret)
    with pytest.raises(AccessLocked, match="bob is locked"):
        _login(factory, bob)
    with pytest.raises(Conflict, match="already locked"):
        auth.lock_operator(factory, ADMIN, "bob", "laptop stolen from the bench")
    auth.unlock(factory, ADMIN, "operator", "bob", WHY)
    assert _login(factory, bob).operator_id == "bob"


def test_locking_is_refused_without_permission_for_oneself_for_nobody_or_without_reason(
    factory: FakeUnitOfWorkFactory,
) -> None:
    person(factory, "bob")
    before = factory.entry_types()
    with pytest.raises(PermissionDenied):
        auth.lock_operator(factory, callers.security_manager(), "bob", WHY)
    with pytest.raises(PermissionDenied, match="own account"):
        auth.lock_operator(factory, callers.administrator("bob"), "bob", WHY)
    with pytest.raises(NotFound, match="ghost"):
        auth.lock_operator(factory, ADMIN, "ghost", WHY)
    with pytest.raises(InvalidInput):
        auth.lock_operator(factory, ADMIN, "bob", "ok")
    assert factory.entry_types() == before
