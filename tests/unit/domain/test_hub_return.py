"""The hub return's enumerations are exactly the DUIS 5.4 schema's, and its fields are checked
as the schema bounds them (issue 20 item 4)."""

from __future__ import annotations

from enum import StrEnum

import pytest
from defusedxml import ElementTree as ET  # type: ignore[import-untyped]

from tests.duis_responses import DUIS_XSD
from triage.domain.hub_return import (
    ConnectionMethod,
    FaultReason,
    FaultReturnType,
    HubReturn,
    NoFaultReturnType,
    ReturnKind,
)
from triage.errors import InvalidInput

SCHEMA = DUIS_XSD
XS = "{http://www.w3.org/2001/XMLSchema}"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("CHFFaultReturnType", FaultReturnType),
        ("CHFNoFaultReturnType", NoFaultReturnType),
        ("CHFFaultReason", FaultReason),
        ("CHFConnectionMethod", ConnectionMethod),
    ],
)
def test_each_enumeration_holds_exactly_the_schemas_values(name: str, kind: type[StrEnum]) -> None:
    if not SCHEMA.exists():
        pytest.skip("the DUIS 5.4 schema (from the DCC) is not on this machine")
    root = ET.parse(SCHEMA, forbid_dtd=False).getroot()
    (simple,) = [t for t in root.iter(f"{XS}simpleType") if t.get("name") == name]
    values = [e.get("value") for e in simple.iter(f"{XS}enumeration")]
    assert [m.value for m in kind] == values


def test_a_return_is_recorded_and_read_back_the_same() -> None:
    made = HubReturn.parse(
        "fault",
        "fault identified prior to installation",
        " DCC-1 ",
        fault_reason="SMHAN_INTERFACE_FAULT",
        connection_method="esme",
        other_device_id="bc33acfffefa5501",
        user_ref_id="U1",
    )
    assert made.kind is ReturnKind.FAULT and made.dcc_reference == "DCC-1"
    assert made.fault_reason is FaultReason.SMHAN_INTERFACE_FAULT
    assert made.other_device_id == "BC-33-AC-FF-FE-FA-55-01"
    assert HubReturn.from_data(made.as_data()) == made
    assert "incident_reference" not in made.as_data()


def test_an_unknown_value_is_refused_listing_the_schemas() -> None:
    with pytest.raises(InvalidInput, match="Hot-shoe; Cradle; ESME") as refused:
        HubReturn.parse(
            "fault",
            "Fault identified post installation",
            "R",
            fault_reason="LED Fault",
            connection_method="USB",
            other_device_id="BC-33-AC-FF-FE-FA-55-01",
        )
    assert refused.value.field == "connection_method"
