"""Work orders and tool results: signed, bound to one tool and one device, refused otherwise."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import rfc8785

from triage.domain.work_order import (
    DEFAULT_VALIDITY,
    FACTORY_RESET,
    TOOL_RESULT_FORMAT,
    WORK_ORDER_FORMAT,
    ResetOutcome,
    ToolResult,
    WorkOrder,
    WorkOrderRefused,
)
from triage.ledger import note
from triage.ledger.errors import VerificationError

ISSUED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
NONCE = "0123456789abcdef0123456789abcdef"
DEVICE = "BC-33-AC-FF-FE-FA-55-3D"
DIGEST_A = "a" * 64
DIGEST_B = "0123456789abcdef" * 4


@pytest.fixture(scope="module")
def facility_key() -> tuple[str, str]:
    return note.generate_key("facility.example")


@pytest.fixture(scope="module")
def tool_key() -> tuple[str, str]:
    return note.generate_key("tool-7")


def _order(**changes: Any) -> WorkOrder:
    order = WorkOrder(
        id="wo-42",
        facility="facility.example",
        tool_id="tool-7",
        device_id=DEVICE,
        job_id="job-1",
        operator_id="alice",
        action=FACTORY_RESET,
        profile="esme-smets2",
        nonce=NONCE,
        issued_at=ISSUED,
        expires_at=ISSUED + DEFAULT_VALIDITY,
    )
    return dataclasses.replace(order, **changes)


def _result(**changes: Any) -> ToolResult:
    result = ToolResult(
        work_order_id="wo-42",
        nonce=NONCE,
        tool_id="tool-7",
        device_id=DEVICE,
        outcome=ResetOutcome.COMPLETED,
        before={"credit": DIGEST_A, "tariff": DIGEST_B},
        after={"credit": DIGEST_B, "tariff": DIGEST_B},
        detail="reset in 41 s",
        completed_at=ISSUED + timedelta(minutes=3),
    )
    return dataclasses.replace(result, **changes)


def _sign_json(obj: dict[str, Any], signer: str) -> str:
    return note.sign(rfc8785.dumps(obj).decode() + "\n", signer)


# --- work orders: signing and opening ---------------------------------------------------------


def test_work_order_sign_and_open_roundtrip(facility_key: tuple[str, str]) -> None:
    signer, verifier = facility_key
    order = _order()
    assert WorkOrder.open(order.sign(signer), verifier) == order


def test_signed_work_order_is_one_line_of_json_naming_tool_and_device(
    facility_key: tuple[str, str],
) -> None:
    signed = _order().sign(facility_key[0])
    text = signed.split("\n\n")[0]
    assert "\n" not in text
    obj = json.loads(text)
    assert obj["format"] == WORK_ORDER_FORMAT
    assert obj["tool"] == "tool-7"
    assert obj["device"] == DEVICE


def test_work_order_signed_by_another_key_is_refused(facility_key: tuple[str, str]) -> None:
    other_signer, _ = note.generate_key("facility.example")
    signed = _order().sign(other_signer)
    with pytest.raises(WorkOrderRefused, match="not signed by the facility"):
        WorkOrder.open(signed, facility_key[1])


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (DEVICE, "BC-33-AC-FF-FE-FA-55-3E"),
        ('"tool-7"', '"tool-8"'),
        ("2026-03-02T10:15", "2026-03-02T11:15"),
    ],
)
def test_tampered_work_order_text_is_refused(
    facility_key: tuple[str, str], old: str, new: str
) -> None:
    signed = _order().sign(facility_key[0])
    assert old in signed
    with pytest.raises(WorkOrderRefused, match="not signed by the facility"):
        WorkOrder.open(signed.replace(old, new, 1), facility_key[1])


def test_work_order_refusal_is_a_verification_error(facility_key: tuple[str, str]) -> None:
    # Callers that handle every failed check as VerificationError must also catch these.
    with pytest.raises(VerificationError):
        WorkOrder.open("not a note", facility_key[1])


@pytest.mark.parametrize("fmt", [None, TOOL_RESULT_FORMAT, "device-triage/work-order/v2", ""])
def test_work_order_in_the_wrong_format_is_refused(
    facility_key: tuple[str, str], fmt: str | None
) -> None:
    obj = _order().to_json()
    if fmt is None:
        del obj["format"]
    else:
        obj["format"] = fmt
    with pytest.raises(WorkOrderRefused, match=f"not in the format {WORK_ORDER_FORMAT}"):
        WorkOrder.open(_sign_json(obj, facility_key[0]), facility_key[1])


def test_signed_text_that_is_not_json_is_refused(facility_key: tuple[str, str]) -> None:
    signed = note.sign("factory_reset everything\n", facility_key[0])
    with pytest.raises(WorkOrderRefused, match="not valid JSON"):
        WorkOrder.open(signed, facility_key[1])


def test_signed_json_that_is_not_an_object_is_refused(facility_key: tuple[str, str]) -> None:
    signed = note.sign(json.dumps([WORK_ORDER_FORMAT]) + "\n", facility_key[0])
    with pytest.raises(WorkOrderRefused, match="not in the format"):
        WorkOrder.open(signed, facility_key[1])


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("device", None, "device is missing"),
        ("tool", "", "tool is missing"),
        ("job", 17, "job is missing or not a string"),
        ("operator", ["alice"], "operator is missing or not a string"),
        ("action", "wipe_and_reflash", "action 'wipe_and_reflash'"),
        ("nonce", "0123", "nonce"),
        ("nonce", NONCE.upper(), "nonce"),
        ("issued_at", "2026-03-02 10:00:00", "RFC 3339"),
        ("expires_at", "2026-03-02T09:00:00.000000Z", "expire after"),
    ],
)
def test_work_order_with_malformed_fields_is_refused(
    facility_key: tuple[str, str], field: str, value: object, problem: str
) -> None:
    obj = _order().to_json()
    if value is None:
        del obj[field]
    else:
        obj[field] = value
    with pytest.raises(WorkOrderRefused, match="work order is malformed") as caught:
        WorkOrder.open(_sign_json(obj, facility_key[0]), facility_key[1])
    assert problem in str(caught.value)


# --- work orders: checking at the bench -------------------------------------------------------


def test_valid_work_order_passes_check_for_its_tool_and_device() -> None:
    order = _order()
    order.check("tool-7", DEVICE, ISSUED)
    order.check("tool-7", DEVICE, ISSUED + DEFAULT_VALIDITY - timedelta(microseconds=1))


def test_check_refuses_another_tool() -> None:
    with pytest.raises(WorkOrderRefused) as caught:
        _order().check("tool-8", DEVICE, ISSUED)
    message = str(caught.value)
    assert "wo-42" in message
    assert "tool-7" in message
    assert "tool-8" in message


def test_check_refuses_another_device() -> None:
    other = "00-00-00-00-00-00-00-01"
    with pytest.raises(WorkOrderRefused) as caught:
        _order().check("tool-7", other, ISSUED)
    message = str(caught.value)
    assert "wo-42" in message
    assert DEVICE in message
    assert other in message


@pytest.mark.parametrize("late", [timedelta(0), timedelta(seconds=1), timedelta(days=30)])
def test_check_refuses_an_expired_order(late: timedelta) -> None:
    order = _order()
    with pytest.raises(WorkOrderRefused, match="work order wo-42 expired at 2026-03-02T10:15"):
        order.check("tool-7", DEVICE, order.expires_at + late)


def test_check_tolerates_a_tool_clock_a_few_minutes_behind() -> None:
    _order().check("tool-7", DEVICE, ISSUED - timedelta(minutes=5))


@pytest.mark.parametrize("early", [timedelta(minutes=5, seconds=1), timedelta(days=1)])
def test_check_refuses_an_order_issued_far_in_the_future(early: timedelta) -> None:
    order = _order(expires_at=ISSUED + timedelta(days=2))
    with pytest.raises(WorkOrderRefused, match="work order wo-42 is issued in the future"):
        order.check("tool-7", DEVICE, ISSUED - early)


# --- work order construction ------------------------------------------------------------------


@pytest.mark.parametrize("action", ["factory-reset", "FACTORY_RESET", "firmware_update", ""])
def test_work_order_only_authorises_a_factory_reset(action: str) -> None:
    with pytest.raises(ValueError, match="action"):
        _order(action=action)


@pytest.mark.parametrize(
    "nonce", ["", "0123", NONCE.upper(), NONCE + "0", NONCE[:-1] + "g", " " + NONCE[1:]]
)
def test_work_order_needs_a_nonce_of_32_lower_case_hex_digits(nonce: str) -> None:
    with pytest.raises(ValueError, match="nonce"):
        _order(nonce=nonce)


def test_work_order_refuses_a_nonce_with_a_trailing_newline() -> None:
    with pytest.raises(ValueError, match="nonce"):
        _order(nonce=NONCE + "\n")


@pytest.mark.parametrize("expires", [ISSUED, ISSUED - timedelta(seconds=1)])
def test_work_order_must_expire_after_it_is_issued(expires: datetime) -> None:
    with pytest.raises(ValueError, match="expire after"):
        _order(expires_at=expires)


# --- tool results -----------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", list(ResetOutcome))
def test_tool_result_sign_and_open_roundtrip(
    tool_key: tuple[str, str], outcome: ResetOutcome
) -> None:
    result = _result(outcome=outcome)
    assert ToolResult.open(result.sign(tool_key[0]), tool_key[1]) == result


def test_tool_result_signed_by_another_tool_is_refused(
    tool_key: tuple[str, str], facility_key: tuple[str, str]
) -> None:
    other_tool, _ = note.generate_key("tool-8")
    for signer in (other_tool, facility_key[0]):
        with pytest.raises(WorkOrderRefused, match="not signed by the tool's key"):
            ToolResult.open(_result().sign(signer), tool_key[1])


def test_tool_result_with_altered_outcome_is_refused(tool_key: tuple[str, str]) -> None:
    signed = _result(outcome=ResetOutcome.FAILED).sign(tool_key[0])
    with pytest.raises(WorkOrderRefused, match="not signed by the tool's key"):
        ToolResult.open(signed.replace('"failed"', '"completed"'), tool_key[1])


def test_work_order_is_not_accepted_as_a_tool_result(
    facility_key: tuple[str, str], tool_key: tuple[str, str]
) -> None:
    signed = _sign_json(_order().to_json(), tool_key[0])
    with pytest.raises(WorkOrderRefused, match=f"not in the format {TOOL_RESULT_FORMAT}"):
        ToolResult.open(signed, tool_key[1])


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("outcome", "partly", "partly"),
        ("before", ["credit"], "before must map item names to digests"),
        ("after", {"credit": 7}, "after must map item names to digests"),
        ("after", {"credit": "A" * 64}, "after.credit: digest must be 64"),
        ("completed_at", "yesterday", "RFC 3339"),
    ],
)
def test_tool_result_with_malformed_fields_is_refused(
    tool_key: tuple[str, str], field: str, value: object, problem: str
) -> None:
    obj = _result().to_json()
    obj[field] = value
    with pytest.raises(WorkOrderRefused, match="tool result is malformed") as caught:
        ToolResult.open(_sign_json(obj, tool_key[0]), tool_key[1])
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    "digest", ["", "a" * 63, "a" * 65, "A" * 64, "g" * 64, "a" * 62 + "  ", "sha256:" + "a" * 57]
)
@pytest.mark.parametrize("side", ["before", "after"])
def test_tool_result_digests_must_be_64_lower_case_hex(side: str, digest: str) -> None:
    with pytest.raises(ValueError, match=f"{side}.credit: digest must be 64"):
        _result(**{side: {"credit": digest}})


def test_tool_result_refuses_a_digest_with_a_trailing_newline() -> None:
    with pytest.raises(ValueError, match="digest must be 64"):
        _result(before={"credit": DIGEST_A + "\n"})
