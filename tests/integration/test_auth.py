"""People's authentication on both databases: enrolment, login, lockout, sessions, the ledger."""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from tests.integration.conftest import Staffed, move_clock
from tests.unit.fakes import FakeClock as Clock
from triage.adapters.replay import replay_check
from triage.domain import credentials
from triage.domain.caller import Caller
from triage.domain.roles import Role
from triage.errors import (
    AccessLocked,
    InvalidInput,
    KeyFileError,
    PermissionDenied,
    TooManyAttempts,
    Unauthenticated,
)
from triage.ledger.entry import Entry
from triage.services import auth, operators, tokens

PASSWORD = "Kettle-Harbour-Lantern-47"
SOURCE = "192.0.2.10"


@dataclass
class Enrolled:
    operator_id: str
    totp: pyotp.TOTP
    recovery: list[str]
    secrets: list[str] = field(default_factory=list)


# Where the tests' clock starts: ten seconds into a TOTP step, on a Monday morning.
START = datetime(2026, 3, 2, 9, 0, 10, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, staffed: Staffed) -> Clock:
    """The services' clock, moved by the test once the facility is staffed."""
    return move_clock(monkeypatch, staffed.app, START)


def enrol(staffed: Staffed, clock: Clock, operator_id: str) -> Enrolled:
    app = staffed.app
    code = auth.issue_activation(app.uow, staffed.admin, operator_id)
    secret, uri = auth.activate(app.uow, operator_id, code, PASSWORD, box=app.secret_box())
    assert pyotp.parse_uri(uri).secret == secret
    totp = pyotp.TOTP(secret)
    recovery = auth.confirm_mfa(app.uow, operator_id, code, totp.at(clock.at), box=app.secret_box())
    clock.advance(timedelta(seconds=30))  # the enrolment used this step's code
    return Enrolled(operator_id, totp, recovery, [code, secret, *recovery])


def log_in(
    staffed: Staffed,
    clock: Clock,
    who: Enrolled,
    password: str = PASSWORD,
    second: str | None = None,
    source: str = SOURCE,
) -> auth.NewSession:
    return auth.login(
        staffed.app.uow,
        who.operator_id,
        password,
        second if second is not None else who.totp.at(clock.at),
        source,
        box=staffed.app.secret_box(),
    )


def entries(staffed: Staffed) -> list[Entry]:
    with staffed.app.uow(write=False) as uow:
        return [
            Entry.from_bytes(raw)
            for batch in uow.ledger.storage.read_entries(0, 10**9)
            for _, raw in batch
        ]


def raw_entries(staffed: Staffed) -> list[bytes]:
    with staffed.app.uow(write=False) as uow:
        return [raw for batch in uow.ledger.storage.read_entries(0, 10**9) for _, raw in batch]


def of_type(staffed: Staffed, entry_type: str) -> list[Entry]:
    return [e for e in entries(staffed) if e.type == entry_type]


@pytest.fixture
def security(staffed: Staffed) -> Caller:
    uow = staffed.app.uow
    operators.create_operator(
        uow, Caller.system("test"), "sec", "Sec", frozenset({Role.SECURITY_MANAGER})
    )
    return operators.operator_caller(uow, "sec")


def test_enrolment_then_login_with_totp_and_single_use_recovery_codes(
    staffed: Staffed, clock: Clock
) -> None:
    ben = enrol(staffed, clock, "ben")
    with staffed.app.uow(write=False) as uow:
        operator = uow.operators.get("ben")
    assert operator is not None and operator.mfa_enrolled
    assert len(ben.recovery) == 10

    session = log_in(staffed, clock, ben)
    caller = auth.authenticate_session(staffed.app.uow, session.secret)
    assert caller.caller.id == "ben" and caller.caller.roles == frozenset({Role.BENCH_OPERATOR})
    assert caller.csrf_token == session.csrf_token
    with staffed.app.uow(write=False) as uow:
        operator = uow.operators.get("ben")
    assert operator is not None and operator.last_login_at == clock.at

    # The same TOTP code never works twice, even within its window.
    with pytest.raises(Unauthenticated):
        log_in(staffed, clock, ben, second=ben.totp.at(clock.at))
    clock.advance(timedelta(seconds=30))

    log_in(staffed, clock, ben, second=ben.recovery[0])
    clock.advance(timedelta(seconds=30))
    with pytest.raises(Unauthenticated):
        log_in(staffed, clock, ben, second=ben.recovery[0])
    clock.advance(timedelta(seconds=30))
    log_in(staffed, clock, ben, second=ben.recovery[1].upper())

    logins = of_type(staffed, "auth.login")
    assert [e.data["second_factor"] for e in logins] == ["totp", "recovery_code", "recovery_code"]
    assert logins[-1].data["recovery_codes_left"] == 8
    assert [e.data["reason"] for e in of_type(staffed, "auth.login_failed")] == [
        "bad_second_factor",
        "bad_second_factor",
    ]
    enrolled = of_type(staffed, "auth.mfa_enrolled")
    assert [(e.subject.id, e.actor.id) for e in enrolled] == [("ben", "ben")]


