"""Dispatches: devices of one asset owner leaving the facility together (issue 19 item 2).

A dispatch is opened for one asset owner and one destination: the owner itself (devices
released by triage) or the manufacturer (devices returned to it, under one RMA reference).
Stores pack it device by device, scanning each device's seal and confirming the cargo-seal
checks (VVTT: viewed, verified against the records, tugged, twisted); closing it freezes the
manifest and signs the dispatch note; the handover to a carrier is recorded; the asset owner
acknowledges what arrived, naming any discrepancy.

    open --close--> closed --hand over--> handed_over --acknowledge--> acknowledged
    open --cancel--> cancelled
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from triage.domain.lifecycle import JobState
from triage.errors import Conflict, InvalidInput

NOTE_KIND = "dispatch-note"
ACKNOWLEDGEMENT_KIND = "dispatch-acknowledgement"
MAX_DEVICES = 500  # a dispatch note is one signed document: a pallet, not a warehouse
MAX_DISCREPANCIES = MAX_DEVICES + 100
_REFERENCE = re.compile(r"^[\x21-\x7e][\x20-\x7e]{0,98}[\x21-\x7e]?$")


class DispatchState(StrEnum):
    """Where a dispatch is in its life."""

    OPEN = "open"
    CLOSED = "closed"
    HANDED_OVER = "handed_over"
    ACKNOWLEDGED = "acknowledged"
    CANCELLED = "cancelled"


class Destination(StrEnum):
    """Where the devices go."""

    ASSET_OWNER = "asset_owner"
    MANUFACTURER = "manufacturer"
    DCC = "dcc"  # communications hubs, back to the DCC under its return reference

    @property
    def job_state(self) -> JobState:
        """The state the device's latest triage job must have ended in to go there."""
        if self is Destination.MANUFACTURER:
            return JobState.RETURNED_TO_MANUFACTURER
        if self is Destination.DCC:
            return JobState.RETURNED_TO_DCC
        return JobState.RELEASED

    @property
    def reference_name(self) -> str | None:
        """What the reference of a dispatch there is (None: it carries none)."""
        return {Destination.MANUFACTURER: "RMA", Destination.DCC: "DCC return"}.get(self)


class DiscrepancyKind(StrEnum):
    """What an asset owner found wrong with a device on receipt."""

    MISSING = "missing"
    SEAL_NUMBER_MISMATCH = "seal_number_mismatch"
    SEAL_DAMAGED = "seal_damaged"
    UNEXPECTED_DEVICE = "unexpected_device"
    OTHER = "other"


CHECKS = ("viewed", "verified", "tugged", "twisted")


@dataclass(frozen=True)
class SealChecks:
    """The VVTT checks of one device's seal at packing, each confirmed yes or no."""

    viewed: bool
    verified: bool
    tugged: bool
    twisted: bool

    def failed(self) -> list[str]:
        """The checks not passed, in VVTT order."""
        return [name for name in CHECKS if not getattr(self, name)]

    def to_json(self) -> dict[str, bool]:
        return {name: bool(getattr(self, name)) for name in CHECKS}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SealChecks:
        return cls(*(bool(data[name]) for name in CHECKS))


@dataclass(frozen=True)
class PackedDevice:
    """A device packed into a dispatch, with the seal scanned and the checks confirmed."""

    device_id: str
    job_id: str
    seal_serial: str | None
    checks: SealChecks
    packed_by: str
    packed_at: datetime


@dataclass(frozen=True)
class Discrepancy:
    """One thing the asset owner found wrong on receipt."""

    device_id: str
    kind: DiscrepancyKind
    text: str
    exception_id: str | None = None

    def to_json(self) -> dict[str, str]:
        return {"device_id": self.device_id, "kind": self.kind.value, "text": self.text}


@dataclass(frozen=True)
class RefusedPacking:
    """A packing attempt whose seal checks failed: recorded, and an exception raised."""

    device_id: str
    seal_serial: str
    checks: SealChecks
    exception_id: str
    by: str
    at: datetime


@dataclass(frozen=True)
class Handover:
    """The dispatch given to a carrier."""

    carrier: str
    vehicle: str
    container_seal: str
    by: str
    at: datetime


@dataclass(frozen=True)
class Acknowledgement:
    """The asset owner's receipt of a dispatch: a signed document or a recorded act."""

    by: str
    how: str  # "signed" or "act"
    digest: str | None  # the signed acknowledgement's document digest
    at: datetime


@dataclass(frozen=True)
class Dispatch:
    """A dispatch as the projections have it."""

    id: str
    asset_owner: str
    destination: Destination
    reference: str | None  # the RMA reference of a return to the manufacturer
    state: DispatchState
    created_by: str
    created_at: datetime
    devices: tuple[PackedDevice, ...] = ()
    refused: tuple[RefusedPacking, ...] = ()
    closed_at: datetime | None = None
    manifest_digest: str | None = None
    note_digest: str | None = None
    handover: Handover | None = None
    acknowledgement: Acknowledgement | None = None
    discrepancies: tuple[Discrepancy, ...] = ()

    def device_ids(self) -> list[str]:
        return [d.device_id for d in self.devices]

    def require(self, *states: DispatchState, doing: str) -> None:
        """Conflict unless the dispatch is in one of ``states``."""
        if self.state not in states:
            wanted = " or ".join(s.value.replace("_", " ") for s in states)
            raise Conflict(
                f"dispatch {self.id} is {self.state.value.replace('_', ' ')}: "
                f"only a dispatch that is {wanted} can be {doing}"
            )


@dataclass(frozen=True)
class DispatchSummary:
    """A dispatch in a list."""

    id: str
    asset_owner: str
    destination: Destination
    reference: str | None
    state: DispatchState
    created_at: datetime
    device_count: int


