"""Attacks by callers who prove nothing, on both databases: forged agent requests must not
suspend a tool, one address must not lock the facility's owners out, and wrong activation codes
must neither cost Argon2 work nor grow the ledger per request (issue 16, attacks 2, 3 and 4)."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.conftest import Staffed, move_clock
from tests.integration.test_auth import PASSWORD, START, enrol, log_in, of_type
from tests.unit.fakes import FakeClock as Clock
from triage.domain.agent_request import request_message
from triage.domain.caller import Caller
from triage.domain.roles import Role
from triage.domain.tool import ToolStatus
from triage.errors import AccessLocked, TooManyAttempts, Unauthenticated
from triage.ledger import note
from triage.ledger.entry import format_time
from triage.services import agent_auth, auth, operators

ATTACKER = "203.0.113.66"
HOME = "192.0.2.10"


def _tool_status(staffed: Staffed, tool_id: str = "BENCH-1") -> ToolStatus:
    with staffed.app.uow(write=False) as uow:
        found = uow.tools.get(tool_id)
    assert found is not None
    return found.status


def _forged(staffed: Staffed, tool_id: str = "BENCH-1") -> None:
    """What attack 2 sends: a current time, a fresh nonce and 64 random bytes as signature."""
    agent_auth.authenticate_tool(
        staffed.app.uow,
        tool_id,
        "POST",
        "/api/v1/agent/results",
        format_time(datetime.now(UTC)),
        secrets.token_hex(16),
        base64.b64encode(secrets.token_bytes(64)).decode(),
        b'{"result": "x"}',
    )


def test_forged_agent_requests_never_suspend_a_tool(staffed: Staffed) -> None:
    size = staffed.ledger_size()
    for _ in range(30):
        with pytest.raises(Unauthenticated, match="signature"):
            _forged(staffed)
    # The tool works on, nothing was raised against it, and the ledger holds one refusal.
    assert _tool_status(staffed) is ToolStatus.ACTIVE
    assert staffed.entries("alert.raised") == []
    assert staffed.entries("tool.suspended") == []
    assert staffed.ledger_size() <= size + 1


def test_forgeries_past_a_burst_from_one_address_are_answered_429_but_the_tool_is_heard(
    staffed: Staffed,
) -> None:
    def forged() -> None:
        agent_auth.authenticate_tool(
            staffed.app.uow,
            "BENCH-1",
            "GET",
            "/api/v1/agent/work-orders",
            format_time(datetime.now(UTC)),
            secrets.token_hex(16),
            base64.b64encode(secrets.token_bytes(64)).decode(),
            b"",
            ATTACKER,
        )

    for _ in range(staffed.app.settings.agent_unverified_burst):
        with pytest.raises(Unauthenticated):
            forged()
    size = staffed.ledger_size()
    with pytest.raises(TooManyAttempts) as limited:
        forged()
    assert limited.value.retry_after >= 1
    assert staffed.ledger_size() == size  # nothing written for it
    # The genuine agent behind the same address still gets in.
    sent, nonce = format_time(datetime.now(UTC)), secrets.token_hex(16)
    target = "/api/v1/agent/work-orders"
    message = request_message("GET", target, sent, nonce, b"")
    signature = base64.b64encode(note.sign_message(message, staffed.tool_key)).decode()
    caller = agent_auth.authenticate_tool(
        staffed.app.uow, "BENCH-1", "GET", target, sent, nonce, signature, b"", ATTACKER
    )
    assert caller.id == "BENCH-1"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, staffed: Staffed) -> Clock:
    return move_clock(monkeypatch, staffed.app, START)


@pytest.fixture
def owners(staffed: Staffed) -> Caller:
    """A security manager besides the administrator: the people who may unlock."""
    operators.create_operator(
        staffed.app.uow, Caller.system("test"), "sec", "Sec", frozenset({Role.SECURITY_MANAGER})
    )
    return operators.operator_caller(staffed.app.uow, "sec")


def test_wrong_logins_from_one_address_lock_the_address_not_the_owners(
    staffed: Staffed, clock: Clock, owners: Caller
) -> None:
    admin = enrol(staffed, clock, "admin")
    sec = enrol(staffed, clock, "sec")
    for who in (admin, sec):
        for _ in range(5):  # attack 3: five wrong logins for each
            with pytest.raises((Unauthenticated, AccessLocked, TooManyAttempts)):
                log_in(staffed, clock, who, password="Wrong-password-1", source=ATTACKER)
            clock.advance(timedelta(seconds=20))
    # The attacker's address is locked, and nobody else.
    locked = auth.locks(staffed.app.uow, owners)
    assert [(lock.subject_kind, lock.subject_id) for lock in locked] == [("source", ATTACKER)]
    with pytest.raises(AccessLocked, match=f"logins from {ATTACKER}"):
        log_in(staffed, clock, admin, source=ATTACKER)
    # The owners sign in from their own addresses, and their sessions work.
    for who in (admin, sec):
        session = log_in(staffed, clock, who, source=HOME)
        assert (
            auth.authenticate_session(staffed.app.uow, session.secret).caller.id == who.operator_id
        )
    assert not [e for e in of_type(staffed, "auth.locked") if e.subject.kind == "operator"]


def test_a_distributed_guess_still_locks_the_account(staffed: Staffed, clock: Clock) -> None:
    ben = enrol(staffed, clock, "ben")
    for n in range(staffed.app.settings.account_lock_failures):
        with pytest.raises((Unauthenticated, AccessLocked)):
            log_in(staffed, clock, ben, password="Wrong-password-1", source=f"198.51.100.{n}")
        clock.advance(timedelta(seconds=20))
    with pytest.raises(AccessLocked, match="operator ben is locked"):
        log_in(staffed, clock, ben, source=HOME)


def test_wrong_activation_codes_cost_no_argon2_and_are_recorded_once_a_minute(
    staffed: Staffed, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = staffed.app
    code = auth.issue_activation(app.uow, staffed.admin, "ben")
    hashed: list[str] = []
    real_hash = app.uow.passwords.hash

    def counting(password: str) -> str:
        hashed.append(password)
        return real_hash(password)

    monkeypatch.setattr(app.uow.passwords, "hash", counting)
    size = staffed.ledger_size()
    statuses = []
    for _ in range(30):  # attack 4, on both endpoints
        for attempt in (
            lambda: auth.activate(app.uow, "ben", "wrong-code", PASSWORD, box=app.secret_box()),
            lambda: auth.confirm_mfa(app.uow, "ben", "wrong-code", "123456", box=app.secret_box()),
        ):
            with pytest.raises((Unauthenticated, TooManyAttempts)) as refused:
                attempt()
            statuses.append(type(refused.value))
        clock.advance(timedelta(seconds=0.5))
    assert hashed == []  # no wrong code reached the password hashing
    # One refusal recorded in the half minute, and the account limit answered the rest.
    assert staffed.ledger_size() == size + 1
    assert TooManyAttempts in statuses
    with pytest.raises(TooManyAttempts) as limited:
        auth.activate(app.uow, "ben", code, PASSWORD, box=app.secret_box())
    assert limited.value.retry_after >= 1
    # Once the window has passed, the right code works.
    clock.advance(timedelta(minutes=16))
    secret, _ = auth.activate(app.uow, "ben", code, PASSWORD, box=app.secret_box())
    assert hashed == [PASSWORD] and secret
