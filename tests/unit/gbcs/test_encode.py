"""The encoder: every reference response back to its exact bytes, security logs of each kind
built from entries read back unchanged, and responses it cannot write refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given

from tests.unit.fuzz.strategies import FUZZ
from tests.unit.gbcs.reference import FILES, ids
from tests.unit.gbcs.strategies import responses
from triage.gbcs import (
    USE_CASES,
    GbcsError,
    LogEntry,
    LogResponse,
    ResponseOutcome,
    decode,
    encode,
    response_to_json,
)

DEVICE = "BC-33-AC-FF-FE-FA-55-3D"
SUPPLIER = "90-B3-D5-1F-30-01-00-00"
MAC = bytes(range(12))
BATTERY = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
TAMPER = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("path", FILES, ids=ids(FILES))
def test_every_reference_response_is_encoded_back_to_its_bytes(path: Path) -> None:
    data = bytes.fromhex(path.read_text(encoding="ascii"))
    assert encode(decode(data)) == data


def _security_log(use_case: str, *entries: LogEntry) -> LogResponse:
    return LogResponse(
        use_case=USE_CASES[use_case],
        originator=DEVICE,
        recipient=SUPPLIER,
        originator_counter=1000,
        outcome=ResponseOutcome.SUCCESS,
        status=None,
        entries=entries,
        mac=MAC,
    )


@pytest.mark.parametrize(
    ("use_case", "extra"), [("ECS35b", ()), ("ECS35d", ()), ("CS10b", (4, ""))]
)
def test_a_security_log_of_each_kind_round_trips(
    use_case: str, extra: tuple[int | str, ...]
) -> None:
    response = _security_log(
        use_case, LogEntry(0x8F1F, BATTERY, extra), LogEntry(0x8F3F, TAMPER, extra)
    )
    data = encode(response)
    assert data[0] == 0xDD and data.endswith(b"\x00" + MAC)
    assert decode(data) == response
    assert decode(data.hex()) == response
    shown = response_to_json(decode(data))
    assert shown["use_case"] == use_case and shown["device_id"] == DEVICE
    assert shown["entries"] == [
        {"code": "0x8F1F", "name": "low battery capacity", "at": "2026-12-01T10:00:00Z",
         "extra": list(extra)},
        {"code": "0x8F3F", "name": "tamper detect", "at": "2026-12-06T10:00:00Z",
         "extra": list(extra)},
    ]  # fmt: skip


def test_an_empty_security_log_round_trips() -> None:
    for use_case in ("ECS35b", "ECS35d", "CS10b"):
        assert decode(encode(_security_log(use_case))).entries == ()


@FUZZ
@given(responses())
def test_every_response_the_encoder_accepts_reads_back_unchanged(response: LogResponse) -> None:
    assert decode(encode(response)) == response


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"mac": b"short"}, "expected a MAC of 12 bytes"),
        ({"originator": "bc-33-ac-ff-fe-fa-55-3d"}, "expected the originator as an EUI-64"),
        ({"originator_counter": -1}, "expected the originator counter as a number"),
        ({"status": "DLMS data access result 1 (hardware fault)"}, "expected no status"),
        ({"outcome": ResponseOutcome.NOT_FOUND}, "expected no entries with the outcome"),
        ({"entries": [LogEntry(0x8F3F, TAMPER)]}, "expected the entries as a tuple"),
        ({"entries": (LogEntry(0x10000, TAMPER),)}, "expected entry 1: code as a number"),
        ({"entries": (LogEntry(0x8F3F, TAMPER.replace(tzinfo=None)),)}, "a UTC time"),
        ({"entries": (LogEntry(0x8F3F, TAMPER.replace(microsecond=1)),)}, "whole seconds"),
        ({"entries": (LogEntry(0x8F3F, datetime(1999, 12, 31, tzinfo=UTC)),)}, "from 2000"),
        ({"entries": (LogEntry(0x8F3F, TAMPER, ("00",)),)}, "expected entry 1: extra fields {}"),
        ({"requester": SUPPLIER}, "expected both the requester and its counter, or neither"),
        ({"use_case": replace(USE_CASES["ECS35b"], message_code=1)}, "one of the 6.13 use cases"),
    ],
)
def test_what_a_message_cannot_carry_is_refused(change: dict[str, object], expected: str) -> None:
    response = replace(_security_log("ECS35b", LogEntry(0x8F3F, TAMPER)), **change)  # type: ignore[arg-type]
    with pytest.raises(GbcsError) as caught:
        encode(response)
    assert expected in str(caught.value)
    assert caught.value.offset is None


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (LogEntry(0x8F3F, TAMPER, (3, "")), "log id 4 (Security Event Log)"),
        (LogEntry(0x8F3F, TAMPER, (4, "ab")), "event data as upper-case hex"),
        (LogEntry(0x8F3F, TAMPER, (4, "00" * 255)), "at most 254 bytes of event data"),
    ],
)
def test_a_zigbee_event_the_message_cannot_carry_is_refused(entry: LogEntry, expected: str) -> None:
    with pytest.raises(GbcsError) as caught:
        encode(_security_log("CS10b", entry))
    assert expected in str(caught.value)


def test_an_error_status_the_encoding_has_no_code_for_is_refused() -> None:
    error = replace(
        _security_log("ECS35b"),
        outcome=ResponseOutcome.ERROR,
        status="ZCL status 0xC0 Hardware Failure",
    )
    with pytest.raises(GbcsError, match="a DLMS error"):
        encode(error)
    not_found = replace(
        _security_log("CS10b"), outcome=ResponseOutcome.ERROR, status="ZCL status 0x8B Not Found"
    )
    with pytest.raises(GbcsError, match="a ZCL error"):
        encode(not_found)
