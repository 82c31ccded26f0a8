"""Hostile signed agent requests: whatever the headers and body, the server either recognises
the tool (only for a request the tool's key really signed) or refuses it as Unauthenticated,
never with another error; and every refusal it records leaves the ledger verifiable."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.conftest import Staffed
from triage.domain import agent_request
from triage.errors import Unauthenticated
from triage.ledger import note
from triage.ledger.entry import format_time
from triage.ledger.errors import VerificationError
from triage.services import ledger as ledger_service
from triage.services.agent_auth import authenticate_tool

TARGET = "/api/v1/agent/results"
header_text = st.one_of(
    st.text(max_size=80),
    st.text(alphabet="0123456789abcdef", min_size=30, max_size=34),
    st.sampled_from(["", "BENCH-1", "\x00", "—", "2026-03-02T10:00:00Z", "=" * 90]),
)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _signed(key: str, method: str, target: str, body: bytes) -> dict[str, str]:
    sent = format_time(datetime.now(UTC))
    nonce = secrets.token_hex(16)
    message = agent_request.request_message(method, target, sent, nonce, body)
    return {
        "sent_time": sent,
        "nonce": nonce,
        "signature": base64.b64encode(note.sign_message(message, key)).decode(),
    }


def _signature_holds(staffed: Staffed, headers: dict[str, str], method: str, body: bytes) -> bool:
    message = agent_request.request_message(
        method, TARGET, headers["sent_time"], headers["nonce"], body
    )
    try:
        raw = base64.b64decode(headers["signature"], validate=True)
        note.verify_message(message, raw, note.verifier_key_from_signer(staffed.tool_key))
    except (ValueError, VerificationError):
        return False
    return True


# SQLite only: the refusal path is the same code on PostgreSQL, and hypothesis's many examples
# would each cost a round trip to a server.
@pytest.mark.parametrize("backend", ["sqlite"])
@FUZZ
@given(
    tool_id=header_text,
    method=st.sampled_from(["GET", "POST", "PUT", "get", ""]),
    sent_time=header_text,
    nonce=header_text,
    signature=header_text,
    body=st.binary(max_size=200),
)
def test_any_agent_request_is_recognised_or_refused_as_unauthenticated(
    staffed: Staffed,
    tool_id: str,
    method: str,
    sent_time: str,
    nonce: str,
    signature: str,
    body: bytes,
) -> None:
    headers = {"sent_time": sent_time, "nonce": nonce, "signature": signature}
    try:
        caller = authenticate_tool(
            staffed.app.uow, tool_id, method, TARGET, sent_time, nonce, signature, body
        )
    except Unauthenticated:
        return
    assert caller.id == tool_id == "BENCH-1"
    assert _signature_holds(staffed, headers, method, body)


@pytest.mark.parametrize("backend", ["sqlite"])
@FUZZ
@given(
    part=st.sampled_from(["tool", "method", "target", "time", "nonce", "signature", "body"]),
    junk=st.text(min_size=1, max_size=12),
)
def test_a_signed_request_changed_anywhere_is_refused(
    staffed: Staffed, part: str, junk: str
) -> None:
    body = b'{"result": "x"}'
    tool_id, method, target = "BENCH-1", "POST", TARGET
    signed = _signed(staffed.tool_key, method, target, body)
    sent_time, nonce, signature = signed["sent_time"], signed["nonce"], signed["signature"]
    if part == "tool":
        tool_id += junk
    elif part == "method":
        method = "PUT"
    elif part == "target":
        target += "?" + junk
    elif part == "time":
        sent_time = format_time(datetime(2026, 1, 1, tzinfo=UTC)) + junk
    elif part == "nonce":
        nonce = secrets.token_hex(16)
    elif part == "signature":
        raw = bytearray(base64.b64decode(signature))
        raw[len(junk) % 64] ^= 1 + ord(junk[0]) % 255
        signature = base64.b64encode(bytes(raw)).decode()
    else:
        body += junk.encode()
    with pytest.raises(Unauthenticated):
        authenticate_tool(
            staffed.app.uow, tool_id, method, target, sent_time, nonce, signature, body
        )


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_refusals_recorded_leave_the_ledger_verifiable(staffed: Staffed) -> None:
    for tool_id in ("BENCH-1", "BENCH-9", "\x00", "—" * 100):
        with pytest.raises(Unauthenticated):
            authenticate_tool(staffed.app.uow, tool_id, "POST", TARGET, "x", "y", "z", b"")
    app = staffed.app
    report = ledger_service.verify(
        app.uow, ledger_service.LEDGER_ACTOR, app.verifier_key(), app.origin
    )
    assert report.ok, report.first_problem()