def check_reference(destination: Destination, reference: str | None) -> str | None:
    """The RMA reference of a return to the manufacturer, or the DCC's return reference of a
    return to the DCC: required for a return, refused otherwise."""
    text = (reference or "").strip()
    if destination is not Destination.ASSET_OWNER:
        if not _REFERENCE.match(text):
            raise InvalidInput(
                f"reference: a return to the {destination.value.replace('_', ' ')} needs its "
                f"{destination.reference_name} reference (1-100 printable characters)",
                field="reference",
            )
        return text
    if text:
        raise InvalidInput(
            "reference: only a return (to the manufacturer or the DCC) carries a reference",
            field="reference",
        )
    return None


def parse_destination(text: str) -> Destination:
    try:
        return Destination(text.strip())
    except ValueError:
        raise InvalidInput(
            "destination: 'asset_owner' (released devices), 'manufacturer' (returned devices) "
            "or 'dcc' (communications hubs returned to the DCC)",
            field="destination",
        ) from None


def check_line(value: str, field: str, limit: int = 100) -> str:
    """One line of 1-``limit`` printable characters."""
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > limit or any(ord(c) < 32 for c in text):
        raise InvalidInput(f"{field}: 1-{limit} characters on one line", field=field)
    return text


def discrepancy(device_id: str, kind: str, text: str) -> Discrepancy:
    """One discrepancy from outside (the device id is checked by the caller)."""
    try:
        found = DiscrepancyKind(kind.strip())
    except ValueError:
        choices = ", ".join(k.value for k in DiscrepancyKind)
        raise InvalidInput(
            f"discrepancies: the kind {kind[:40]!r} is not one of {choices}", field="discrepancies"
        ) from None
    words = " ".join(text.split())
    if len(words) > 500:
        raise InvalidInput(
            "discrepancies: describe each in at most 500 characters", field="discrepancies"
        )
    if found is DiscrepancyKind.OTHER and not words:
        raise InvalidInput(
            "discrepancies: say what is wrong when the kind is 'other'", field="discrepancies"
        )
    return Discrepancy(device_id, found, words)


def check_discrepancies(dispatch: Dispatch, found: Sequence[Discrepancy]) -> list[Discrepancy]:
    """The discrepancies against what the dispatch carried: a device not in it can only be
    unexpected, a device in it cannot be; one discrepancy a device."""
    if len(found) > MAX_DISCREPANCIES:
        raise InvalidInput(f"discrepancies: at most {MAX_DISCREPANCIES}", field="discrepancies")
    packed = set(dispatch.device_ids())
    seen: set[str] = set()
    for item in found:
        if item.device_id in seen:
            raise InvalidInput(
                f"discrepancies: device {item.device_id} is named twice; give one discrepancy "
                "per device",
                field="discrepancies",
            )
        seen.add(item.device_id)
        unexpected = item.kind is DiscrepancyKind.UNEXPECTED_DEVICE
        if unexpected and item.device_id in packed:
            raise InvalidInput(
                f"discrepancies: device {item.device_id} is on the dispatch note, so it is not "
                "unexpected",
                field="discrepancies",
            )
        if not unexpected and item.device_id not in packed:
            raise InvalidInput(
                f"discrepancies: device {item.device_id} is not on the dispatch note; report it "
                "as unexpected_device",
                field="discrepancies",
            )
    return list(found)


def received_devices(dispatch: Dispatch, found: Sequence[Discrepancy]) -> list[str]:
    """The devices of the dispatch that arrived: all but those reported missing."""
    missing = {d.device_id for d in found if d.kind is DiscrepancyKind.MISSING}
    return [d for d in dispatch.device_ids() if d not in missing]


def acknowledgement_document(
    note_document: Mapping[str, Any], note_digest: str, found: Sequence[Discrepancy]
) -> dict[str, Any]:
    """What an asset owner signs to acknowledge the dispatch a note describes."""
    missing = {d.device_id for d in found if d.kind is DiscrepancyKind.MISSING}
    devices = [str(d["device_id"]) for d in note_document["manifest"]["devices"]]
    return {
        "dispatch_id": note_document["dispatch_id"],
        "asset_owner": note_document["asset_owner"],
        "note_sha256": note_digest,
        "received": [d for d in devices if d not in missing],
        "discrepancies": [d.to_json() for d in found],
    }


def read_acknowledgement(
    document: Mapping[str, Any], dispatch: Dispatch
) -> list[tuple[str, str, str]]:
    """The (device, kind, text) discrepancies of a signed acknowledgement of ``dispatch``;
    Conflict when it acknowledges another dispatch, owner or note."""
    if document.get("dispatch_id") != dispatch.id:
        raise Conflict(
            f"the acknowledgement is of dispatch {str(document.get('dispatch_id'))[:40]!r}, "
            f"not {dispatch.id}"
        )
    if document.get("asset_owner") != dispatch.asset_owner:
        raise Conflict("the acknowledgement names another asset owner than the dispatch's")
    if document.get("note_sha256") != dispatch.note_digest:
        raise Conflict(
            "the acknowledgement is of another dispatch note than the one this dispatch was "
            "closed with (its note_sha256 differs)"
        )
    items = document.get("discrepancies", [])
    if not isinstance(items, list):
        raise InvalidInput("discrepancies: a list", field="discrepancies")
    found = []
    for item in items:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) for k in ("device_id", "kind", "text")
        ):
            raise InvalidInput(
                "discrepancies: each is an object with device_id, kind and text",
                field="discrepancies",
            )
        found.append((item["device_id"], item["kind"], item["text"]))
    return found
