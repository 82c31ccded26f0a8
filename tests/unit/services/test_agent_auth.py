"""Authenticating bench agents by their tool keys, and recording their refusals."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers
from tests.unit.services.people_seed import EnrolledTool, enrol_tool
from triage.domain.agent_request import request_message
from triage.domain.caller import Caller, CallerKind
from triage.errors import TooManyAttempts, TriageError, Unauthenticated
from triage.ledger import note
from triage.ledger.entry import format_time
from triage.services import tools
from triage.services.agent_auth import (
    SignedToolRequest,
    authenticate_tool,
    verify_tool_request,
)

TARGET = "/agent/v1/work-orders/wo-1/result"
BODY = b'{"outcome": "completed"}'


def _ask(
    factory: FakeUnitOfWorkFactory,
    tool: EnrolledTool,
    method: str = "POST",
    *,
    nonce: str | None = None,
    at: datetime | None = None,
    signer: str | None = None,
    tool_id: str | None = None,
    source: str | None = None,
) -> tuple[str, Caller | TriageError]:
    """Sign and send one request; returns its nonce and the caller (or the error raised)."""
    nonce = nonce or secrets.token_hex(16)
    sent = format_time(at or factory.clock.now())
    message = request_message(method, TARGET, sent, nonce, BODY)
    signature = base64.b64encode(note.sign_message(message, signer or tool.signer_key)).decode()
    try:
        caller: Caller | TriageError = authenticate_tool(
            factory, tool_id or tool.tool.id, method, TARGET, sent, nonce, signature, BODY, source
        )
    except (Unauthenticated, TooManyAttempts) as exc:
        caller = exc
    return nonce, caller


def test_a_signed_request_is_the_tools(factory: FakeUnitOfWorkFactory) -> None:
    tool = enrol_tool(factory, "T1")
    _, caller = _ask(factory, tool)
    assert isinstance(caller, Caller)
    assert (caller.kind, caller.id) == (CallerKind.TOOL, "T1")
    assert factory.entry_types() == ["tool.enrolled"]  # nothing recorded, only the nonce kept


def test_a_replayed_nonce_is_refused_and_counted_against_the_tool(
    factory: FakeUnitOfWorkFactory,
) -> None:
    tool = enrol_tool(factory, "T1")
    nonce, _ = _ask(factory, tool)
    _, refused = _ask(factory, tool, nonce=nonce)

    assert isinstance(refused, Unauthenticated) and "replay" in str(refused)
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject.kind, entry.subject.id, entry.actor.id) == (
        "auth.refused",
        "tool",
        "T1",
        "agent-auth",
    )
    assert entry.data["reason"].startswith(f"POST {TARGET}: nonce already used")


def test_a_read_needs_only_a_fresh_signed_time(factory: FakeUnitOfWorkFactory) -> None:
    tool = enrol_tool(factory, "T1")
    nonce, first = _ask(factory, tool, "GET")
    _, again = _ask(factory, tool, "GET", nonce=nonce)
    assert not isinstance(first, Exception) and not isinstance(again, Exception)
    _, post = _ask(factory, tool, nonce=nonce)  # the nonce was not used up by the reads
    assert not isinstance(post, Exception)


def test_a_time_off_the_servers_clock_is_refused_every_time(
    factory: FakeUnitOfWorkFactory,
) -> None:
    tool = enrol_tool(factory, "T1")
    stale = factory.clock.now() - timedelta(minutes=6)
    for _ in range(2):
        _, refused = _ask(factory, tool, at=stale)
        assert isinstance(refused, Unauthenticated)
    assert factory.entry_types() == ["tool.enrolled", "auth.refused", "auth.refused"]


def test_a_signature_that_does_not_verify_is_recorded_once_a_minute(
    factory: FakeUnitOfWorkFactory,
) -> None:
    tool = enrol_tool(factory, "T1")
    forger, _ = note.generate_key("tool.T1")
    for _ in range(3):
        _, refused = _ask(factory, tool, signer=forger)
        assert isinstance(refused, Unauthenticated) and "does not verify" in str(refused)
    assert factory.entry_types() == ["tool.enrolled", "auth.signature_refused"]
    factory.clock.advance(timedelta(minutes=1))
    _ask(factory, tool, signer=forger)
    assert factory.entry_types()[-1] == "auth.signature_refused"
    assert len(factory.entries()) == 3


def test_an_unknown_or_suspended_tool_is_refused(factory: FakeUnitOfWorkFactory) -> None:
    tool = enrol_tool(factory, "T1")
    _, unknown = _ask(factory, tool, tool_id="T9")
    assert isinstance(unknown, Unauthenticated) and "unknown tool 'T9'" in str(unknown)
    assert factory.entries()[-1].subject.id == "unknown"

    tools.suspend_tool(factory, callers.administrator(), "T1", "its case was found open")
    _, suspended = _ask(factory, tool)
    assert isinstance(suspended, Unauthenticated) and "T1 is suspended" in str(suspended)
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject.id) == ("auth.refused", "T1")


def test_a_malformed_nonce_is_refused(factory: FakeUnitOfWorkFactory) -> None:
    tool = enrol_tool(factory, "T1")
    _, refused = _ask(factory, tool, nonce="NOT-HEX")
    assert isinstance(refused, Unauthenticated) and "32 lower-case hex" in str(refused)


def test_a_burst_of_unverifiable_requests_from_one_address_is_cut_off(
    factory: FakeUnitOfWorkFactory,
) -> None:
    tool = enrol_tool(factory, "T1")
    burst = factory.settings.agent_unverified_burst
    for _ in range(burst):
        _, refused = _ask(factory, tool, tool_id="T9", source="203.0.113.9")
        assert isinstance(refused, Unauthenticated)
    recorded = len(factory.entries())
    _, cut = _ask(factory, tool, tool_id="T9", source="203.0.113.9")
    assert isinstance(cut, TooManyAttempts)
    assert len(factory.entries()) == recorded
    # The genuine tool at that address is still heard: its signature is checked first.
    _, genuine = _ask(factory, tool, source="203.0.113.9")
    assert not isinstance(genuine, Exception)


def _verified(factory: FakeUnitOfWorkFactory) -> tuple[EnrolledTool, str, SignedToolRequest]:
    """Tool T1, and a POST it signed with a new nonce, verified (its nonce not claimed yet)."""
    tool = enrol_tool(factory, "T1")
    nonce = secrets.token_hex(16)
    sent = format_time(factory.clock.now())
    message = request_message("POST", TARGET, sent, nonce, BODY)
    signature = base64.b64encode(note.sign_message(message, tool.signer_key)).decode()
    request = verify_tool_request(factory, "T1", "POST", TARGET, sent, nonce, signature, BODY)
    assert request.caller == Caller.tool("T1") and not request.claimed
    return tool, nonce, request


def _replayed(factory: FakeUnitOfWorkFactory, tool: EnrolledTool, nonce: str) -> bool:
    """Whether a new request with ``nonce`` is refused as a replay."""
    _, answer = _ask(factory, tool, nonce=nonce)
    return isinstance(answer, Unauthenticated) and "replay" in str(answer)


def test_a_verified_request_claims_its_nonce_in_the_transaction_that_acts(
    factory: FakeUnitOfWorkFactory,
) -> None:
    tool, nonce, request = _verified(factory)
    commits = factory.commits
    with request.acting(factory) as acting, acting(write=True) as uow:
        uow.ledger.record([])  # the step itself
        uow.commit()
    assert factory.commits == commits + 1  # the claim and the step in one commit
    assert _replayed(factory, tool, nonce)


def test_a_refused_step_keeps_its_nonce_claimed(factory: FakeUnitOfWorkFactory) -> None:
    tool, nonce, request = _verified(factory)
    with (
        pytest.raises(TooManyAttempts),
        request.acting(factory) as acting,
        acting(write=True),
    ):
        raise TooManyAttempts("the step refuses", 1)
    assert _replayed(factory, tool, nonce)


def test_a_request_that_writes_nothing_claims_its_nonce_when_it_ends(
    factory: FakeUnitOfWorkFactory,
) -> None:
    tool, nonce, request = _verified(factory)
    with request.acting(factory) as acting, acting(write=False):
        pass
    assert request.claimed
    assert _replayed(factory, tool, nonce)