def test_every_role_must_enrol_a_second_factor_before_logging_in(
    staffed: Staffed, clock: Clock
) -> None:
    app = staffed.app
    code = auth.issue_activation(app.uow, staffed.admin, "audrey")
    auth.activate(app.uow, "audrey", code, PASSWORD, box=app.secret_box())
    with pytest.raises(PermissionDenied, match="second factor"):
        auth.login(app.uow, "audrey", PASSWORD, "123456", SOURCE, box=app.secret_box())
    assert of_type(staffed, "auth.login_failed")[-1].data["reason"] == "mfa_not_enrolled"


def test_activation_codes_are_checked_single_use_and_expire(staffed: Staffed, clock: Clock) -> None:
    app = staffed.app
    with pytest.raises(PermissionDenied):
        auth.issue_activation(app.uow, staffed.ben, "sup")
    code = auth.issue_activation(app.uow, staffed.admin, "sup")
    with pytest.raises(Unauthenticated, match="wrong"):
        auth.activate(app.uow, "sup", "wrong-code", PASSWORD, box=app.secret_box())
    with pytest.raises(InvalidInput, match="common passwords"):
        auth.activate(app.uow, "sup", code, "Password1234", box=app.secret_box())
    secret, _ = auth.activate(app.uow, "sup", code, PASSWORD, box=app.secret_box())
    auth.confirm_mfa(app.uow, "sup", code, pyotp.TOTP(secret).at(clock.at), box=app.secret_box())
    with pytest.raises(Unauthenticated):  # consumed by the enrolment
        auth.activate(app.uow, "sup", code, PASSWORD, box=app.secret_box())

    late = auth.issue_activation(app.uow, staffed.admin, "sup2")
    clock.advance(timedelta(hours=72))
    with pytest.raises(Unauthenticated, match="expired"):
        auth.activate(app.uow, "sup2", late, PASSWORD, box=app.secret_box())
    reasons = [e.data["reason"] for e in of_type(staffed, "auth.activation_refused")]
    assert reasons == ["wrong_code", "wrong_code", "expired_code"]


def test_brute_force_meets_a_growing_delay_then_a_lock_that_a_security_manager_lifts(
    staffed: Staffed, clock: Clock, security: Caller
) -> None:
    ben = enrol(staffed, clock, "ben")
    waits = []
    for failures in range(1, 5):
        # From two addresses: one address alone would lock itself first (see below).
        with pytest.raises(Unauthenticated):
            log_in(staffed, clock, ben, password="Wrong-password-1", source=_address(failures))
        # Straight away: refused unchecked, even with the right password.
        with pytest.raises(TooManyAttempts) as refused:
            log_in(staffed, clock, ben)
        waits.append(refused.value.retry_after)
        assert refused.value.retry_after == 2 ** (failures - 1)
        clock.advance(timedelta(seconds=2 ** (failures - 1)))
    assert waits == [1, 2, 4, 8]
    with pytest.raises(AccessLocked, match="operator ben is now locked"):
        log_in(staffed, clock, ben, password="Wrong-password-1", source=_address(5))
    clock.advance(timedelta(minutes=30))
    with pytest.raises(AccessLocked, match="administrator or a security manager"):
        log_in(staffed, clock, ben)

    locked = auth.locks(staffed.app.uow, security)
    assert [(lock.subject_kind, lock.subject_id) for lock in locked] == [("operator", "ben")]
    with pytest.raises(PermissionDenied):
        auth.unlock(staffed.app.uow, staffed.sup, "operator", "ben", "I said so")
    with pytest.raises(InvalidInput):
        auth.unlock(staffed.app.uow, security, "operator", "ben", " ")
    auth.unlock(staffed.app.uow, security, "operator", "ben", "verified by phone")
    assert auth.locks(staffed.app.uow, security) == []

    # The failure count starts again: no delay, no lock.
    session = log_in(staffed, clock, ben)
    assert auth.authenticate_session(staffed.app.uow, session.secret).caller.id == "ben"

    # The lock, the unlock, MFA state and last login are projections the ledger rebuilds.
    assert replay_check(staffed.app.database, staffed.app.facility.id).differences == []
    (unlocked,) = of_type(staffed, "auth.unlocked")
    assert unlocked.actor.id == "sec" and unlocked.subject.id == "ben"
    assert unlocked.data["reason"] == "verified by phone"
    (lock_entry,) = of_type(staffed, "auth.locked")
    assert lock_entry.subject.kind == "operator" and lock_entry.data["failures"] == 5
    reasons = [e.data["reason"] for e in of_type(staffed, "auth.login_failed")]
    assert reasons.count("bad_password") == 5
    assert reasons.count("too_soon") == 4
    assert reasons.count("locked") == 1


