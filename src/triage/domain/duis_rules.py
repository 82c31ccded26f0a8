"""Rules as data: which DUIS requests a device's triage outcome calls for (issue 20).

The packaged default is ``policies/duis-requests-default.yaml`` (its comments explain every
key); a facility records its own in the ledger. A rules file is checked in full when loaded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from triage.domain.bounded import InputLimitError, load_yaml
from triage.domain.device import DeviceType, FieldError, InventoryStatus
from triage.errors import InvalidInput

_MAX_BYTES = 64 * 1024
# The statuses an 8.4 UpdateDeviceStatusExceptCH may set (DUIS 5.4).
STATUSES_EXCEPT_CH = ("Pending", "InstalledNotCommissioned")
FIRMWARE_DIFFERS = "firmware_differs"


class Outcome(StrEnum):
    """The triage outcomes that may call for requests (a job's final state)."""

    RELEASED = "released"
    DESTROYED = "destroyed"
    RETURNED_TO_MANUFACTURER = "returned_to_manufacturer"


class RequestKind(StrEnum):
    UPDATE_STATUS = "update_status"
    UPDATE_DETAILS = "update_details"
    DELETE_DEVICE = "delete_device"
    DECOMMISSION = "decommission"


@dataclass(frozen=True)
class DeviceFacts:
    """What the rules look at: the device's type, its last known SMI status and firmware, and
    the firmware the facility recorded."""

    device_type: DeviceType
    smi_status: InventoryStatus | None
    firmware_version: str
    smi_firmware_version: str | None = None


@dataclass(frozen=True)
class Rule:
    kind: RequestKind
    status: str | None
    device_types: frozenset[DeviceType]
    when_status: frozenset[InventoryStatus] | None
    firmware_differs: bool

    def applies(self, facts: DeviceFacts) -> bool:
        if facts.device_type not in self.device_types:
            return False
        if self.when_status is not None and facts.smi_status not in self.when_status:
            return False
        if self.firmware_differs:
            smi = facts.smi_firmware_version
            return smi is not None and smi != facts.firmware_version
        return True


@dataclass(frozen=True)
class DuisRules:
    """The rules in force, with their text (as recorded) and its SHA-256."""

    version: str
    outcomes: Mapping[Outcome, tuple[Rule, ...]]
    source: str
    sha256: str

    def due(self, outcome: Outcome, facts: DeviceFacts) -> list[Rule]:
        """The requests ``outcome`` calls for on a device with ``facts``, in order."""
        return [rule for rule in self.outcomes.get(outcome, ()) if rule.applies(facts)]

    @classmethod
    def load(cls, source: str | bytes) -> DuisRules:
        """Rules from their YAML; InvalidInput (field ``rules``) naming what is wrong."""
        try:
            document = load_yaml(source, "rules", max_bytes=_MAX_BYTES)
        except InputLimitError as exc:
            raise _bad(str(exc)) from None
        text = source.decode("utf-8") if isinstance(source, bytes) else source
        if not isinstance(document, dict):
            raise _bad("a mapping with `version` and `outcomes`")
        _keys(document, {"version", "outcomes"}, "the rules")
        version = document.get("version")
        if not isinstance(version, str | int) or not str(version).strip():
            raise _bad("`version`: a non-empty text")
        found = document.get("outcomes")
        if not isinstance(found, dict):
            raise _bad("`outcomes`: a mapping of outcome to a list of requests")
        outcomes: dict[Outcome, tuple[Rule, ...]] = {}
        for name, listed in found.items():
            try:
                outcome = Outcome(str(name))
            except ValueError:
                raise _bad(f"outcome {name!r}: one of {_choices(Outcome)}") from None
            if not isinstance(listed, list):
                raise _bad(f"outcome {outcome.value}: a list of requests")
            outcomes[outcome] = tuple(
                _rule(item, f"{outcome.value}[{n}]") for n, item in enumerate(listed)
            )
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return cls(str(version), outcomes, text, digest)


def _rule(item: Any, where: str) -> Rule:
    if not isinstance(item, dict):
        raise _bad(f"{where}: a mapping with `request`")
    _keys(item, {"request", "status", "device_types", "when_status", "when"}, where)
    try:
        kind = RequestKind(str(item.get("request")))
    except ValueError:
        raise _bad(f"{where}: `request` is one of {_choices(RequestKind)}") from None
    status = item.get("status")
    if kind is RequestKind.UPDATE_STATUS:
        if status not in STATUSES_EXCEPT_CH:
            raise _bad(f"{where}: `status` is one of {', '.join(STATUSES_EXCEPT_CH)}")
    elif status is not None:
        raise _bad(f"{where}: only update_status takes a `status`")
    types = frozenset(t for t in DeviceType if t is not DeviceType.CHF)
    if "device_types" in item:
        types = frozenset(_parsed(DeviceType.parse, item["device_types"], where, "device_types"))
    when_status = None
    if "when_status" in item:
        when_status = frozenset(
            _parsed(InventoryStatus.parse, item["when_status"], where, "when_status")
        )
    when = item.get("when")
    if when not in (None, FIRMWARE_DIFFERS):
        raise _bad(f"{where}: `when` is {FIRMWARE_DIFFERS}")
    return Rule(kind, status, types, when_status, when == FIRMWARE_DIFFERS)


def _parsed(parse: Any, values: Any, where: str, key: str) -> list[Any]:
    if not isinstance(values, list) or not values:
        raise _bad(f"{where}: `{key}` is a non-empty list")
    try:
        return [parse(str(value)) for value in values]
    except FieldError as exc:
        raise _bad(f"{where}: `{key}`: {exc.problem}") from None


def _keys(found: Mapping[Any, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(str(k) for k in found if k not in allowed)
    if unknown:
        raise _bad(f"{where}: unknown key(s) {', '.join(unknown)}")


def _choices(kind: type[StrEnum]) -> str:
    return ", ".join(member.value for member in kind)


def _bad(problem: str) -> InvalidInput:
    return InvalidInput(f"rules: {problem}", field="rules")
