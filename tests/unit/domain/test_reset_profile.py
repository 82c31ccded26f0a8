"""Reset profiles: the packaged lists, validation of a profile file, and post-reset verification."""

from __future__ import annotations

import copy
import hashlib
from importlib import resources
from typing import Any

import pytest
import yaml

from triage.adapters.packaged_data import PackagedFiles
from triage.domain.device import DeviceType, FieldError
from triage.domain.reset_profile import (
    EMPTY_DIGEST,
    ResetProfile,
    ResetProfileError,
    ResetProfiles,
    check_reset,
)

PACKAGED = resources.files("triage.domain.profiles").joinpath("reset-profiles.yaml").read_bytes()
DEFAULT = PackagedFiles().reset_profiles()
TRUST_ANCHORS = {"supplier_trust_anchors", "network_operator_trust_anchors"}


def _document() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(PACKAGED))


def _load(document: dict[str, Any]) -> ResetProfiles:
    return ResetProfiles.load(yaml.safe_dump(document).encode())


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- the packaged profiles ------------------------------------------------------------------------


@pytest.mark.parametrize("device_type", list(DeviceType))
def test_default_has_a_profile_for_every_device_type(device_type: DeviceType) -> None:
    profile = DEFAULT.for_type(device_type)
    assert profile.device_type is device_type
    assert profile.version == DEFAULT.version
    assert profile.id == f"gb-factory-reset/{device_type.name.lower()}"
    assert profile.clear, "every type has something a reset must clear"
    assert "device_identity" in profile.keep
    assert "han_link_keys" in profile.clear
    assert "operational_logs" in profile.clear
    if device_type is DeviceType.TYPE2:  # no GBCS security credentials: no security log
        assert "security_log" not in profile.items
    else:
        assert "security_log" in profile.keep, "GBCS lets nothing clear the security log"
    assert profile.items == profile.clear + profile.keep


def test_default_hash_and_version_identify_the_packaged_file() -> None:
    profiles = DEFAULT
    assert profiles.hash == hashlib.sha256(PACKAGED).hexdigest()
    assert profiles.version == "2026.1"
    assert profiles.id == "gb-factory-reset"


@pytest.mark.parametrize("device_type", [DeviceType.ESME, DeviceType.GSME])
def test_meters_clear_premises_data_and_keep_identity_and_calibration(
    device_type: DeviceType,
) -> None:
    profile = DEFAULT.for_type(device_type)
    assert set(profile.clear) >= TRUST_ANCHORS | {
        "han_whitelist",
        "han_link_keys",
        "mpxn",
        "tariffs",
        "balances",
        "debts",
        "consumer_data",
        "messages",
        "operational_logs",
    }
    assert set(profile.keep) >= {
        "device_identity",
        "device_certificates",
        "root_trust_anchor",
        "recovery_trust_anchor",
        "metrology_calibration",
    }


def test_type_differences_follow_what_each_device_holds() -> None:
    profiles = DEFAULT
    chf = profiles.for_type(DeviceType.CHF)
    assert not {"tariffs", "balances", "metrology_calibration"} & set(chf.items)
    gpf = profiles.for_type(DeviceType.GPF)
    gsme = profiles.for_type(DeviceType.GSME)
    assert gpf.clear == gsme.clear, "the GPF mirrors the gas meter's data"
    assert "metrology_calibration" not in gpf.items
    type2 = profiles.for_type(DeviceType.TYPE2)
    assert not [item for item in type2.items if "trust_anchor" in item or "certificate" in item]


# --- validation -----------------------------------------------------------------------------------


def _set(path: tuple[str, ...], value: object) -> dict[str, Any]:
    document = _document()
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


def _without(path: tuple[str, ...]) -> dict[str, Any]:
    document = _document()
    target = document
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return document


ESME_CLEAR = ("profiles", "ESME", "clear")
ESME_KEEP = ("profiles", "ESME", "keep")


@pytest.mark.parametrize(
    ("document", "field", "words"),
    [
        pytest.param(
            _set(("profiles", "SMETS9"), {"clear": ["mpxn"], "keep": []}),
            "profiles",
            ["SMETS9", "ESME"],
            id="unknown device type",
        ),
        pytest.param(_without(("profiles", "PPMID")), "profiles", ["PPMID"], id="missing type"),
        pytest.param(
            _set(ESME_KEEP, ["device_identity", "tariffs"]),
            "profiles.ESME.keep[1]",
            ["tariffs", "both cleared and kept"],
            id="cleared and kept",
        ),
        pytest.param(
            _set(ESME_CLEAR, ["mpxn", "tariffs", "mpxn"]),
            "profiles.ESME.clear[2]",
            ["mpxn", "twice"],
            id="duplicate",
        ),
        pytest.param(
            _set(ESME_CLEAR, ["mpxn", "HAN-Keys"]),
            "profiles.ESME.clear[1]",
            ["HAN-Keys", "lower_snake_case"],
            id="bad item name",
        ),
        pytest.param(
            _set(ESME_CLEAR, ["mpxn", 7]), "profiles.ESME.clear[1]", ["7"], id="item not a string"
        ),
        pytest.param(
            _set(ESME_CLEAR, []), "profiles.ESME.clear", ["empty", "ESME"], id="empty clear"
        ),
        pytest.param(_without(ESME_KEEP), "profiles.ESME.keep", ["list"], id="keep missing"),
        pytest.param(
            _set(("profiles", "CHF", "wipe"), ["mpxn"]),
            "profiles.CHF",
            ["wipe"],
            id="unknown profile key",
        ),
        pytest.param(_set(("version",), 2025.1), "version", ["quoted"], id="unquoted version"),
        pytest.param(_without(("id",)), "id", ["name"], id="missing id"),
    ],
)
def test_a_bad_profile_file_is_refused_naming_the_type_and_item(
    document: dict[str, Any], field: str, words: list[str]
) -> None:
    with pytest.raises(ResetProfileError) as raised:
        _load(document)
    assert raised.value.field == field
    for word in words:
        assert word in str(raised.value)


