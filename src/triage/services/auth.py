"""People's authentication: activation, MFA enrolment, login, lockout, sessions, logout.

Every change is recorded in the ledger in the same transaction, and no entry ever holds a
secret: no password, code, TOTP secret or session secret (nor a session's hash).
"""

from __future__ import annotations

import hmac
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from triage.domain import credentials
from triage.domain.caller import Caller, CallerKind, Credential
from triage.domain.credentials import AccessLock, StoredCredential, WebSession
from triage.domain.digests import set_digest, stored_digest
from triage.domain.people import Operator, sought_id
from triage.domain.reason import Reason
from triage.domain.roles import Permission, Role
from triage.errors import (
    AccessLocked,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
    TriageError,
    Unauthenticated,
)
from triage.ledger.entry import Entry, Ref, format_time
from triage.services import bench_assignment, tokens
from triage.services.common import make_entry, recorded_lately
from triage.services.ports import SecretSealer, TotpCodes, UnitOfWork, UnitOfWorkFactory

# The intervals and limits of sessions, login locks and activation codes are settings
# (``uow.settings``: session_idle_timeout, account_lock_failures, code_failure_window...).
# A session's last use is written at most this often (a write per request is not needed).
SESSION_TOUCH_INTERVAL = timedelta(seconds=10)
LOCK_KINDS = ("operator", "source")
MAX_SECRET_LENGTH = 300

_AUTH = Caller.system("auth")
_WRONG = "the operator id, password or second factor is wrong"
_ASK = "ask an administrator or a security manager to unlock it"


@dataclass(frozen=True)
class NewSession:
    """A web session just opened: the secret goes in the cookie and is kept nowhere else."""

    secret: str
    csrf_token: str
    expires_at: datetime
    operator_id: str
    bench: str | None


@dataclass(frozen=True)
class SessionCaller:
    """The operator behind a live session, and the CSRF token their changes must carry."""

    caller: Caller
    csrf_token: str
    session_id_hex: str


# -- activation and enrolment ---------------------------------------------------------------


def issue_activation(uow_factory: UnitOfWorkFactory, caller: Caller, operator_id: str) -> str:
    """A one-time activation code (72 h) with which an operator sets a password and enrols MFA."""
    caller.require(Permission.OPERATOR_MANAGE)
    code = credentials.new_activation_code()
    at = uow_factory.clock.now()
    expires = credentials.activation_expiry(at)
    with uow_factory(write=True) as uow:
        found = uow.operators.get(operator_id)
        if found is None or not found.active:
            raise NotFound(f"no active operator {operator_id!r}")
        if caller.id == operator_id and found.mfa_enrolled:
            # Otherwise a stolen administrator token could re-enrol its owner's login.
            raise PermissionDenied(
                "an administrator cannot issue their own activation code once enrolled; "
                "ask another administrator"
            )
        code_hash = credentials.code_hash(code)
        uow.credentials.set_activation_code(operator_id, code_hash, at, expires)
        _record(
            uow,
            caller,
            "auth.activation_issued",
            Ref("operator", operator_id),
            at,
            {"expires_at": format_time(expires), "code_digest": stored_digest(code_hash)},
        )
        uow.commit()
    return code