def _address(failure: int) -> str:
    """Three failures from one address, the rest from another."""
    return SOURCE if failure <= 3 else "192.0.2.11"


def test_many_failures_from_one_address_lock_the_address(
    staffed: Staffed, clock: Clock, security: Caller
) -> None:
    ben = enrol(staffed, clock, "ben")
    attacker = "198.51.100.7"
    box = staffed.app.secret_box()
    for n in range(staffed.app.settings.source_lock_failures - 1):
        # Unknown ids: no account to lock, but the address is counted all the same.
        with pytest.raises(Unauthenticated):
            auth.login(staffed.app.uow, f"nobody-{n}", "x", "123456", attacker, box=box)
        clock.advance(timedelta(seconds=20))
    with pytest.raises(AccessLocked, match=f"logins from {attacker} are now locked"):
        log_in(staffed, clock, ben, password="Not-the-password-9", source=attacker)
    clock.advance(timedelta(minutes=5))
    with pytest.raises(AccessLocked):
        log_in(staffed, clock, ben, source=attacker)
    # From elsewhere, the operator still gets in.
    log_in(staffed, clock, ben, source=SOURCE)

    assert replay_check(staffed.app.database, staffed.app.facility.id).differences == []
    sources = [e for e in of_type(staffed, "auth.locked") if e.subject.kind == "source"]
    assert [e.subject.id for e in sources] == [attacker]
    assert sources[0].data["failures"] == staffed.app.settings.source_lock_failures
    unknown = [e for e in of_type(staffed, "auth.login_failed") if e.subject.kind == "source"]
    # Failures under ids nobody has are recorded once a minute per address (19, 20 s apart),
    # though every one counts towards the address's lock.
    assert [e.data["reason"] for e in unknown] == ["unknown_operator"] * 7 + ["source_locked"]
    # The unknown ids (perhaps a password typed in the wrong field) are not recorded.
    assert not any(b"nobody-" in raw for raw in raw_entries(staffed))

    auth.unlock(staffed.app.uow, security, "source", attacker, "our own scanner")
    clock.advance(timedelta(seconds=30))
    log_in(staffed, clock, ben, source=attacker)


