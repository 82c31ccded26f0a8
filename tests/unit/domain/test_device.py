from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage.domain.device import (
    Device,
    DeviceId,
    DeviceType,
    FieldError,
    InventoryStatus,
)

CANONICAL = "BC-33-AC-FF-FE-FA-55-3D"


@pytest.mark.parametrize(
    "text",
    [
        "BC-33-AC-FF-FE-FA-55-3D",
        "bc:33:ac:ff:fe:fa:55:3d",
        "BC33ACFFFEFA553D",
        "bc33acfffefa553d",
        "bc-33-ac-ff-fe-fa-55-3d",
        "BC 33 AC FF FE FA 55 3D",
        "bc.33.ac.ff.fe.fa.55.3d",
        "BC33-ACFF-FEFA-553D",
        "bc33.acff.fefa.553d",
        "bc33:acff:fefa:553d",
        "Bc:33:aC:fF:Fe:fA:55:3d",
        "  BC-33-AC-FF-FE-FA-55-3D\n",
        "\tbc33acfffefa553d ",
    ],
)
def test_device_id_accepts_common_spellings(text: str) -> None:
    device_id = DeviceId.parse(text)
    assert str(device_id) == CANONICAL
    assert device_id.value == CANONICAL
    assert device_id.as_int == 0xBC33ACFFFEFA553D


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "device_id: is empty"),
        ("   ", "device_id: is empty"),
        ("BC-33-AC-FF-FE-FA-55", "has 14 hex digits; an EUI-64 has 16"),
        ("BC33ACFFFEFA553D00", "has 18 hex digits; an EUI-64 has 16"),
        ("BC-33-AC-FF-FE-FA-55-3G", "has 'G' at position 23"),
        ("BC_33_AC_FF_FE_FA_55_3D", "has '_' at position 3"),
        ("0xBC33ACFFFEFA553D", "has 'x' at position 2"),
        ("BC-33:AC-FF-FE-FA-55-3D", "mixes separators '-' and ':'"),
        ("BC-33-AC FF-FE-FA-55-3D", "mixes separators ' ' and '-'"),
        ("BC3-3AC-FFF-EFA-553D", "groups its digits unevenly"),
        ("BC33-AC-FF-FE-FA-553D", "groups its digits unevenly"),
        ("BC--33-AC-FF-FE-FA-55-3D", "groups its digits unevenly"),
        ("BC  33 AC FF FE FA 55 3D", "groups its digits unevenly"),
        ("-BC-33-AC-FF-FE-FA-55-3D", "groups its digits unevenly"),
        ("00-00-00-00-00-00-00-00", "is the all-00 EUI-64, which is reserved"),
        ("ffffffffffffffff", "is the all-FF EUI-64, which is reserved"),
    ],
)
def test_device_id_rejects_bad_input_saying_why(text: str, message: str) -> None:
    with pytest.raises(FieldError) as caught:
        DeviceId.parse(text)
    assert caught.value.field == "device_id"
    assert message in str(caught.value)
    assert str(caught.value).startswith("device_id: ")


def test_device_id_message_shows_a_long_input_shortened() -> None:
    with pytest.raises(FieldError) as caught:
        DeviceId.parse("A" * 500)
    assert "has 500 hex digits" in caught.value.problem
    assert len(caught.value.problem) < 200


def test_device_id_constructor_refuses_non_canonical_text() -> None:
    assert DeviceId(CANONICAL) == DeviceId.parse("bc33acfffefa553d")
    with pytest.raises(FieldError, match="not canonical"):
        DeviceId("bc33acfffefa553d")


def test_device_ids_are_values() -> None:
    assert DeviceId.parse("bc33acfffefa553d") == DeviceId.parse(CANONICAL)
    assert len({DeviceId.parse("bc33acfffefa553d"), DeviceId.parse(CANONICAL)}) == 1
    assert DeviceId.from_int(1) < DeviceId.from_int(0x100)
    with pytest.raises(dataclasses.FrozenInstanceError):
        DeviceId.parse(CANONICAL).value = "x"  # type: ignore[misc]


@pytest.mark.parametrize("number", [-1, 2**64])
def test_device_id_from_int_refuses_out_of_range(number: int) -> None:
    with pytest.raises(FieldError, match="not a 64-bit unsigned integer"):
        DeviceId.from_int(number)


_STYLES: list[Callable[[str], str]] = [
    lambda h: "-".join(h[i : i + 2] for i in range(0, 16, 2)),
    lambda h: ":".join(h[i : i + 2] for i in range(0, 16, 2)).lower(),
    lambda h: " ".join(h[i : i + 2] for i in range(0, 16, 2)),
    lambda h: ".".join(h[i : i + 2] for i in range(0, 16, 2)).lower(),
    lambda h: h.lower(),
    lambda h: h,
    lambda h: "-".join(h[i : i + 4] for i in range(0, 16, 4)),
    lambda h: ".".join(h[i : i + 4] for i in range(0, 16, 4)).lower(),
    lambda h: f"  {h}  ",
]


