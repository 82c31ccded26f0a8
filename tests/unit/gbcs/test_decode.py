"""Decoding the DCC's reference 6.13 responses, and refusing what is not one, with the byte and
what was expected there."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.unit.gbcs.reference import (
    FILES,
    REFERENCE,
    SECURITY_LOG_FAILURES,
    SUCCESS,
    expected,
    expected_entries,
    ids,
)
from triage.gbcs import (
    USE_CASES,
    GbcsError,
    LogKind,
    ResponseOutcome,
    code_name,
    decode,
    message_bytes,
    parse_hex,
    use_case_for,
)

ECS35B_ERROR = REFERENCE / "ECS35b_6.13_ERROR_RESPONSE_GBCS.HEX"
CS10A_SUCCESS = REFERENCE / "CS10a_6.13_SUCCESS_RESPONSE_GBCS.HEX"
ECS35A_SUCCESS = REFERENCE / "ECS35a_6.13_SUCCESS_RESPONSE_GBCS.HEX"


def raw(path: Path) -> bytes:
    return bytes.fromhex(path.read_text(encoding="ascii"))


def refused(data: bytes | str) -> GbcsError:
    with pytest.raises(GbcsError) as caught:
        decode(data)
    return caught.value


def test_the_reference_set_is_there() -> None:
    assert len(FILES) == 17, f"the RTDS 6.13 responses are expected in {REFERENCE}"
    assert len(SUCCESS) == 6 and len(SECURITY_LOG_FAILURES) == 4


@pytest.mark.parametrize("path", SUCCESS, ids=ids(SUCCESS))
def test_every_success_response_decodes_to_its_expected_entries_and_header(path: Path) -> None:
    want = expected(path)
    response = decode(path.read_text(encoding="ascii"))
    assert response.use_case.name == want["use_case"]
    assert response.use_case.message_code == int(want["message_code"], 16)
    assert response.use_case.title == want["message_name"]
    assert response.use_case.log.value == want["log"]
    assert response.use_case.device_class == want["device_class"]
    assert response.originator == response.device_id == want["originator"]
    assert response.recipient == want["recipient"]
    assert response.originator_counter == want["originator_counter"]
    assert response.outcome is ResponseOutcome.SUCCESS and want["outcome"] == "Success"
    assert response.status is None
    assert response.entries == expected_entries(path)
    assert len(response.entries) == want["count"]
    assert [e.hex for e in response.entries] == [e["code"] for e in want["entries"]]
    assert response.mac == raw(path)[-12:]


def test_times_count_from_2000_not_1970() -> None:
    first = decode(CS10A_SUCCESS.read_text()).entries[0]
    assert first.at == datetime(2014, 12, 31, tzinfo=UTC)
    assert first.hex == "0x8F1F" and first.extra == (3, "")


@pytest.mark.parametrize(
    ("name", "outcome", "status"),
    [
        ("CS10b_6.13_ERROR", ResponseOutcome.ERROR, "ZCL status 0xC0 Hardware Failure"),
        ("CS10b_6.13_NOT_FOUND", ResponseOutcome.NOT_FOUND, "ZCL status 0x8B Not Found"),
        ("CS10a_6.13_NOT_FOUND", ResponseOutcome.NOT_FOUND, "ZCL status 0x8B Not Found"),
        ("ECS35b_6.13_ERROR", ResponseOutcome.ERROR, "DLMS data access result 1 (hardware fault)"),
        ("ECS35d_6.13_ERROR", ResponseOutcome.ERROR, "DLMS data access result 1 (hardware fault)"),
        ("ECS35a_6.13_ERROR", ResponseOutcome.ERROR, "DLMS data access result 1 (hardware fault)"),
    ],
)
def test_error_and_not_found_responses_say_what_the_device_answered(
    name: str, outcome: ResponseOutcome, status: str
) -> None:
    response = decode((REFERENCE / f"{name}_RESPONSE_GBCS.HEX").read_text())
    assert (response.outcome, response.status, response.entries) == (outcome, status, ())
    assert response.use_case.name == name.split("_")[0]


def test_the_security_log_failures_are_security_logs() -> None:
    for path in SECURITY_LOG_FAILURES:
        response = decode(raw(path))
        assert response.is_security_log and response.use_case.log is LogKind.SECURITY
        assert response.outcome is not ResponseOutcome.SUCCESS


def test_a_chf_response_through_the_access_control_broker_names_the_requester() -> None:
    response = decode((REFERENCE / "ECS35d_6.13_ERROR_RESPONSE_GBCS.HEX").read_text())
    assert response.recipient == "90-B3-D5-1F-30-00-00-02"
    assert (response.requester, response.requester_counter) == ("90-B3-D5-1F-30-01-00-00", 1003)
    assert decode(ECS35B_ERROR.read_text()).requester is None


def test_hex_text_may_hold_whitespace_and_lower_case() -> None:
    text = ECS35B_ERROR.read_text()
    spaced = " \n".join(text[i : i + 8].lower() for i in range(0, len(text), 8)) + "\n"
    assert decode(spaced) == decode(text) == decode(raw(ECS35B_ERROR))
    assert message_bytes(spaced.encode()) == message_bytes(text) == raw(ECS35B_ERROR)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("DD00ZZ", "byte 2: expected a hex digit, found 'Z' (character 4 of the text)"),
        ("DD0", "byte 1: expected two hex digits per byte, found one digit at the end"),
        ("  ", "byte 0: expected a GBCS message in hex, found no hex digits"),
    ],
)
def test_bad_hex_text_is_refused_with_where(text: str, message: str) -> None:
    with pytest.raises(GbcsError) as caught:
        parse_hex(text)
    assert str(caught.value) == message


def _with(data: bytes, offset: int, value: int) -> bytes:
    return data[:offset] + bytes([value]) + data[offset + 1 :]


def test_another_message_code_is_not_a_6_13_response() -> None:
    data = raw(ECS35B_ERROR)
    at = data.index(b"\x02\x00\x49") + 1  # other information: length 2, the message code
    error = refused(data[:at] + b"\x00\x11" + data[at + 2 :])
    assert str(error) == (
        f"byte {at}: message code 0x0011 is not a 6.13 Read Event or Security Log response"
    )
    assert error.offset == at


def test_a_truncated_message_names_the_length_that_disagrees() -> None:
    data = raw(ECS35A_SUCCESS)
    assert str(refused(data[:-1])) == (
        "byte 7: expected a ciphered service length of 311 (what follows), found 312"
    )


def test_trailing_bytes_are_refused() -> None:
    assert str(refused(raw(ECS35A_SUCCESS) + b"\x00")).startswith(
        "byte 7: expected a ciphered service length of 313"
    )


@pytest.mark.parametrize(
    ("offset", "value", "message"),
    [
        (0, 0xDE, "byte 0: expected the General Ciphering tag 0xDD, found 0xDE"),
        (10, 0x31, "byte 10: expected security control 0x11 (MAC only), found 0x31 "),
        (15, 0x00, "byte 15: expected the General Signing tag 0xDF, found 0x00"),
        (17, 0x01, "byte 17: expected the CRA flag 0x02 (response), found 0x01 (command)"),
        (26, 0x07, "byte 26: expected the originator system title length 0x08, found 0x07"),
    ],
)
def test_a_wrong_envelope_byte_is_named(offset: int, value: int, message: str) -> None:
    assert str(refused(_with(raw(ECS35A_SUCCESS), offset, value))).startswith(message)


def test_a_content_length_that_disagrees_is_refused() -> None:
    data = raw(ECS35A_SUCCESS)
    at = data.index(b"\x82\x01\x02\xda")
    error = refused(data[: at + 2] + b"\x01" + data[at + 3 :])
    assert str(error) == (
        f"byte {at}: expected a content length of 258 (up to the signature length and MAC), "
        "found 257"
    )


def test_a_compact_array_cut_inside_an_entry_is_refused() -> None:
    # ECS35e entries are 10 bytes: shorten the array by 2 and take 2 bytes off the contents too.
    data = bytearray(raw(REFERENCE / "ECS35e_6.13_SUCCESS_RESPONSE_GBCS.HEX"))
    array = data.index(b"\x82\x01\x4a")
    data[array : array + 3] = b"\x82\x01\x48"
    data[-14:-13] = b""  # the last contents byte
    data[-14:-13] = b""
    content = data.index(b"\x82\x01\x5e\xda")
    data[content : content + 3] = b"\x82\x01\x5c"
    data[7:10] = (int.from_bytes(data[8:10], "big") - 2).to_bytes(2, "big").rjust(3, b"\x82")
    error = refused(bytes(data))
    assert "expected the double-long-unsigned of entry 33 (4 bytes)" in str(error)


def test_the_entry_type_of_another_log_is_refused() -> None:
    # An ECS35a (event log) array under the ECS35b (security log) message code.
    data = raw(ECS35A_SUCCESS)
    at = data.index(b"\x02\x00\x48") + 1
    error = refused(data[:at] + b"\x00\x49" + data[at + 2 :])
    assert "expected the ECS35b entry type {double-long-unsigned, long-unsigned}" in str(error)
    assert "found {double-long-unsigned, long-unsigned, octet-string}" in str(error)


def test_a_zigbee_event_log_under_the_security_log_code_is_refused() -> None:
    data = raw(CS10A_SUCCESS)
    at = data.index(b"\x02\x00\x14") + 1
    error = refused(data[:at] + b"\x00\xa1" + data[at + 2 :])
    assert "expected log id 4 (Security Event Log) for CS10b, found 3" in str(error)


def test_a_zigbee_event_count_that_disagrees_is_refused() -> None:
    data = raw(CS10A_SUCCESS)
    at = data.index(b"\x19\x00\x01\x20\x00") + 3
    error = refused(_with(data, at, 0x21))
    assert str(error) == f"byte {at}: expected the number of events that follow, 32, found 33"


def test_an_empty_message_is_refused() -> None:
    assert str(refused(b"")) == "byte 0: expected a GBCS message in hex, found no hex digits"
    assert str(refused(b"\xdd")) == (
        "byte 1: expected the empty General Ciphering fields (6 bytes), "
        "found the end of the message"
    )


def test_every_6_13_use_case_is_known() -> None:
    assert sorted(USE_CASES) == [
        "CS10a", "CS10b", "ECS35a", "ECS35b", "ECS35c", "ECS35d", "ECS35e", "ECS35f", "ECS35g"
    ]  # fmt: skip
    security = {n for n, case in USE_CASES.items() if case.log is LogKind.SECURITY}
    assert security == {"CS10b", "ECS35b", "ECS35d"}


@pytest.mark.parametrize(
    ("device_type", "use_case"),
    [("ESME", "ECS35b"), ("CHF", "ECS35d"), ("GSME", "CS10b"), ("gpf", "CS10b"),
     ("PPMID", "CS10b"), ("HCALCS", "CS10b")],
)  # fmt: skip
def test_the_security_log_use_case_of_each_device_type(device_type: str, use_case: str) -> None:
    assert use_case_for(device_type) is USE_CASES[use_case]


def test_a_device_type_without_a_security_log_is_refused() -> None:
    with pytest.raises(GbcsError, match="a device type with a GBCS security log"):
        use_case_for("toaster")


@pytest.mark.parametrize("device_type", ["TYPE2", "IHD", "cad"])
def test_a_type_2_device_keeps_no_security_log(device_type: str) -> None:
    with pytest.raises(GbcsError, match=r"a Type 2 device \(IHD, CAD\) keeps none"):
        use_case_for(device_type)


def test_only_the_codes_of_the_domain_list_have_names() -> None:
    assert code_name(0x8F3F) == "tamper detect"
    assert code_name(0x8F1F) == "low battery capacity"
    assert code_name(0x8F52) == "event log cleared"
    assert code_name(0x8F01) is None
    named = [c for c in range(0x10000) if code_name(c)]
    assert len(named) == 14