def activate(
    uow_factory: UnitOfWorkFactory,
    operator_id: str,
    code: str,
    password: str,
    *,
    box: SecretSealer,
    source: str | None = None,
) -> tuple[str, str]:
    """Set a password with an activation code; returns a new TOTP secret and its otpauth URI.

    The second factor is pending until ``confirm_mfa`` proves the authenticator has it. The
    code is checked before any Argon2 work, so a wrong one costs the server next to nothing;
    wrong codes are limited per account and per ``source`` address (TooManyAttempts).
    """
    at = uow_factory.clock.now()
    with uow_factory(write=True) as uow:
        checked = _check_activation(uow, operator_id, code, at, source)
        uow.commit()
    if isinstance(checked, TriageError):
        raise checked
    credentials.check_password(password, operator_id, uow_factory.packaged.common_passwords())
    password_hash = uow_factory.passwords.hash(password)
    secret = uow_factory.totp.new_secret()
    with uow_factory(write=True) as uow:
        # Again, in the transaction that uses it: it may have been used meanwhile.
        found = _check_activation(uow, operator_id, code, at, source)
        if isinstance(found, TriageError):
            uow.commit()
            raise found
        sealed = box.seal(secret.encode("ascii"))
        uow.credentials.set_pending_credential(operator_id, password_hash, sealed, at)
        _record(
            uow,
            _operator(found),
            "auth.activated",
            Ref("operator", operator_id),
            at,
            # Digests of the values as stored (see domain/digests.py), never of the secrets.
            {
                "second_factor": "pending",
                "password_digest": stored_digest(password_hash),
                "totp_digest": stored_digest(sealed),
            },
        )
        uow.commit()
        issuer = f"device-triage {uow.facility_id}"
    return secret, uow_factory.totp.provisioning_uri(secret, operator_id, issuer)


def confirm_mfa(
    uow_factory: UnitOfWorkFactory,
    operator_id: str,
    code: str,
    totp_code: str,
    *,
    box: SecretSealer,
    source: str | None = None,
) -> list[str]:
    """Confirm the authenticator with a current code; returns ten recovery codes, shown once.

    The activation code is checked first, limited and recorded as ``activate`` does.
    """
    recovery = credentials.new_recovery_codes()
    at = uow_factory.clock.now()
    with uow_factory(write=True) as uow:
        found = _check_activation(uow, operator_id, code, at, source)
        if isinstance(found, TriageError):
            uow.commit()
            raise found
        stored = uow.credentials.credential(operator_id, for_update=True)
        if stored is None or stored.sealed_totp_secret is None:
            raise Conflict(
                f"operator {operator_id} has not set a password yet: activate first "
                "(POST /api/v1/auth/activate or 'triage auth activate')"
            )
        secret = box.open(stored.sealed_totp_secret).decode("ascii")
        step = credentials.accept_totp(
            lambda n: uow_factory.totp.code(secret, n), totp_code, at, stored.last_totp_step
        )
        if step is None:
            raise InvalidInput(
                "totp_code: not the current code of this secret; check the authenticator's "
                "clock and enter the code it shows now"
            )
        uow.credentials.confirm_totp(operator_id, step, at)
        recovery_hashes = [credentials.code_hash(c) for c in recovery]
        uow.credentials.replace_recovery_codes(operator_id, recovery_hashes)
        uow.credentials.delete_activation_code(operator_id)
        uow.credentials.forget_failures("operator", operator_id)
        uow.credentials.forget_failures("source", _code_key(operator_id))
        _record(
            uow,
            _operator(found),
            "auth.mfa_enrolled",
            Ref("operator", operator_id),
            at,
            {
                "second_factor": "totp",
                "recovery_codes": len(recovery),
                "recovery_digest": set_digest(recovery_hashes),
            },
        )
        uow.commit()
    return recovery


def _code_key(operator_id: str) -> str:
    """Under what wrong activation codes for an operator are counted (as attempts from a
    pseudo-address no real address can be, so that they never count towards a login lock)."""
    return f"code:{operator_id}"[:64]