@given(
    number=st.integers(min_value=1, max_value=2**64 - 2),
    style=st.sampled_from(_STYLES),
)
def test_device_id_round_trips_every_accepted_style(
    number: int, style: Callable[[str], str]
) -> None:
    hex_digits = f"{number:016X}"
    text = style(hex_digits)
    device_id = DeviceId.parse(text)
    assert device_id.as_int == number
    assert device_id == DeviceId.from_int(number)
    assert DeviceId.parse(str(device_id)) == device_id
    assert str(device_id) == "-".join(hex_digits[i : i + 2] for i in range(0, 16, 2))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GSME", DeviceType.GSME),
        ("esme", DeviceType.ESME),
        (" Chf ", DeviceType.CHF),
        ("gpf", DeviceType.GPF),
        ("HCALCS", DeviceType.HCALCS),
        ("ppmid", DeviceType.PPMID),
        ("TYPE2", DeviceType.TYPE2),
        ("Type 2", DeviceType.TYPE2),
        ("type_2", DeviceType.TYPE2),
        ("IHD", DeviceType.TYPE2),
        ("cad", DeviceType.TYPE2),
        ("0", DeviceType.GSME),
        ("6", DeviceType.TYPE2),
        ("3", DeviceType.GPF),
    ],
)
def test_device_type_parses_names_and_numbers(text: str, expected: DeviceType) -> None:
    assert DeviceType.parse(text) is expected


@pytest.mark.parametrize("text", ["", "7", "-1", "meter", "TYPE1", "1.0"])
def test_device_type_rejects_unknown_listing_valid_values(text: str) -> None:
    with pytest.raises(FieldError) as caught:
        DeviceType.parse(text)
    assert caught.value.field == "device_type"
    assert "GSME (0)" in caught.value.problem
    assert "TYPE2 (6)" in caught.value.problem


def test_device_type_properties() -> None:
    assert {t for t in DeviceType if t.is_meter} == {DeviceType.GSME, DeviceType.ESME}
    assert {t for t in DeviceType if not t.security_critical} == {DeviceType.TYPE2}
    assert [int(t) for t in DeviceType] == list(range(7))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Commissioned", InventoryStatus.COMMISSIONED),
        ("commissioned", InventoryStatus.COMMISSIONED),
        ("InstalledNotCommissioned", InventoryStatus.INSTALLED_NOT_COMMISSIONED),
        ("installed not commissioned", InventoryStatus.INSTALLED_NOT_COMMISSIONED),
        ("INSTALLED_NOT_COMMISSIONED", InventoryStatus.INSTALLED_NOT_COMMISSIONED),
        (" Decommissioned ", InventoryStatus.DECOMMISSIONED),
        ("whitelisted", InventoryStatus.WHITELISTED),
    ],
)
def test_inventory_status_parses_loosely(text: str, expected: InventoryStatus) -> None:
    assert InventoryStatus.parse(text) is expected


def test_inventory_status_values_are_the_inventory_spellings() -> None:
    assert [s.value for s in InventoryStatus] == [
        "Pending",
        "Whitelisted",
        "InstalledNotCommissioned",
        "Commissioned",
        "Decommissioned",
        "Withdrawn",
        "Suspended",
        "Recovery",
        "Recovered",
    ]


def test_inventory_status_rejects_unknown_listing_valid_values() -> None:
    with pytest.raises(FieldError) as caught:
        InventoryStatus.parse("installed")
    assert caught.value.field == "inventory_status"
    assert "Commissioned" in caught.value.problem
    assert "NotApplicable" not in caught.value.problem


def test_not_applicable_is_refused_as_not_a_duis_status_but_old_records_still_read() -> None:
    with pytest.raises(FieldError) as caught:
        InventoryStatus.parse("NotApplicable")
    assert caught.value.problem == (
        "unknown inventory status 'NotApplicable' (DUIS 5.4 has no NotApplicable); expected one "
        "of the DUIS 5.4 statuses Pending, Whitelisted, InstalledNotCommissioned, Commissioned, "
        "Decommissioned, Withdrawn, Suspended, Recovery, Recovered"
    )
    assert InventoryStatus.stored("NotApplicable") is None
    assert InventoryStatus.stored("Commissioned") is InventoryStatus.COMMISSIONED


CHF = "00-1B-C5-0C-00-00-00-01"