def test_sessions_expire_when_idle_and_after_eight_hours(staffed: Staffed, clock: Clock) -> None:
    ben = enrol(staffed, clock, "ben")
    idle = log_in(staffed, clock, ben)
    clock.advance(timedelta(minutes=14))
    auth.authenticate_session(staffed.app.uow, idle.secret)
    clock.advance(timedelta(minutes=14))
    auth.authenticate_session(staffed.app.uow, idle.secret)  # each use restarts the idle clock
    clock.advance(timedelta(minutes=15))
    with pytest.raises(Unauthenticated, match="unused"):
        auth.authenticate_session(staffed.app.uow, idle.secret)

    clock.advance(timedelta(seconds=30))
    busy = log_in(staffed, clock, ben)
    assert busy.expires_at == clock.at + timedelta(hours=8)
    for _ in range(8 * 60 // 10 - 1):
        clock.advance(timedelta(minutes=10))
        auth.authenticate_session(staffed.app.uow, busy.secret)
    clock.advance(timedelta(minutes=10))
    with pytest.raises(Unauthenticated, match="8 h"):
        auth.authenticate_session(staffed.app.uow, busy.secret)


def test_logout_ends_the_session_for_good(staffed: Staffed, clock: Clock) -> None:
    ben = enrol(staffed, clock, "ben")
    session = log_in(staffed, clock, ben)
    auth.logout(staffed.app.uow, session.secret)
    with pytest.raises(Unauthenticated, match="ended"):
        auth.authenticate_session(staffed.app.uow, session.secret)
    with pytest.raises(Unauthenticated):
        auth.logout(staffed.app.uow, session.secret)
    with pytest.raises(Unauthenticated):
        auth.authenticate_session(staffed.app.uow, "made-up")
    (logout,) = of_type(staffed, "auth.logout")
    assert logout.actor.id == "ben" and logout.subject.id == "ben"


def test_a_locked_operators_sessions_and_tokens_stop_working_until_unlocked(
    staffed: Staffed, clock: Clock, security: Caller
) -> None:
    ben = enrol(staffed, clock, "ben")
    session = log_in(staffed, clock, ben)
    signed_in = auth.authenticate_session(staffed.app.uow, session.secret).caller
    token = tokens.issue_token(staffed.app.uow, signed_in, "ben", "cli")
    assert tokens.authenticate_token(staffed.app.uow, token.secret).id == "ben"
    for n in range(staffed.app.settings.account_lock_failures):
        # From several addresses: from one, the address would lock first.
        with pytest.raises((Unauthenticated, AccessLocked)):
            log_in(staffed, clock, ben, password="Wrong-password-1", source=f"192.0.2.{20 + n}")
        clock.advance(timedelta(seconds=10))
    with pytest.raises(Unauthenticated, match="locked"):
        auth.authenticate_session(staffed.app.uow, session.secret)
    # Whoever was guessing the password may hold a token as well: the lock stops it too.
    with pytest.raises(Unauthenticated, match="ben is locked"):
        tokens.authenticate_token(staffed.app.uow, token.secret)
    auth.unlock(staffed.app.uow, security, "operator", "ben", "verified by phone")
    assert tokens.authenticate_token(staffed.app.uow, token.secret).id == "ben"


def test_changing_the_password_ends_the_other_sessions(staffed: Staffed, clock: Clock) -> None:
    ben = enrol(staffed, clock, "ben")
    here = log_in(staffed, clock, ben)
    clock.advance(timedelta(seconds=30))
    there = log_in(staffed, clock, ben)
    caller = auth.authenticate_session(staffed.app.uow, here.secret).caller
    new_password = "Lantern-Kettle-Harbour-74"
    with pytest.raises(PermissionDenied, match="old_password"):
        auth.change_password(staffed.app.uow, caller, "Wrong-password-1", new_password)
    with pytest.raises(InvalidInput, match="new_password"):
        auth.change_password(staffed.app.uow, caller, PASSWORD, "short")
    clock.advance(timedelta(seconds=1))
    ended = auth.change_password(
        staffed.app.uow, caller, PASSWORD, new_password, current_session=here.secret
    )
    assert ended == 1
    auth.authenticate_session(staffed.app.uow, here.secret)
    with pytest.raises(Unauthenticated, match="ended"):
        auth.authenticate_session(staffed.app.uow, there.secret)
    clock.advance(timedelta(seconds=30))
    with pytest.raises(Unauthenticated):
        log_in(staffed, clock, ben)
    clock.advance(timedelta(seconds=30))
    log_in(staffed, clock, ben, password=new_password)
    (changed,) = of_type(staffed, "auth.password_changed")
    assert changed.data["sessions_ended"] == 1
    # The digest of the new stored hash, never the password: replay checks the table by it.
    assert changed.data["password_digest"].startswith("sha256:")
    assert new_password not in str(changed.data)


def test_no_ledger_entry_holds_a_secret(staffed: Staffed, clock: Clock, security: Caller) -> None:
    ben = enrol(staffed, clock, "ben")
    secrets_seen = [PASSWORD, *ben.secrets]
    sessions = [log_in(staffed, clock, ben)]
    clock.advance(timedelta(seconds=30))
    totp_code = ben.totp.at(clock.at)
    sessions.append(log_in(staffed, clock, ben, second=totp_code))
    clock.advance(timedelta(seconds=30))
    sessions.append(log_in(staffed, clock, ben, second=ben.recovery[3]))
    wrong = "Guess-number-one-1"
    with pytest.raises(Unauthenticated):
        log_in(staffed, clock, ben, password=wrong)
    new_password = "Lantern-Kettle-Harbour-74"
    clock.advance(timedelta(seconds=5))
    caller = auth.authenticate_session(staffed.app.uow, sessions[0].secret).caller
    auth.change_password(
        staffed.app.uow, caller, PASSWORD, new_password, current_session=sessions[0].secret
    )
    auth.logout(staffed.app.uow, sessions[0].secret)
    token = tokens.issue_token(staffed.app.uow, caller, "ben", "cli")
    secrets_seen += [totp_code, wrong, new_password, token.secret]
    for session in sessions:
        secrets_seen += [session.secret, session.csrf_token]
        secrets_seen.append(credentials.session_id(session.secret).hex())

    raws = raw_entries(staffed)
    types = {e.type for e in entries(staffed)}
    assert {
        "auth.activation_issued",
        "auth.activated",
        "auth.mfa_enrolled",
        "auth.login",
        "auth.login_failed",
        "auth.password_changed",
        "auth.logout",
    } <= types
    for secret in secrets_seen:
        needles = {secret, secret.upper(), secret.lower(), secret.replace("-", "")}
        for raw in raws:
            for needle in needles:
                assert needle.encode() not in raw, f"a secret ({len(secret)} chars) is in an entry"


def test_totp_secrets_are_stored_encrypted_under_a_private_key_file(
    staffed: Staffed, clock: Clock
) -> None:
    ben = enrol(staffed, clock, "ben")
    path = staffed.app.settings.keys_dir / "secrets.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with staffed.app.uow(write=False) as uow:
        stored = uow.credentials.credential("ben")
    assert stored is not None and stored.sealed_totp_secret is not None
    assert ben.totp.secret.encode() not in stored.sealed_totp_secret
    assert staffed.app.secret_box().open(stored.sealed_totp_secret) == ben.totp.secret.encode()
    assert stored.password_hash is not None and PASSWORD not in stored.password_hash
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        staffed.app.secret_box()


def test_hammering_a_lock_adds_one_ledger_entry_a_minute_not_one_a_request(
    staffed: Staffed, clock: Clock
) -> None:
    ben = enrol(staffed, clock, "ben")
    attacker = "198.51.100.9"
    box = staffed.app.secret_box()
    for n in range(staffed.app.settings.source_lock_failures):
        with pytest.raises((Unauthenticated, AccessLocked)):
            auth.login(staffed.app.uow, f"nobody-{n}", "x", "123456", attacker, box=box)
        clock.advance(timedelta(seconds=1))
    size = staffed.ledger_size()
    for _ in range(50):  # half a minute of a locked address trying again every 0.6 s
        with pytest.raises(AccessLocked, match="are locked"):
            log_in(staffed, clock, ben, source=attacker)
        clock.advance(timedelta(seconds=0.6))
    assert staffed.ledger_size() == size + 1
    clock.advance(timedelta(seconds=31))
    with pytest.raises(AccessLocked):
        log_in(staffed, clock, ben, source=attacker)
    assert staffed.ledger_size() == size + 2  # a minute on, the attempts are recorded again
    refused = [e for e in of_type(staffed, "auth.login_failed") if e.subject.id == attacker]
    assert [e.data["reason"] for e in refused][-2:] == ["source_locked", "source_locked"]
    assert replay_check(staffed.app.database, staffed.app.facility.id).differences == []


def test_host_recovery_needs_a_reason_of_ten_characters_like_every_other_door(
    staffed: Staffed,
) -> None:
    size = staffed.ledger_size()
    with pytest.raises(InvalidInput, match="reason: say in at least 10 characters"):
        auth.recover(staffed.app.uow, "ben", "lost it", activation=True)
    assert staffed.ledger_size() == size