def _check_activation(
    uow: UnitOfWork, operator_id: str, code: str, at: datetime, source: str | None = None
) -> Operator | TriageError:
    """The operator when ``code`` is their live activation code; else the error to raise.

    Past the limits of wrong codes for the account or from ``source``, TooManyAttempts before
    anything is checked. A refusal about a known operator is counted and recorded, at most once
    a minute per operator and reason (the caller commits it before raising).
    """
    store, limits = uow.credentials, uow.settings
    source = None if source is None else (source.strip()[:64] or "unknown")
    since = at - limits.code_failure_window
    minutes = int(limits.code_failure_window.total_seconds() // 60)
    retry = limits.code_retry_seconds
    if store.source_failures(_code_key(operator_id), since) >= limits.code_failures_per_account:
        return TooManyAttempts(
            f"too many wrong activation codes for {operator_id[:64]} in {minutes} minutes: "
            f"wait {retry} s, and check the code with the administrator",
            retry,
        )
    per_source = limits.code_failures_per_source
    if source is not None and store.source_failures(source, since) >= per_source:
        return TooManyAttempts(
            f"too many failures from {source[:64]} in {minutes} minutes: "
            f"wait {retry} s before trying again",
            retry,
        )
    found = uow.operators.get(operator_id)
    stored = None if found is None else store.activation_code(operator_id)
    wrong = stored is None or not hmac.compare_digest(stored[0], credentials.code_hash(code))
    expired = stored is not None and at >= stored[1]
    if (wrong or expired) and source is not None:
        store.add_attempt(None, source, False, at)
    if found is not None and (wrong or expired):
        store.add_attempt(None, _code_key(operator_id), False, at)
        reason = "expired_code" if not wrong else "wrong_code"
        subject = Ref("operator", operator_id)
        data = {"reason": reason}
        lately = uow.settings.refusal_record_interval
        if not recorded_lately(uow, subject, "auth.activation_refused", at, lately, data):
            _record(uow, _AUTH, "auth.activation_refused", subject, at, data)
    if found is None or wrong:
        return Unauthenticated(
            "the activation code is wrong for this operator; check it or ask an administrator "
            "for a new one"
        )
    if expired:
        return Unauthenticated(
            "the activation code has expired; ask an administrator for a new one"
        )
    if not found.may_act:
        return PermissionDenied(f"operator {operator_id} is not active or is suspended")
    return found


# -- login and lockout ----------------------------------------------------------------------


def login(
    uow_factory: UnitOfWorkFactory,
    operator_id: str,
    password: str,
    second_factor: str,
    source: str,
    bench: str | None = None,
    *,
    box: SecretSealer,
) -> NewSession:
    """Open a web session with a password and a TOTP or recovery code.

    Failures are counted per account and per source address: each consecutive failure doubles
    the wait before the next attempt is even checked (TooManyAttempts); four in a row against
    one account from one address, or twenty from one address within fifteen minutes, lock the
    address; five in a row lock the account, which therefore takes more than one address
    (AccessLocked). See ``_fail``.
    """
    source = (source or "unknown").strip()[:64] or "unknown"
    if bench is not None:
        bench = bench.strip()
        if not bench or len(bench) > 64:
            raise InvalidInput("bench: name the bench (1-64 characters)")
    operator_id = operator_id.strip()
    if len(password) > MAX_SECRET_LENGTH or len(second_factor) > MAX_SECRET_LENGTH:
        raise InvalidInput("password or second factor: too long")
    at = uow_factory.clock.now()
    with uow_factory(write=True) as uow:
        outcome = _login(
            uow, uow_factory, operator_id, password, second_factor, source, bench, at, box
        )
        uow.commit()
    if isinstance(outcome, TriageError):
        raise outcome
    return outcome


def _login(
    uow: UnitOfWork,
    ports: UnitOfWorkFactory,
    operator_id: str,
    password: str,
    second_factor: str,
    source: str,
    bench: str | None,
    at: datetime,
    box: SecretSealer,
) -> NewSession | TriageError:
    store = uow.credentials
    passwords = ports.passwords
    if store.lock("source", source) is not None:
        return _refuse(
            uow,
            at,
            source,
            None,
            "source_locked",
            AccessLocked(f"logins from {source} are locked after repeated failures; {_ASK}"),
        )
    found = uow.operators.get(operator_id) if len(operator_id) <= 64 else None
    if found is None:
        passwords.verify(None, password)  # as slow as a wrong password
        return _fail(uow, at, source, None, "unknown_operator")
    stored = store.credential(found.id, for_update=True)
    if store.lock("operator", found.id) is not None:
        return _refuse(
            uow,
            at,
            source,
            found.id,
            "locked",
            AccessLocked(f"operator {found.id} is locked after repeated failed logins; {_ASK}"),
        )
    if found.suspended:
        return _refuse(
            uow,
            at,
            source,
            found.id,
            "suspended",
            AccessLocked(
                f"operator {found.id} is suspended; a security manager must reinstate them"
            ),
        )
    if not found.active:
        return _refuse(
            uow,
            at,
            source,
            found.id,
            "inactive",
            AccessLocked(f"operator {found.id} is no longer active; ask an administrator"),
        )
    failures, last = store.consecutive_failures(found.id)
    if failures and last is not None:
        ready = last + timedelta(seconds=2 ** (failures - 1))
        if at < ready:
            # Not checked, so not counted against the account; it counts against the source.
            store.add_attempt(None, source, False, at)
            retry = max(1, math.ceil((ready - at).total_seconds()))
            extra = _source_lock(uow, at, source)
            return _refuse(
                uow,
                at,
                source,
                found.id,
                "too_soon",
                TooManyAttempts(
                    f"{failures} failed login(s) in a row: wait {retry} s before trying again",
                    retry,
                ),
                extra,
            )
    password_hash = None if stored is None else stored.password_hash
    if not passwords.verify(password_hash, password) or stored is None:
        return _fail(uow, at, source, found.id, "bad_password")
    if stored.totp_confirmed_at is None or stored.sealed_totp_secret is None:
        return _refuse(
            uow,
            at,
            source,
            found.id,
            "mfa_not_enrolled",
            PermissionDenied(
                f"operator {found.id} has no confirmed second factor; every role must enrol one: "
                "ask an administrator for an activation code"
            ),
        )
    method = _second_factor(uow, ports.totp, found.id, stored, second_factor, at, box)
    if method is None:
        return _fail(uow, at, source, found.id, "bad_second_factor")
    if bench is not None and bench not in uow.operators.benches(found.id):
        # Checked once the person is proven: nobody else learns where they work.
        return _bench_refused(uow, at, source, found.id, bench)
    store.add_attempt(found.id, source, True, at)
    rehashed = None
    if passwords.needs_rehash(stored.password_hash or ""):
        rehashed = passwords.hash(password)
        store.set_password(found.id, rehashed, at)
    secret = secrets.token_urlsafe(32)
    session = WebSession(
        id=credentials.session_id(secret),
        operator_id=found.id,
        csrf_token=secrets.token_urlsafe(32),
        bench=bench,
        created_at=at,
        last_seen_at=at,
        expires_at=at + uow.settings.session_absolute_timeout,
        ended_at=None,
    )
    store.add_session(session)
    data: dict[str, str | int | None] = {
        "source": source,
        "bench": bench,
        "second_factor": method,
    }
    if method == "recovery_code":
        data["recovery_codes_left"] = store.recovery_codes_left(found.id)
    if rehashed is not None:
        data["password_digest"] = stored_digest(rehashed)
    _record(uow, _operator(found, bench), "auth.login", Ref("operator", found.id), at, data)
    return NewSession(secret, session.csrf_token, session.expires_at, found.id, bench)


def _second_factor(
    uow: UnitOfWork,
    totp: TotpCodes,
    operator_id: str,
    stored: StoredCredential,
    code: str,
    at: datetime,
    box: SecretSealer,
) -> str | None:
    """'totp' or 'recovery_code' when ``code`` is good (and now used up); else None."""
    if credentials.is_totp_code(code):
        assert stored.sealed_totp_secret is not None
        secret = box.open(stored.sealed_totp_secret).decode("ascii")
        step = credentials.accept_totp(
            lambda n: totp.code(secret, n), code, at, stored.last_totp_step
        )
        if step is None or not uow.credentials.use_totp_step(operator_id, step):
            return None
        return "totp"
    if code.strip() and uow.credentials.use_recovery_code(
        operator_id, credentials.code_hash(code), at
    ):
        return "recovery_code"
    return None


def _refuse(
    uow: UnitOfWork,
    at: datetime,
    source: str,
    operator_id: str | None,
    reason: str,
    error: TriageError,
    extra: list[Entry] | None = None,
) -> TriageError:
    """Record a login refused before the password was checked; returns the error to raise.

    A refusal repeating the last one recorded about the same subject, for the same reason and
    from the same source, less than ``refusal_record_interval`` ago, is not recorded again:
    an address hammering a locked account or while itself locked would otherwise add a ledger
    entry per request, for ever. The first of each run is recorded, and one a minute after.
    """
    subject = Ref("operator", operator_id) if operator_id else Ref("source", source)
    data = {"reason": reason, "source": source}
    interval = uow.settings.refusal_record_interval
    lately = recorded_lately(uow, subject, "auth.login_failed", at, interval, data)
    if not extra and lately:
        return error
    uow.ledger.record(
        [make_entry(uow, _AUTH, "auth.login_failed", subject, data, at), *(extra or [])]
    )
    return error


def _bench_refused(
    uow: UnitOfWork, at: datetime, source: str, operator_id: str, bench: str
) -> TriageError:
    """Record a sign-in at a bench not assigned to the operator; returns the error to raise."""
    subject = Ref("operator", operator_id)
    data = {"reason": "bench_not_assigned", "source": source, "bench": bench}
    interval = uow.settings.refusal_record_interval
    if not recorded_lately(uow, subject, "auth.login_failed", at, interval, data):
        uow.ledger.record([make_entry(uow, _AUTH, "auth.login_failed", subject, data, at)])
    return bench_assignment.not_assigned(operator_id, bench)


def _fail(
    uow: UnitOfWork, at: datetime, source: str, operator_id: str | None, reason: str
) -> TriageError:
    """Count and record a failed login, locking the source or the account when it is time.

    The address locks first: failures in a row against one account from one address lock that
    address at one fewer than lock the account (``account_lock_failures``), and a failure that
    locks its address does not also lock the account. So an account locks only when failures
    come from more than one address (a distributed guess, which no address lock stops), and
    nobody can lock an administrator out from one address.
    """
    store = uow.credentials
    store.add_attempt(operator_id, source, False, at)
    # An unknown id is not recorded: people type their password into the id field. What
    # is recorded in its place (the address failing) is recorded at most once a minute.
    subject = Ref("operator", operator_id) if operator_id else Ref("source", source)
    data = {"reason": reason, "source": source}
    entries = []
    if operator_id is not None or not recorded_lately(
        uow, subject, "auth.login_failed", at, uow.settings.refusal_record_interval, data
    ):
        entries.append(make_entry(uow, _AUTH, "auth.login_failed", subject, data, at))
    error: TriageError = Unauthenticated(_WRONG)
    source_entries = _source_lock(uow, at, source, operator_id)
    if source_entries:
        error = AccessLocked(f"{_WRONG}; logins from {source} are now locked: {_ASK}")
    elif operator_id is not None:
        failures, _ = store.consecutive_failures(operator_id)
        locks_at = uow.settings.account_lock_failures
        if failures >= locks_at and store.lock("operator", operator_id) is None:
            entries.append(
                make_entry(
                    uow,
                    _AUTH,
                    "auth.locked",
                    subject,
                    {"reason": f"{failures} failed logins in a row", "failures": failures},
                    at,
                )
            )
            error = AccessLocked(f"{_WRONG}; operator {operator_id} is now locked: {_ASK}")
    entries.extend(source_entries)
    if entries:
        uow.ledger.record(entries)
    return error


def _source_lock(
    uow: UnitOfWork, at: datetime, source: str, operator_id: str | None = None
) -> list[Entry]:
    """The entry locking ``source`` when it has failed too often lately, or too often in a row
    against ``operator_id``; else nothing."""
    store, limits = uow.credentials, uow.settings
    if store.lock("source", source) is not None:
        return []
    if operator_id is not None:
        in_a_row = store.consecutive_failures_from(operator_id, source)
        # Addresses lock before accounts: one fewer failure in a row than locks the account,
        # so no single address can lock anybody out (an account locks only when failures
        # come from more than one address).
        if in_a_row >= limits.account_lock_failures - 1:
            reason = f"{in_a_row} failed logins in a row as operator {operator_id}"
            return [_source_locked(uow, source, reason, in_a_row, at)]
    count = store.source_failures(source, at - limits.source_lock_window)
    if count < limits.source_lock_failures:
        return []
    minutes = int(limits.source_lock_window.total_seconds() // 60)
    reason = f"{count} failed logins within {minutes} minutes"
    return [_source_locked(uow, source, reason, count, at)]


def _source_locked(uow: UnitOfWork, source: str, reason: str, failures: int, at: datetime) -> Entry:
    """The entry locking the address ``source``."""
    data = {"reason": reason, "failures": failures}
    return make_entry(uow, _AUTH, "auth.locked", Ref("source", source), data, at)


def unlock(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    subject_kind: str,
    subject_id: str,
    reason: str,
) -> AccessLock:
    """Unlock an operator or a source address and reset its failure count (with a reason)."""
    caller.require(Permission.ACCOUNT_UNLOCK)
    if subject_kind not in LOCK_KINDS:
        raise InvalidInput(f"subject_kind: one of {', '.join(LOCK_KINDS)}, not {subject_kind!r}")
    reason = Reason.parse(reason).text
    if subject_kind == "operator" and subject_id == caller.id:
        raise PermissionDenied("nobody unlocks their own account; ask another person who may")
    at = uow_factory.clock.now()
    with uow_factory(write=True) as uow:
        found = uow.credentials.lock(subject_kind, subject_id)
        if found is None:
            raise NotFound(f"{subject_kind} {subject_id!r} is not locked")
        _record(
            uow,
            caller,
            "auth.unlocked",
            Ref(subject_kind, subject_id),
            at,
            {"reason": reason[:2000], "locked_at": format_time(found.locked_at)},
        )
        uow.credentials.forget_failures(subject_kind, subject_id)
        uow.commit()
    return found


def lock_operator(
    uow_factory: UnitOfWorkFactory, caller: Caller, operator_id: str, reason: str
) -> AccessLock:
    """Lock an operator's account at once, with a reason (an administrator; not their own):
    their sessions and tokens stop working and they cannot sign in until someone unlocks it."""
    caller.require(Permission.OPERATOR_MANAGE)
    reason = Reason.parse(reason).text
    if operator_id == caller.id:
        raise PermissionDenied("nobody locks their own account; ask another administrator")
    at = uow_factory.clock.now()
    with uow_factory(write=True) as uow:
        if uow.operators.get(sought_id(operator_id)) is None:
            raise NotFound(f"no operator {operator_id!r}")
        if uow.credentials.lock("operator", operator_id) is not None:
            raise Conflict(f"operator {operator_id} is already locked")
        data = {"reason": reason[:2000], "failures": 0}
        _record(uow, caller, "auth.locked", Ref("operator", operator_id), at, data)
        locked = uow.credentials.lock("operator", operator_id)
        uow.commit()
    assert locked is not None
    return locked


HOST = Caller.system("host")


@dataclass(frozen=True)
class Recovery:
    """What a host-side recovery did, and which addresses are still locked."""

    operator_id: str
    account_unlocked: bool
    addresses_unlocked: list[str]
    activation_code: str | None
    expires_at: datetime | None
    still_locked: list[str]


def recover(
    uow_factory: UnitOfWorkFactory,
    operator_id: str,
    reason: str,
    addresses: Sequence[str] = (),
    activation: bool = False,
) -> Recovery:
    """Give the facility back to its owners when nobody who may unlock can sign in.

    Run on the server by whoever holds the data directory (``triage auth recover``), with no
    token: that person can read and write the database anyway, and this way what they do is
    recorded, with the actor ``system:host`` and their reason. Unlocks the operator's account
    if it is locked, unlocks each address in ``addresses``, and with ``activation`` issues an
    administrator a new activation code (a forgotten password or a lost second factor).
    """
    text = Reason.parse(reason).text
    wanted = list(dict.fromkeys(a.strip() for a in addresses if a.strip()))
    at = uow_factory.clock.now()
    with uow_factory(write=True) as uow:
        found = uow.operators.get(operator_id)
        if found is None:
            raise NotFound(f"no operator {operator_id!r}")
        store = uow.credentials
        entries = []
        account = store.lock("operator", operator_id)
        if account is not None:
            entries.append(_unlocked(uow, Ref("operator", operator_id), text, account, at))
            store.forget_failures("operator", operator_id)
        unlocked = []
        for address in wanted:
            lock = store.lock("source", address)
            if lock is None:
                raise NotFound(f"address {address!r} is not locked")
            entries.append(_unlocked(uow, Ref("source", address), text, lock, at))
            store.forget_failures("source", address)
            unlocked.append(address)
        code = expires = None
        if activation:
            if Role.ADMINISTRATOR not in found.roles or not found.active:
                raise PermissionDenied(
                    f"operator {operator_id} is not an active administrator: the host re-activates "
                    "only administrators; an administrator re-activates everyone else"
                )
            code = credentials.new_activation_code()
            expires = credentials.activation_expiry(at)
            code_hash = credentials.code_hash(code)
            store.set_activation_code(operator_id, code_hash, at, expires)
            entries.append(
                make_entry(
                    uow,
                    HOST,
                    "auth.activation_issued",
                    Ref("operator", operator_id),
                    {
                        "expires_at": format_time(expires),
                        "reason": text,
                        "code_digest": stored_digest(code_hash),
                    },
                    at,
                )
            )
        if not entries:
            raise Conflict(
                f"operator {operator_id} is not locked and nothing else was asked: name a locked "
                "address with --address, or ask for a new activation code with --activation"
            )
        uow.ledger.record(entries)
        still = [lock.subject_id for lock in store.locks() if lock.subject_kind == "source"]
        uow.commit()
    return Recovery(operator_id, account is not None, unlocked, code, expires, still)


def _unlocked(uow: UnitOfWork, subject: Ref, reason: str, lock: AccessLock, at: datetime) -> Entry:
    data = {"reason": reason[:2000], "locked_at": format_time(lock.locked_at)}
    return make_entry(uow, HOST, "auth.unlocked", subject, data, at)


def locks(uow_factory: UnitOfWorkFactory, caller: Caller) -> list[AccessLock]:
    """Locked operators and source addresses (for who may unlock them or review access)."""
    caller.require(Permission.ACCESS_REVIEW, Permission.ACCOUNT_UNLOCK)
    with uow_factory(write=False) as uow:
        return uow.credentials.locks()


# -- sessions -------------------------------------------------------------------------------


def authenticate_session(uow_factory: UnitOfWorkFactory, secret: str) -> SessionCaller:
    """The operator behind a live session's secret; Unauthenticated for any other."""
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        raise Unauthenticated("no valid session; sign in (POST /api/v1/auth/login)")
    session_id = credentials.session_id(secret)
    at = uow_factory.clock.now()
    with uow_factory(write=False) as uow:
        session = uow.credentials.session(session_id)
        holder = None if session is None else uow.credentials.holder(session.operator_id)
    if session is None or holder is None:
        raise Unauthenticated("the session is unknown; sign in again")
    found = holder.operator
    if session.ended_at is not None:
        raise Unauthenticated("the session has ended; sign in again")
    limits = uow_factory.settings
    if at >= session.expires_at:
        hours = int(limits.session_absolute_timeout.total_seconds() // 3600)
        raise Unauthenticated(f"the session expired ({hours} h after sign-in); sign in again")
    if at - session.last_seen_at >= limits.session_idle_timeout:
        minutes = int(limits.session_idle_timeout.total_seconds() // 60)
        raise Unauthenticated(f"the session expired after {minutes} minutes unused; sign in again")
    if holder.locked:
        raise Unauthenticated(f"operator {found.id} is locked; {_ASK}")
    if not found.may_act:
        raise Unauthenticated(f"operator {found.id} is not active or is suspended")
    tokens.check_second_factor(
        found.id, holder.second_factor_since, session.created_at, "the session"
    )
    if at - session.last_seen_at >= SESSION_TOUCH_INTERVAL:
        with uow_factory(write=True) as uow:
            uow.credentials.touch_session(session_id, at)
            uow.commit()
    # Named by its sign-in time (the auth.login entry), never by its hash.
    credential = Credential("session", format_time(session.created_at))
    return SessionCaller(
        Caller.operator(found.id, found.roles, None, session.bench, credential, found.asset_owner),
        session.csrf_token,
        session_id.hex(),
    )


def logout(uow_factory: UnitOfWorkFactory, secret: str) -> None:
    """End a session for good: its cookie is worthless from now on."""
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        raise Unauthenticated("no session to end")
    session_id = credentials.session_id(secret)
    at = uow_factory.clock.now()
    with uow_factory(write=True) as uow:
        session = uow.credentials.session(session_id)
        if session is None or not uow.credentials.end_session(session_id, at):
            raise Unauthenticated("no live session to end")
        found = uow.operators.get(session.operator_id)
        actor = Caller.operator(
            session.operator_id,
            found.roles if found else frozenset(),
            asset_owner=found.asset_owner if found else None,
        )
        _record(
            uow,
            actor,
            "auth.logout",
            Ref("operator", session.operator_id),
            at,
            {"bench": session.bench},
        )
        uow.commit()


def change_password(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    old_password: str,
    new_password: str,
    *,
    current_session: str | None = None,
    source: str = "local",
) -> int:
    """Change one's own password; ends one's other sessions (all but ``current_session``).

    A wrong old password counts as a failed login. Returns how many sessions were ended.
    """
    if caller.kind is not CallerKind.OPERATOR:
        raise PermissionDenied("only an operator has a password to change")
    try:
        credentials.check_password(new_password, caller.id, uow_factory.packaged.common_passwords())
    except InvalidInput as exc:
        raise InvalidInput(f"new_{exc}", field="new_password") from exc
    if new_password == old_password:
        raise InvalidInput("new_password: must differ from the current password")
    new_hash = uow_factory.passwords.hash(new_password)
    keep = None if current_session is None else credentials.session_id(current_session)
    source = (source or "local").strip()[:64] or "local"
    at = uow_factory.clock.now()
    with uow_factory(write=True) as uow:
        stored = uow.credentials.credential(caller.id, for_update=True)
        password_hash = None if stored is None else stored.password_hash
        if not uow_factory.passwords.verify(password_hash, old_password):
            error = _fail(uow, at, source, caller.id, "bad_password")
            uow.commit()
            if isinstance(error, AccessLocked):
                raise error
            raise PermissionDenied("old_password: not the current password")
        uow.credentials.set_password(caller.id, new_hash, at)
        ended = uow.credentials.end_sessions(caller.id, at, keep)
        _record(
            uow,
            caller,
            "auth.password_changed",
            Ref("operator", caller.id),
            at,
            {"sessions_ended": ended, "password_digest": stored_digest(new_hash)},
        )
        uow.commit()
    return ended


# -- helpers --------------------------------------------------------------------------------


def _operator(found: Operator, bench: str | None = None) -> Caller:
    return Caller.operator(found.id, found.roles, None, bench, asset_owner=found.asset_owner)


def _record(
    uow: UnitOfWork,
    caller: Caller,
    entry_type: str,
    subject: Ref,
    at: datetime,
    data: dict[str, Any],  # the entry's data: a JSON object (see common.make_entry)
) -> None:
    uow.ledger.record([make_entry(uow, caller, entry_type, subject, data, at)])
