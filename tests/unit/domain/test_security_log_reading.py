"""A tool's signed reading of a device's security log: bound to the read order, the tool's key
and the bytes' SHA-256; refused otherwise."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from datetime import UTC, datetime

import pytest

from triage.domain.security_log_reading import (
    MAX_GBCS_BYTES,
    SECURITY_LOG_READING_FORMAT,
    SecurityLogReading,
)
from triage.domain.work_order import (
    READ_SECURITY_LOG,
    SECURITY_LOG_PROFILE,
    WorkOrder,
    WorkOrderRefused,
)
from triage.errors import InvalidInput
from triage.ledger import canonical, note

READ_AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
GBCS = bytes.fromhex("DD000000000000") + b"\x01\x02\x03"
SIGNER, VERIFIER = note.generate_key("tool-7")
OTHER_SIGNER, _ = note.generate_key("tool-8")


def _reading(**changes: object) -> SecurityLogReading:
    reading = SecurityLogReading(
        work_order_id="order-1",
        nonce="0123456789abcdef0123456789abcdef",
        tool_id="tool-7",
        device_id="BC-33-AC-FF-FE-FA-55-3D",
        read_at=READ_AT,
        gbcs=GBCS,
    )
    return dataclasses.replace(reading, **changes)  # type: ignore[arg-type]


def test_a_reading_round_trips_with_its_bytes_and_their_digest() -> None:
    reading = _reading()
    signed = reading.sign(SIGNER)

    assert SecurityLogReading.open(signed, VERIFIER) == reading
    body = json.loads(signed.splitlines()[0])
    assert body["format"] == SECURITY_LOG_READING_FORMAT
    assert base64.b64decode(body["gbcs"]) == GBCS
    assert body["sha256"] == hashlib.sha256(GBCS).hexdigest() == reading.sha256
    assert body["read_at"] == "2026-12-01T09:30:00.000000Z"


def test_a_reading_signed_by_another_key_is_refused() -> None:
    with pytest.raises(WorkOrderRefused, match="not signed by the tool's key"):
        SecurityLogReading.open(_reading().sign(OTHER_SIGNER), VERIFIER)


def _signed(obj: dict[str, object]) -> str:
    return note.sign(canonical.dumps(obj).decode() + "\n", SIGNER)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"sha256": hashlib.sha256(b"other").hexdigest()}, "but its bytes have"),
        ({"gbcs": base64.b64encode(b"other").decode()}, "but its bytes have"),
        ({"gbcs": "not base64!"}, "malformed"),
        ({"format": "device-triage/tool-result/v1"}, "not in the format"),
        ({"read_at": "yesterday"}, "malformed"),
        ({"nonce": ""}, "malformed"),
    ],
)
def test_a_reading_whose_bytes_digest_or_fields_do_not_match_is_refused(
    change: dict[str, object], problem: str
) -> None:
    obj = {**_reading().to_json(), **change}
    with pytest.raises(WorkOrderRefused, match=problem):
        SecurityLogReading.open(_signed(obj), VERIFIER)


def test_a_reading_holds_the_devices_answer_and_no_more_than_a_log_can_be() -> None:
    with pytest.raises(InvalidInput, match="empty"):
        _reading(gbcs=b"")
    with pytest.raises(InvalidInput, match=f"at most {MAX_GBCS_BYTES}"):
        _reading(gbcs=bytes(MAX_GBCS_BYTES + 1))


def test_a_read_order_is_a_work_order_for_reading_the_log() -> None:
    order = WorkOrder(
        id="order-1",
        facility="facility-1",
        tool_id="tool-7",
        device_id="BC-33-AC-FF-FE-FA-55-3D",
        job_id="job-1",
        operator_id="op",
        action=READ_SECURITY_LOG,
        profile=SECURITY_LOG_PROFILE,
        nonce="0123456789abcdef0123456789abcdef",
        issued_at=READ_AT,
        expires_at=READ_AT.replace(hour=10),
    )
    facility_signer, facility_verifier = note.generate_key("facility.example")
    opened = WorkOrder.open(order.sign(facility_signer), facility_verifier)
    assert (opened.action, opened.profile) == ("read_security_log", "gbcs-6.13")
