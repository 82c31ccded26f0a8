"""DUIS requests out: every kind the product renders validates against the DUIS 5.4 schema
(checked with xmlschema directly, not only through our wrapper); what cannot validate is
refused with DuisSchemaError naming the element, and never with another exception."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.duis_responses import DUIS_DIR
from triage.duis import schema as duis_schema
from triage.duis.errors import DuisError, DuisSchemaError
from triage.duis.requests import (
    ChfFaultReturn,
    ChfNoFaultReturn,
    Decommission,
    DeleteDevice,
    ServiceRequest,
    UpdateDeviceDetails,
    UpdateDeviceStatus,
    render,
    service_reference,
)

XSD = DUIS_DIR / "DUIS Schema V5.4.xsd"
TEMPLATE_84 = DUIS_DIR / "8.4_UPDATE_INVENTORY_REQUEST_DUIS.XML"
RID = "90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:17"
DEVICE = "00-DB-12-34-56-78-90-A0"
HUB = "00-DB-12-34-56-78-90-C1"


@pytest.fixture(scope="module")
def independent() -> xmlschema.XMLSchema10:
    return xmlschema.XMLSchema10(str(XSD), defuse="always")


def wrapper() -> duis_schema.DuisSchema:
    return duis_schema.load(XSD)


EVERY_KIND: list[ServiceRequest] = [
    UpdateDeviceStatus(DEVICE, "Pending", comms_hub=False),
    UpdateDeviceStatus(DEVICE, "InstalledNotCommissioned", comms_hub=False),
    UpdateDeviceStatus(HUB, "Withdrawn", comms_hub=True),
    UpdateDeviceDetails(DEVICE, "Acme Meters", "AM-1", "SMETS2", "1.0.4"),
    UpdateDeviceDetails(DEVICE, firmware_version="2.0"),
    DeleteDevice(DEVICE),
    Decommission(DEVICE),
    ChfFaultReturn(
        HUB,
        "Fault identified prior to installation",
        DEVICE,
        "Hot-shoe",
        "SM WAN Fault",
        user_ref_id="RMA-1",
        incident_reference="INC-9",
        additional_information="no WAN after 3 power cycles <checked> & logged",
    ),
    ChfNoFaultReturn(HUB, "No Fault Return (general)"),
]


@pytest.mark.parametrize("request_", EVERY_KIND, ids=lambda r: type(r).__name__)
def test_every_kind_renders_a_valid_unsigned_request(
    independent: xmlschema.XMLSchema10, request_: ServiceRequest
) -> None:
    xml = render(request_, RID)

    independent.validate(xml.decode("utf-8"))
    wrapper().validate(xml)
    root = xmlschema.XMLResource(xml, defuse="always").root
    assert root.get("schemaVersion") == "5.4"
    assert b"Signature" not in xml  # the DCC User signs
    header = {child.tag.split("}")[1]: child.text for child in root[0]}
    assert header["RequestID"] == RID
    assert header["CommandVariant"] == "8"
    assert header["ServiceReferenceVariant"] == service_reference(request_)


def test_markup_in_a_value_is_text_not_markup(independent: xmlschema.XMLSchema10) -> None:
    xml = render(EVERY_KIND[7], RID)

    decoded: Any = independent.to_dict(xml.decode("utf-8"))
    body = decoded["sr:Body"]["sr:CHFFaultReturn"]
    assert body["sr:AdditionalInformation"] == "no WAN after 3 power cycles <checked> & logged"


def test_the_84_template_validates_through_our_schema() -> None:
    wrapper().validate(TEMPLATE_84.read_bytes())


@pytest.mark.parametrize(
    ("request_", "element"),
    [
        (
            UpdateDeviceDetails(DEVICE, firmware_version="1.2.3.4.5"),
            "/sr:Request/sr:Body/sr:UpdateInventory/sr:UpdateDeviceDetails/sr:FirmwareVersion",
        ),
        (
            DeleteDevice("00-DB-12-34-56-78-90"),
            "/sr:Request/sr:Body/sr:UpdateInventory/sr:DeviceID",
        ),
        (
            Decommission("00-DB-12-34-56-78-90"),
            "/sr:Request/sr:Body/sr:DecommissionDevice/sr:DeviceID",
        ),
        (
            UpdateDeviceStatus(DEVICE, "Withdrawn", comms_hub=False),
            "/sr:Request/sr:Body/sr:UpdateInventory/sr:UpdateDeviceStatusExceptCH",
        ),
        (
            ChfNoFaultReturn(HUB, "No Fault Return (general)", incident_reference="X" * 16),
            "/sr:Request/sr:Body/sr:CHFNoFaultReturn/sr:IncidentReference",
        ),
    ],
)
def test_what_cannot_validate_is_refused_naming_the_element(
    independent: xmlschema.XMLSchema10, request_: ServiceRequest, element: str
) -> None:
    xml = render(request_, RID)
    assert not independent.is_valid(xml.decode("utf-8"))

    with pytest.raises(DuisSchemaError) as refused:
        wrapper().validate(xml)

    assert refused.value.element == element


def test_a_bad_request_id_is_refused_naming_it() -> None:
    with pytest.raises(DuisSchemaError) as refused:
        wrapper().validate(render(DeleteDevice(DEVICE), "90-B3-D5-1F-30-01-00-00:17"))
    assert refused.value.element == "/sr:Request/sr:Header/sr:RequestID"


def test_a_character_xml_cannot_carry_is_refused_naming_the_element() -> None:
    with pytest.raises(DuisSchemaError) as refused:
        render(UpdateDeviceDetails(DEVICE, model="AM\x001"), RID)
    assert refused.value.element == (
        "/sr:Request/sr:Body/sr:UpdateInventory/sr:UpdateDeviceDetails/sr:DeviceModel"
    )


def test_details_that_name_nothing_are_refused() -> None:
    with pytest.raises(DuisSchemaError, match="names no detail"):
        render(UpdateDeviceDetails(DEVICE), RID)


def test_a_message_with_a_dtd_is_refused_before_validation() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><r>&a;</r>'
    with pytest.raises(DuisSchemaError, match="DTD/entity declaration is refused"):
        wrapper().validate(bomb)


def test_a_missing_schema_is_an_error_naming_the_path(tmp_path: Path) -> None:
    with pytest.raises(DuisError, match="no DUIS schema at"):
        duis_schema.load(tmp_path / "DUIS Schema V5.4.xsd")


def test_a_schema_is_loaded_once_per_path() -> None:
    assert duis_schema.load(XSD) is duis_schema.load(XSD)


# -- hypothesis -------------------------------------------------------------------------------

eui = st.lists(st.sampled_from("0123456789ABCDEF"), min_size=16, max_size=16).map(
    lambda d: "-".join("".join(d[i : i + 2]) for i in range(0, 16, 2))
)
printable = st.text(string.ascii_letters + string.digits + " .-_<>&'\"", min_size=1)
valid_requests = st.one_of(
    st.builds(
        UpdateDeviceStatus,
        eui,
        st.sampled_from(["Pending", "InstalledNotCommissioned"]),
        st.just(False),
    ),
    st.builds(
        UpdateDeviceStatus,
        eui,
        st.sampled_from(["Commissioned", "Withdrawn", "InstalledNotCommissioned"]),
        st.just(True),
    ),
    st.builds(
        UpdateDeviceDetails,
        eui,
        printable.filter(lambda t: len(t) <= 30),
        st.none() | printable.filter(lambda t: len(t) <= 30),
        st.none() | printable.filter(lambda t: len(t) <= 20),
        st.none() | printable.filter(lambda t: len(t) <= 8),
    ),
    st.builds(DeleteDevice, eui),
    st.builds(Decommission, eui),
    st.builds(
        ChfNoFaultReturn,
        eui,
        st.sampled_from(["No Fault Return (general)", "Lost or Stolen Hub"]),
        st.none() | printable.filter(lambda t: len(t) <= 25),
        st.none() | printable.filter(lambda t: len(t) <= 15),
        st.none() | printable.filter(lambda t: len(t) <= 200),
    ),
)
counter = st.integers(min_value=0, max_value=2**64 - 1)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request_=valid_requests, number=counter, originator=eui, target=eui)
def test_any_valid_typed_request_renders_and_validates(
    request_: ServiceRequest, number: int, originator: str, target: str
) -> None:
    xml = render(request_, f"{originator}:{target}:{number}")
    wrapper().validate(xml)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    device=st.text(max_size=30),
    text=st.text(max_size=40),
    status=st.text(max_size=30),
    request_id=st.text(max_size=60),
)
def test_anything_else_is_valid_or_a_schema_error_never_another_exception(
    device: str, text: str, status: str, request_id: str
) -> None:
    refusals = []
    for request_ in (
        UpdateDeviceStatus(device, status, comms_hub=False),
        UpdateDeviceDetails(device, firmware_version=text),
        ChfFaultReturn(device, status, device, text, text, user_ref_id=text),
    ):
        try:
            wrapper().validate(render(request_, request_id))
        except DuisSchemaError as refused:
            refusals.append(refused.element)
    assert all(element.startswith("/") for element in refusals)
