"""Devices: GBCS device types, Smart Metering Inventory statuses, EUI-64 device ids.

Every error raised here is a ``FieldError`` naming the field (``device_id``, ``device_type`` ...)
and the problem, so an import report or an API response can point at the exact input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import TypeVar

_MAX_TEXT = 100
_HEX = frozenset("0123456789abcdefABCDEF")
_SEPARATORS = "-: ."
_EXAMPLE_ID = "BC-33-AC-FF-FE-FA-55-3D"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_T = TypeVar("_T")


class FieldError(ValueError):
    """One input field is bad: ``field`` names it, ``problem`` says what is wrong with it."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def _shown(text: str) -> str:
    """The input quoted for a message, cut short so a pasted blob cannot flood a report."""
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")


class DeviceType(IntEnum):
    """Device types in GBCS numbering."""

    GSME = 0
    ESME = 1
    CHF = 2
    GPF = 3
    HCALCS = 4
    PPMID = 5
    TYPE2 = 6

    @classmethod
    def parse(cls, text: str) -> DeviceType:
        """A device type from its name (any case; IHD and CAD mean TYPE2) or its GBCS number."""
        cleaned = text.strip()
        if cleaned.isascii() and cleaned.isdigit():
            number = int(cleaned)
            if number in cls._value2member_map_:
                return cls(number)
        else:
            key = re.sub(r"[\s_-]", "", cleaned).upper()
            if key in ("IHD", "CAD"):
                return cls.TYPE2
            if key in cls.__members__:
                return cls[key]
        valid = ", ".join(f"{t.name} ({t.value})" for t in cls)
        raise FieldError(
            "device_type",
            f"unknown device type {_shown(text)}; expected one of {valid}, or IHD/CAD for TYPE2",
        )

    @property
    def is_meter(self) -> bool:
        """A gas or electricity meter."""
        return self in (DeviceType.GSME, DeviceType.ESME)

    @property
    def links_to_chf(self) -> bool:
        """Whether a device of this type records the comms hub it belongs to."""
        # The GPF lives in the comms hub but is a device of its own with its own link.
        return self in (DeviceType.GSME, DeviceType.ESME, DeviceType.GPF)

    @property
    def security_critical(self) -> bool:
        """All types but Type 2 (IHD/CAD), which holds no security credentials."""
        return self is not DeviceType.TYPE2


class InventoryStatus(StrEnum):
    """A device's status in the Smart Metering Inventory (the DCC's register), exactly the
    values of DUIS 5.4's ``DeviceStatus``."""

    PENDING = "Pending"
    WHITELISTED = "Whitelisted"
    INSTALLED_NOT_COMMISSIONED = "InstalledNotCommissioned"
    COMMISSIONED = "Commissioned"
    DECOMMISSIONED = "Decommissioned"
    WITHDRAWN = "Withdrawn"
    SUSPENDED = "Suspended"
    RECOVERY = "Recovery"
    RECOVERED = "Recovered"

    @classmethod
    def parse(cls, text: str) -> InventoryStatus:
        """A status from its name in any case, ignoring spaces, underscores and hyphens."""
        key = re.sub(r"[\s_-]", "", text).lower()
        for status in cls:
            if status.value.lower() == key:
                return status
        valid = ", ".join(status.value for status in cls)
        legacy = " (DUIS 5.4 has no NotApplicable)" if key == LEGACY_NOT_APPLICABLE.lower() else ""
        raise FieldError(
            "inventory_status",
            f"unknown inventory status {_shown(text)}{legacy}; expected one of the DUIS 5.4 "
            f"statuses {valid}",
        )

    @classmethod
    def stored(cls, text: str) -> InventoryStatus | None:
        """A status as recorded before issue 20: "NotApplicable", which DUIS 5.4 does not have,
        reads as None (the inventory states none), so old ledger entries and rows still read."""
        return None if text == LEGACY_NOT_APPLICABLE else cls(text)

    def meaning(self) -> str:
        """What the status says of where the device is, for a refusal's reason."""
        return _STATUS_MEANINGS[self]


