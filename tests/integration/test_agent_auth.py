"""Signed agent requests: who may call, and what a replay, a forgery or a stale one gets."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.conftest import Staffed
from triage.domain.agent_request import request_message
from triage.errors import Unauthenticated
from triage.ledger import note
from triage.ledger.entry import format_time
from triage.services import tools
from triage.services.agent_auth import authenticate_tool


def _signed(key: str, method: str, body: bytes, at: datetime | None = None) -> tuple[str, str, str]:
    sent = format_time(at or datetime.now(UTC))
    nonce = secrets.token_hex(16)
    signature = note.sign_message(
        request_message(method, "/api/v1/agent/results", sent, nonce, body), key
    )
    return sent, nonce, base64.b64encode(signature).decode()


def _call(
    staffed: Staffed, method: str, signed: tuple[str, str, str], body: bytes, tool: str = "BENCH-1"
) -> str:
    return authenticate_tool(
        staffed.app.uow, tool, method, "/api/v1/agent/results", *signed, body
    ).id


def _refusals(staffed: Staffed) -> list[bytes]:
    with staffed.app.uow(write=False) as uow:
        log = uow.ledger.log
        # Requests naming a tool nobody enrolled are recorded under "unknown".
        indexes = uow.ledger.indexes_for("tool", "BENCH-1") + uow.ledger.indexes_for(
            "tool", "unknown"
        )
        return [log.entry(i) for i in indexes if b"auth.refused" in log.entry(i)]


def test_signed_requests_are_accepted_once_and_refusals_are_recorded(staffed: Staffed) -> None:
    body = b'{"result": "x"}'
    signed = _signed(staffed.tool_key, "POST", body)
    assert _call(staffed, "POST", signed, body) == "BENCH-1"
    with pytest.raises(Unauthenticated, match="replay"):
        _call(staffed, "POST", signed, body)
    with pytest.raises(Unauthenticated, match="signature"):
        _call(staffed, "POST", _signed(staffed.tool_key, "POST", body), b'{"result": "y"}')
    other_key, _ = note.generate_key("tool.BENCH-1")
    with pytest.raises(Unauthenticated, match="signature"):
        _call(staffed, "POST", _signed(other_key, "POST", body), body)
    stale = _signed(staffed.tool_key, "POST", body, datetime.now(UTC) - timedelta(minutes=10))
    with pytest.raises(Unauthenticated, match="more than"):
        _call(staffed, "POST", stale, body)
    with pytest.raises(Unauthenticated, match="unknown tool"):
        _call(staffed, "POST", _signed(staffed.tool_key, "POST", body), body, tool="BENCH-9")
    # The replay and the stale request, which the tool's key signed, each count against the
    # tool (auth.refused); so does nothing else. The two forgeries prove nothing about the
    # tool: they are recorded once a minute, under another type the thresholds do not count.
    assert len(_refusals(staffed)) == 3
    with staffed.app.uow(write=False) as uow:
        about_tool = [uow.ledger.log.entry(i) for i in uow.ledger.indexes_for("tool", "BENCH-1")]
    assert sum(b'"auth.signature_refused"' in raw for raw in about_tool) == 1


def test_reads_need_a_fresh_signature_but_store_no_nonce(staffed: Staffed) -> None:
    signed = _signed(staffed.tool_key, "GET", b"")
    assert _call(staffed, "GET", signed, b"") == "BENCH-1"
    # A read changes nothing, so repeating it within the time window is harmless; a stale or
    # forged one is still refused.
    assert _call(staffed, "GET", signed, b"") == "BENCH-1"
    stale = _signed(staffed.tool_key, "GET", b"", datetime.now(UTC) - timedelta(minutes=10))
    with pytest.raises(Unauthenticated):
        _call(staffed, "GET", stale, b"")


def test_a_flood_naming_unknown_or_suspended_tools_adds_an_entry_a_minute(
    staffed: Staffed,
) -> None:
    body = b'{"result": "x"}'
    size = staffed.ledger_size()
    for n in range(30):
        with pytest.raises(Unauthenticated, match="unknown tool"):
            _call(staffed, "POST", _signed(staffed.tool_key, "POST", body), body, f"X-{n}")
    assert staffed.ledger_size() == size + 1
    tools.suspend_tool(staffed.app.uow, staffed.admin, "BENCH-1", "bench under repair")
    size = staffed.ledger_size()
    for _ in range(30):
        with pytest.raises(Unauthenticated, match="is suspended"):
            _call(staffed, "POST", _signed(staffed.tool_key, "POST", body), body)
    assert staffed.ledger_size() == size + 1