def test_an_empty_clear_list_is_allowed_for_a_type_without_credentials() -> None:
    profiles = _load(_set(("profiles", "TYPE2", "clear"), []))
    assert profiles.for_type(DeviceType.TYPE2).clear == ()


@pytest.mark.parametrize(
    "data", [b"profiles: [unclosed", b"\xff\xfe", b"- just\n- a list\n"], ids=str
)
def test_a_file_that_is_not_a_profile_mapping_is_refused(data: bytes) -> None:
    with pytest.raises(ResetProfileError, match=r"^file: "):
        ResetProfiles.load(data)


def test_a_profile_error_is_a_field_error_for_the_entrypoints() -> None:
    with pytest.raises(FieldError):
        _load(_set(ESME_CLEAR, []))


def test_a_changed_file_gets_its_own_hash_and_version() -> None:
    document = _set(("version",), "2026.1")
    document["profiles"]["ESME"]["clear"].append("auxiliary_load_schedules")
    profiles = _load(document)
    assert profiles.version == "2026.1"
    assert profiles.hash != DEFAULT.hash
    assert profiles.for_type(DeviceType.ESME).clear[-1] == "auxiliary_load_schedules"


# --- check_reset ----------------------------------------------------------------------------------

PROFILE = ResetProfile(
    id="test/esme",
    version="1",
    device_type=DeviceType.ESME,
    clear=("han_link_keys", "tariffs"),
    keep=("device_identity", "metrology_calibration"),
)
BEFORE = {item: _digest(f"{item} content") for item in PROFILE.items}
GOOD_AFTER = {
    "han_link_keys": EMPTY_DIGEST,
    "tariffs": EMPTY_DIGEST,
    "device_identity": BEFORE["device_identity"],
    "metrology_calibration": BEFORE["metrology_calibration"],
}


def test_a_correct_reset_verifies() -> None:
    assert check_reset(PROFILE, BEFORE, GOOD_AFTER) == []


def test_items_outside_the_profile_are_ignored() -> None:
    extra = {"vendor_debug_buffer": _digest("x")}
    assert check_reset(PROFILE, BEFORE | extra, GOOD_AFTER | extra) == []


@pytest.mark.parametrize(
    ("before", "after", "failures"),
    [
        pytest.param(
            BEFORE,
            GOOD_AFTER | {"han_link_keys": BEFORE["han_link_keys"]},
            ["han_link_keys not cleared"],
            id="not cleared",
        ),
        pytest.param(
            BEFORE,
            GOOD_AFTER | {"metrology_calibration": _digest("recalibrated")},
            ["metrology_calibration changed"],
            id="kept item changed",
        ),
        pytest.param(
            BEFORE,
            GOOD_AFTER | {"device_identity": EMPTY_DIGEST},
            ["device_identity empty after the reset, but it must be kept"],
            id="kept item vanished",
        ),
        pytest.param(
            BEFORE | {"device_identity": EMPTY_DIGEST},
            GOOD_AFTER | {"device_identity": EMPTY_DIGEST},
            ["device_identity empty after the reset, but it must be kept"],
            id="kept item empty all along",
        ),
        pytest.param(
            BEFORE,
            {k: v for k, v in GOOD_AFTER.items() if k != "tariffs"},
            ["tariffs missing from the read-back after the reset"],
            id="missing after",
        ),
        pytest.param(
            {k: v for k, v in BEFORE.items() if k != "device_identity"},
            GOOD_AFTER,
            ["device_identity missing from the read-back before the reset"],
            id="missing before",
        ),
        pytest.param(
            {},
            {},
            [
                f"{item} missing from the read-back before and after the reset"
                for item in PROFILE.items
            ],
            id="nothing read back",
        ),
        pytest.param(
            BEFORE,
            BEFORE,
            [
                "han_link_keys not cleared",
                "tariffs not cleared",
            ],
            id="reset did nothing",
        ),
    ],
)
def test_each_kind_of_failure_is_named(
    before: dict[str, str], after: dict[str, str], failures: list[str]
) -> None:
    assert check_reset(PROFILE, before, after) == failures


def test_a_device_wiped_entirely_fails_on_every_kept_item() -> None:
    wiped = dict.fromkeys(PROFILE.items, EMPTY_DIGEST)
    assert check_reset(PROFILE, BEFORE, wiped) == [
        "device_identity empty after the reset, but it must be kept",
        "metrology_calibration empty after the reset, but it must be kept",
    ]
