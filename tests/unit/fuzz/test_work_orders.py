"""Hostile input to the parsers of work orders, tool results and signed agent requests: whatever
the text or bytes, each parser either returns a valid value or raises its own documented error,
never another exception; and what a formatter writes, its parser reads back unchanged
(strategies and keys: ``strategies.py``)."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from tests.unit.fuzz.strategies import (
    AT,
    DEVICE,
    FACILITY_SIGNER,
    FACILITY_VERIFIER,
    FUZZ,
    NONCE,
    OTHER_SIGNER,
    TOOL_SIGNER,
    TOOL_VERIFIER,
    mutated,
    nasty_text,
    objects_like,
    signed_json,
)
from triage.domain import agent_request
from triage.domain.work_order import (
    FACTORY_RESET,
    TOOL_RESULT_FORMAT,
    WORK_ORDER_FORMAT,
    ResetOutcome,
    ToolResult,
    WorkOrder,
    WorkOrderRefused,
)
from triage.ledger import note
from triage.ledger.entry import format_time, parse_time
from triage.ledger.errors import VerificationError

# -- work orders and tool results ------------------------------------------------------------

ORDER = WorkOrder(
    id="wo-1",
    facility="TF-1",
    tool_id="BENCH-1",
    device_id=DEVICE,
    job_id="job-1",
    operator_id="ben",
    action=FACTORY_RESET,
    profile="esme-v1",
    nonce=NONCE,
    issued_at=AT,
    expires_at=AT + timedelta(minutes=15),
)
RESULT = ToolResult(
    work_order_id="wo-1",
    nonce=NONCE,
    tool_id="BENCH-1",
    device_id=DEVICE,
    outcome=ResetOutcome.COMPLETED,
    before={"tariffs": "a" * 64},
    after={"tariffs": "b" * 64},
    detail="done",
    completed_at=AT + timedelta(minutes=2),
)
SIGNED_ORDER = ORDER.sign(FACILITY_SIGNER)
SIGNED_RESULT = RESULT.sign(TOOL_SIGNER)


@FUZZ
@given(mutated(SIGNED_ORDER) | nasty_text)
def test_a_changed_work_order_is_refused_or_is_the_original(changed: str) -> None:
    try:
        found = WorkOrder.open(changed, FACILITY_VERIFIER)
    except WorkOrderRefused:
        return
    assert found == ORDER


@FUZZ
@given(mutated(SIGNED_RESULT) | nasty_text)
def test_a_changed_tool_result_is_refused_or_is_the_original(changed: str) -> None:
    try:
        found = ToolResult.open(changed, TOOL_VERIFIER)
    except WorkOrderRefused:
        return
    assert found == RESULT


@FUZZ
@given(objects_like(ORDER.to_json()))
def test_any_content_signed_by_the_facility_is_a_valid_work_order_or_refused(obj: Any) -> None:
    signed = signed_json(obj, FACILITY_SIGNER)
    assume(signed)
    try:
        found = WorkOrder.open(signed, FACILITY_VERIFIER)
    except WorkOrderRefused:
        return
    assert found.to_json()["format"] == WORK_ORDER_FORMAT
    assert WorkOrder.open(found.sign(FACILITY_SIGNER), FACILITY_VERIFIER) == found


@FUZZ
@given(objects_like(RESULT.to_json()))
def test_any_content_signed_by_the_tool_is_a_valid_result_or_refused(obj: Any) -> None:
    signed = signed_json(obj, TOOL_SIGNER)
    assume(signed)
    try:
        found = ToolResult.open(signed, TOOL_VERIFIER)
    except WorkOrderRefused:
        return
    assert found.to_json()["format"] == TOOL_RESULT_FORMAT
    assert ToolResult.open(found.sign(TOOL_SIGNER), TOOL_VERIFIER) == found


def test_a_work_order_signed_by_another_key_of_the_same_name_is_refused() -> None:
    with pytest.raises(WorkOrderRefused, match="not signed by the facility"):
        WorkOrder.open(ORDER.sign(OTHER_SIGNER), FACILITY_VERIFIER)


# -- signed agent requests -------------------------------------------------------------------


@FUZZ
@given(nasty_text | st.datetimes(timezones=st.just(UTC)).map(format_time).flatmap(mutated))
@example("0001-01-01T00:00:00.000000Z")  # format_time once wrote year 1 as "1-01-01T..."
def test_a_request_time_is_read_or_refused_with_a_value_error(text: str) -> None:
    try:
        found = parse_time(text)
    except ValueError:
        return
    assert found.utcoffset() == timedelta(0)
    assert parse_time(format_time(found)) == found


def _request(method: str, target: str, body: bytes) -> tuple[str, str, bytes]:
    sent = format_time(AT)
    message = agent_request.request_message(method, target, sent, NONCE, body)
    return sent, target, note.sign_message(message, TOOL_SIGNER)


@FUZZ
@given(
    st.sampled_from(["GET", "POST", "get", "PUT"]),
    nasty_text,
    st.binary(max_size=100),
    st.binary(max_size=80) | st.sampled_from([b"", b"\x00" * 64]),
)
def test_any_signature_on_an_agent_request_verifies_or_is_refused(
    method: str, target: str, body: bytes, signature: bytes
) -> None:
    message = agent_request.request_message(method, target, format_time(AT), NONCE, body)
    try:
        note.verify_message(message, signature, TOOL_VERIFIER)
    except VerificationError:
        return
    raise AssertionError("a signature the tool never made verified")


@FUZZ
@given(
    st.sampled_from(["method", "target", "time", "nonce", "body", "signature"]),
    st.binary(min_size=1, max_size=20),
)
def test_an_agent_request_changed_anywhere_is_refused(part: str, junk: bytes) -> None:
    method, target, body = "POST", "/api/v1/agent/results", b'{"result": "x"}'
    sent, _, signature = _request(method, target, body)
    nonce = NONCE
    text = junk.hex()
    if part == "method":
        method = "PUT"
    elif part == "target":
        target += "?" + text
    elif part == "time":
        sent = format_time(AT + timedelta(microseconds=1 + junk[0]))
    elif part == "nonce":
        nonce = (text * 32)[:32]
        assume(nonce != NONCE)
    elif part == "body":
        body += junk
    else:
        signature = bytes(a ^ b for a, b in zip(signature, junk.ljust(64, b"\x00"), strict=False))
        assume(any(junk))
    message = agent_request.request_message(method, target, sent, nonce, body)
    with pytest.raises(VerificationError):
        note.verify_message(message, signature, TOOL_VERIFIER)