LEGACY_NOT_APPLICABLE = "NotApplicable"
_STATUS_MEANINGS = {
    InventoryStatus.PENDING: "it is expected to be installed",
    InventoryStatus.WHITELISTED: "it is whitelisted on a comms hub",
    InventoryStatus.INSTALLED_NOT_COMMISSIONED: "it is installed at a premises",
    InventoryStatus.COMMISSIONED: "it is live at a premises",
    InventoryStatus.DECOMMISSIONED: "it was decommissioned",
    InventoryStatus.WITHDRAWN: "it was withdrawn",
    InventoryStatus.SUSPENDED: "it is suspended",
    InventoryStatus.RECOVERY: "it is in recovery",
    InventoryStatus.RECOVERED: "it was recovered",
}


@dataclass(frozen=True, order=True)
class DeviceId:
    """A device's EUI-64 identity; ``value`` is the canonical form ``BC-33-AC-FF-FE-FA-55-3D``."""

    value: str

    def __post_init__(self) -> None:
        if DeviceId.parse(self.value).value != self.value:
            raise FieldError(
                "device_id",
                f"{_shown(self.value)} is not canonical; use DeviceId.parse to read input",
            )

    @classmethod
    def parse(cls, text: str) -> DeviceId:
        """Read an EUI-64 written with or without separators, in either case."""
        digits = _eui64_digits(text)
        canonical = "-".join(digits[i : i + 2] for i in range(0, 16, 2))
        # Bypass __post_init__: it calls parse, and this value is canonical by construction.
        device_id = object.__new__(cls)
        object.__setattr__(device_id, "value", canonical)
        return device_id

    @classmethod
    def from_int(cls, number: int) -> DeviceId:
        """The device id of a 64-bit integer."""
        if not 0 <= number < 2**64:
            raise FieldError("device_id", f"{number} is not a 64-bit unsigned integer")
        return cls.parse(f"{number:016X}")

    @property
    def as_int(self) -> int:
        """The EUI-64 as an unsigned 64-bit integer."""
        return int(self.value.replace("-", ""), 16)

    def __str__(self) -> str:
        return self.value


def _eui64_digits(text: str) -> str:
    """The 16 upper-case hex digits of an EUI-64, or a FieldError saying what is wrong."""
    cleaned = text.strip()
    if not cleaned:
        raise FieldError("device_id", f"is empty; expected an EUI-64 such as {_EXAMPLE_ID}")
    for position, char in enumerate(cleaned, start=1):
        if char not in _HEX and char not in _SEPARATORS:
            raise FieldError(
                "device_id",
                f"{_shown(text)} has {char!r} at position {position}, which is neither a hex "
                "digit nor a separator ('-', ':', '.' or space)",
            )
    separators = sorted({char for char in cleaned if char in _SEPARATORS})
    if len(separators) > 1:
        shown = " and ".join(repr(s) for s in separators)
        raise FieldError(
            "device_id", f"{_shown(text)} mixes separators {shown}; use one kind throughout"
        )
    digits = "".join(char for char in cleaned if char in _HEX)
    if len(digits) != 16:
        raise FieldError(
            "device_id",
            f"{_shown(text)} has {len(digits)} hex digits; an EUI-64 has 16, e.g. {_EXAMPLE_ID}",
        )
    if separators:
        groups = cleaned.split(separators[0])
        if {len(group) for group in groups} not in ({2}, {4}):
            raise FieldError(
                "device_id",
                f"{_shown(text)} groups its digits unevenly; separate pairs "
                f"({_EXAMPLE_ID}) or groups of four (BC33-ACFF-FEFA-553D)",
            )
    digits = digits.upper()
    if digits in ("0" * 16, "F" * 16):
        raise FieldError(
            "device_id",
            f"{_shown(text)} is the all-{digits[0] * 2} EUI-64, which is reserved and never "
            "identifies a device",
        )
    return digits


def _text_problem(value: str) -> str | None:
    """What is wrong with a free-text device attribute, if anything."""
    if not value.strip():
        return "is empty"
    if value != value.strip():
        return "has leading or trailing spaces"
    if len(value) > _MAX_TEXT:
        return f"is {len(value)} characters long; at most {_MAX_TEXT} allowed"
    if _CONTROL.search(value):
        return "contains a control character"
    return None


def _chf_link_problem(
    device_id: DeviceId, device_type: DeviceType, chf_id: DeviceId | None
) -> str | None:
    """What is wrong with a device's comms hub link, if anything."""
    if chf_id is None:
        return None
    if not device_type.links_to_chf:
        return (
            f"only a GSME, ESME or GPF records its comms hub; a {device_type.name} "
            "device has no chf_id"
        )
    if chf_id == device_id:
        return f"{chf_id} is the device's own id; a device cannot be its own comms hub"
    return None


