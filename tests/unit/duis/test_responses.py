"""Reading DUIS 5.4 responses: 8.2 Read Inventory and 6.13 Read Security Log in, everything
else refused with a clear message; the sample responses are valid against the real schema."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

import pytest
import xmlschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.duis_responses import (
    BILLION_LAUGHS,
    DUIS_XSD,
    EXTERNAL_DTD,
    READ_INVENTORY_REQUEST,
    XXE,
    Listed,
    read_inventory,
    read_security_log,
    response,
)
from triage.domain.device import DeviceId, InventoryStatus
from triage.duis.errors import DuisError, DuisMalformed
from triage.duis.responses import DuisResponse, read_response
from triage.duis.xml import MAX_BYTES, parse

METER = "00-DB-12-34-56-78-90-A2"
HUB = "00-DB-12-34-56-78-90-C1"
GAS = "00-DB-12-34-56-78-90-B3"
GPF = "00-DB-12-34-56-78-90-B4"


@cache
def _schema() -> xmlschema.XMLSchema10:
    return xmlschema.XMLSchema10(str(DUIS_XSD), defuse="always")


def _valid(xml: bytes) -> bool:
    return bool(_schema().is_valid(xml.decode()))


def test_a_read_inventory_response_is_valid_and_read_field_by_field() -> None:
    xml = read_inventory(
        Listed(METER, "ESME", "Commissioned", "Acme", "E1", "SMETS2", "1.2.3"),
        Listed(HUB, "CHF", "Commissioned", "Hubco", "H7", "CHTS", "9.0"),
    )
    assert _valid(xml)

    read = read_response(xml)

    assert read.succeeded
    assert (read.service_reference, read.service_reference_variant) == ("8.2", "8.2")
    assert read.response_id == "90-B3-D5-1F-30-00-00-02:90-B3-D5-1F-30-01-00-00:1000"
    assert read.response_datetime == datetime(2026, 12, 1, 10, 15, tzinfo=UTC)
    meter, hub = read.inventory
    assert meter.device_id == DeviceId.parse(METER)
    assert (meter.device_type, meter.status) == ("ESME", InventoryStatus.COMMISSIONED)
    assert (meter.manufacturer, meter.model, meter.firmware_version) == ("Acme", "E1", "1.2.3")
    assert meter.smets_chts_version == "SMETS2"
    assert meter.chf_id == DeviceId.parse(HUB)
    assert hub.chf_id is None and read.gbcs_payload is None


def test_the_chf_link_is_only_derived_where_the_response_shows_the_premises() -> None:
    two_hubs = read_inventory(
        Listed(METER, uprn="100"),
        Listed(GAS, "GSME"),
        Listed(HUB, "CHF", uprn="100"),
        Listed("00-DB-12-34-56-78-90-C2", "CHF", uprn="200"),
    )
    assert _valid(two_hubs)
    meter, gas, _, _ = read_response(two_hubs).inventory
    assert meter.chf_id == DeviceId.parse(HUB)  # the hub at the same UPRN
    assert gas.chf_id is None  # two hubs and no UPRN: the response does not say which

    no_hub = read_response(read_inventory(Listed(METER), Listed(GPF, "GPF"))).inventory
    assert [d.chf_id for d in no_hub] == [None, None]

    elsewhere = read_response(
        read_inventory(Listed(GPF, "GPF", uprn="1"), Listed(HUB, "CHF", uprn="2"))
    )
    assert elsewhere.inventory[0].chf_id is None  # the only hub is at another premises


def test_a_security_log_response_carries_the_gbcs_bytes() -> None:
    xml = read_security_log(b"\xdd\x00\x01gbcs")
    assert _valid(xml)
    read = read_response(xml)
    assert (read.service_reference, read.gbcs_payload, read.inventory) == (
        "6.13",
        b"\xdd\x00\x01gbcs",
        (),
    )


def test_a_non_success_response_code_is_reported_and_carries_no_data() -> None:
    xml = read_inventory(code="E3")
    assert _valid(xml)
    read = read_response(xml)
    assert (read.succeeded, read.response_code, read.inventory) == (False, "E3", ())


def test_the_82_request_template_is_refused_as_a_request_not_a_response() -> None:
    template = READ_INVENTORY_REQUEST.read_bytes()
    assert _valid(template)
    with pytest.raises(DuisMalformed, match=r"DUIS request \(sr:Request\), not a response"):
        read_response(template)


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (b"<sr:Response xmlns:sr='urn:other' schemaVersion='5.4'/>", "not the DUIS namespace"),
        (b"<html/>", "root element is 'html', not sr:Response"),
        (
            read_inventory(Listed(METER)).replace(b"<sr:ResponseCode>I0</sr:ResponseCode>", b""),
            r"/sr:Response/sr:Header/sr:ResponseCode: is missing",
        ),
        (
            read_inventory(Listed(METER)).replace(METER.encode(), b"00-DB-12-34-56-78-90"),
            r"sr:Device\[1\]/sr:DeviceID: '00-DB-12-34-56-78-90' is not an EUI-64",
        ),
        (
            read_inventory(Listed(METER, status="NotApplicable")),
            "'NotApplicable' is not a DUIS 5.4 device status; expected one of Pending, "
            "Whitelisted, InstalledNotCommissioned, Commissioned, Decommissioned, Withdrawn, "
            "Suspended, Recovery, Recovered",
        ),
        (read_inventory(Listed(METER, "METER")), "'METER' is not a DUIS 5.4 device type"),
        (read_inventory(Listed(METER), Listed(METER)), "is listed twice"),
        (
            read_inventory(*(Listed(f"00-DB-12-34-56-78-91-{n:02X}") for n in range(18))),
            "lists 18 devices; DUIS allows at most 17",
        ),
        (response("<sr:GBCSPayload>not base64!</sr:GBCSPayload>"), "GBCSPayload: not base64"),
        (
            read_inventory(Listed(METER, firmware_version="123456789")),
            "DeviceFirmwareVersion: 9 characters; DUIS allows at most 8",
        ),
    ],
)
def test_what_is_not_a_duis_response_is_refused_saying_what_and_where(
    xml: bytes, message: str
) -> None:
    with pytest.raises(DuisMalformed, match=message):
        read_response(xml)


def test_malformed_xml_is_refused_with_its_line_and_column() -> None:
    with pytest.raises(DuisMalformed, match=r"not well-formed XML at line 2, column \d+"):
        parse(b"<a>\n<b></a>")


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, XXE, EXTERNAL_DTD], ids=["bomb", "xxe", "dtd"])
def test_dtds_entities_and_external_references_are_refused(xml: bytes) -> None:
    with pytest.raises(DuisMalformed, match="a DTD/entity declaration is refused"):
        read_response(xml)


def test_an_oversized_file_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(DuisMalformed, match="a DUIS message is at most 1024 KiB"):
        parse(b"<a>" + b" " * MAX_BYTES + b"</a>")


def _read_or_refuse(data: bytes) -> None:
    try:
        read = read_response(data)
    except DuisError:
        return
    assert isinstance(read, DuisResponse)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_are_read_or_refused_with_a_duis_error(data: bytes) -> None:
    _read_or_refuse(data)


VALID = read_inventory(
    Listed(METER, "ESME", "Commissioned", uprn="12"), Listed(HUB, "CHF", "Commissioned")
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(VALID)),
            st.integers(min_value=0, max_value=40),
            st.binary(max_size=12)
            | st.sampled_from([b"<", b">", b"&", b"sr:", b"</sr:Device>", b"\x00", b"\xff"]),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_mutated_responses_are_read_or_refused_with_a_duis_error(
    edits: list[tuple[int, int, bytes]],
) -> None:
    data = VALID
    for at, cut, insert in edits:
        data = data[:at] + insert + data[at + cut :]
    _read_or_refuse(data)


@settings(max_examples=200)
@given(st.text(max_size=40))
def test_any_text_in_a_device_field_is_read_or_refused(text: str) -> None:
    for name in (b"Acme", b"E1", b"1.0.0", b"Decommissioned", b"ESME", METER.encode()):
        _read_or_refuse(VALID.replace(name, text.encode("utf-8", "surrogatepass"), 1))