def _fields(**overrides: str) -> dict[str, str]:
    fields = {
        "device_id": "bc33acfffefa553d",
        "device_type": "ESME",
        "manufacturer": "Acme Meters",
        "model": "E470",
        "firmware_version": "1.2.3",
        "inventory_status": "Decommissioned",
        "asset_owner": "Meter Asset Provider Ltd",
    }
    fields.update(overrides)
    return {key: value for key, value in fields.items() if value != "<absent>"}


def test_device_from_fields_parses_and_trims() -> None:
    device = Device.from_fields(
        _fields(manufacturer="  Acme Meters ", smets_version="SMETS2", chf_id=CHF.lower())
    )
    assert device == Device(
        id=DeviceId.parse(CANONICAL),
        type=DeviceType.ESME,
        manufacturer="Acme Meters",
        model="E470",
        firmware_version="1.2.3",
        inventory_status=InventoryStatus.DECOMMISSIONED,
        asset_owner="Meter Asset Provider Ltd",
        smets_version="SMETS2",
        chf_id=DeviceId.parse(CHF),
    )
    assert Device.validate_fields(_fields()) == []


def test_empty_optional_fields_mean_absent() -> None:
    device = Device.from_fields(_fields(smets_version=" ", chf_id=""))
    assert device.smets_version is None
    assert device.chf_id is None


@pytest.mark.parametrize(
    ("overrides", "field", "problem"),
    [
        ({"device_id": "<absent>"}, "device_id", "is missing"),
        ({"device_id": "BC-33"}, "device_id", "has 4 hex digits"),
        ({"device_type": "fridge"}, "device_type", "unknown device type 'fridge'"),
        ({"manufacturer": "  "}, "manufacturer", "is empty"),
        ({"model": "M" * 101}, "model", "is 101 characters long; at most 100"),
        ({"firmware_version": "1.0\x00"}, "firmware_version", "control character"),
        ({"inventory_status": "gone"}, "inventory_status", "unknown inventory status"),
        ({"asset_owner": "<absent>"}, "asset_owner", "is missing"),
        ({"chf_id": "zz"}, "chf_id", "'z' at position 1"),
        ({"chf_id": CANONICAL}, "chf_id", "its own comms hub"),
        ({"device_type": "PPMID", "chf_id": CHF}, "chf_id", "a PPMID device has no chf_id"),
        ({"device_type": "CHF", "chf_id": CHF}, "chf_id", "a CHF device has no chf_id"),
        ({"chf id": CHF}, "chf id", "is not a device field"),
    ],
)
def test_device_from_fields_names_the_bad_field(
    overrides: dict[str, str], field: str, problem: str
) -> None:
    with pytest.raises(FieldError) as caught:
        Device.from_fields(_fields(**overrides))
    assert caught.value.field == field
    assert problem in caught.value.problem
    assert str(caught.value) == f"{field}: {caught.value.problem}"


@pytest.mark.parametrize("device_type", ["GSME", "ESME", "GPF"])
def test_meters_and_gpf_may_link_to_a_comms_hub(device_type: str) -> None:
    device = Device.from_fields(_fields(device_type=device_type, chf_id=CHF))
    assert device.chf_id == DeviceId.parse(CHF)


def test_validate_fields_reports_every_problem_in_field_order() -> None:
    errors = Device.validate_fields(
        {
            "colour": "blue",
            "chf_id": CHF,
            "device_type": "IHD",
            "device_id": "xyz",
            "manufacturer": "",
            "model": "M" * 200,
            "inventory_status": "live",
        }
    )
    expected = [
        ("device_id", "'xyz' has 'x' at position 1"),
        ("manufacturer", "is empty"),
        ("model", "is 200 characters long"),
        ("firmware_version", "is missing"),
        ("inventory_status", "unknown inventory status 'live'"),
        ("asset_owner", "is missing"),
        ("colour", "is not a device field"),
    ]
    assert [e.field for e in errors] == [field for field, _ in expected]
    for error, (_, problem) in zip(errors, expected, strict=True):
        assert problem in error.problem
    with pytest.raises(FieldError) as caught:
        Device.from_fields({"colour": "blue", "device_id": "xyz"})
    assert caught.value.field == "device_id"


def test_validate_fields_checks_the_comms_hub_link_once_both_ids_parse() -> None:
    errors = Device.validate_fields(_fields(device_type="TYPE2", chf_id=CHF, model=""))
    assert [e.field for e in errors] == ["model", "chf_id"]


def test_device_constructor_validates() -> None:
    device = Device.from_fields(_fields())
    with pytest.raises(FieldError, match=r"^manufacturer: has leading or trailing spaces$"):
        dataclasses.replace(device, manufacturer=" Acme")
    with pytest.raises(FieldError, match=r"^smets_version: is empty$"):
        dataclasses.replace(device, smets_version="")
    with pytest.raises(FieldError, match=r"^chf_id: .*own comms hub"):
        dataclasses.replace(device, chf_id=device.id)