REQUIRED_FIELDS = (
    "device_id",
    "device_type",
    "manufacturer",
    "model",
    "firmware_version",
    "inventory_status",
    "asset_owner",
)
OPTIONAL_FIELDS = ("smets_version", "chf_id")
_TEXT_FIELDS = ("manufacturer", "model", "firmware_version", "asset_owner", "smets_version")


@dataclass(frozen=True)
class Device:
    """A device as the facility knows it: identity, type, make, firmware and inventory status."""

    id: DeviceId
    type: DeviceType
    manufacturer: str
    model: str
    firmware_version: str
    inventory_status: InventoryStatus | None  # None: a legacy "NotApplicable" entry
    asset_owner: str
    smets_version: str | None = None
    chf_id: DeviceId | None = None

    def __post_init__(self) -> None:
        for name in _TEXT_FIELDS:
            value = getattr(self, name)
            if value is not None and (problem := _text_problem(value)) is not None:
                raise FieldError(name, problem)
        if (problem := _chf_link_problem(self.id, self.type, self.chf_id)) is not None:
            raise FieldError("chf_id", problem)

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> Device:
        """A device from text fields (a manifest row); raises the first bad field's FieldError."""
        device, errors = _read_fields(fields)
        if device is None:
            raise errors[0]
        return device

    @staticmethod
    def read(fields: Mapping[str, str]) -> tuple[Device | None, list[FieldError]]:
        """The device and no problems, or None and every problem, in one pass over the fields."""
        return _read_fields(fields)

    @staticmethod
    def validate_fields(fields: Mapping[str, str]) -> list[FieldError]:
        """Every problem with a set of text fields, in field order; empty when they are good."""
        return _read_fields(fields)[1]


def _parse(
    values: Mapping[str, str | None],
    key: str,
    parse: Callable[[str], _T],
    errors: list[FieldError],
) -> _T | None:
    """The parsed value of one field, or None with its problem added to ``errors``."""
    value = values.get(key)
    if value is None:
        return None
    try:
        return parse(value)
    except FieldError as error:
        # The parsers name their own field; chf_id is read by the device id parser.
        errors.append(FieldError(key, error.problem))
        return None


def _present(values: Mapping[str, str | None], key: str) -> str:
    value = values[key]
    assert value is not None, f"{key} was checked as present"
    return value


def _read_fields(fields: Mapping[str, str]) -> tuple[Device | None, list[FieldError]]:
    errors: list[FieldError] = []
    # Unknown keys are refused rather than ignored: a misspelt optional column such as
    # "chf id" would otherwise drop the comms hub link without a word.
    known = (*REQUIRED_FIELDS, *OPTIONAL_FIELDS)
    for key in fields:
        if key not in known:
            errors.append(FieldError(key, f"is not a device field; expected {', '.join(known)}"))

    values: dict[str, str | None] = {}
    for key in known:
        raw = fields.get(key)
        value = raw.strip() if raw is not None else ""
        if value:
            values[key] = value
        elif key in REQUIRED_FIELDS:
            errors.append(FieldError(key, "is missing" if raw is None else "is empty"))
        else:
            values[key] = None

    device_id = _parse(values, "device_id", DeviceId.parse, errors)
    device_type = _parse(values, "device_type", DeviceType.parse, errors)
    status = _parse(values, "inventory_status", InventoryStatus.parse, errors)
    chf_id = _parse(values, "chf_id", DeviceId.parse, errors)
    for key in _TEXT_FIELDS:
        text = values.get(key)
        if text is not None and (problem := _text_problem(text)) is not None:
            errors.append(FieldError(key, problem))
    if device_id is not None and device_type is not None:
        problem = _chf_link_problem(device_id, device_type, chf_id)
        if problem is not None:
            errors.append(FieldError("chf_id", problem))

    order = {key: index for index, key in enumerate(known)}
    errors.sort(key=lambda error: order.get(error.field, len(known)))
    if errors or device_id is None or device_type is None or status is None:
        return None, errors
    return (
        Device(
            id=device_id,
            type=device_type,
            manufacturer=_present(values, "manufacturer"),
            model=_present(values, "model"),
            firmware_version=_present(values, "firmware_version"),
            inventory_status=status,
            asset_owner=_present(values, "asset_owner"),
            smets_version=values["smets_version"],
            chf_id=chf_id,
        ),
        [],
    )
