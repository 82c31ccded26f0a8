"""Communications hubs back to the DCC (issue 20 item 4).

A communications hub (a CHF, and the GPF that lives in the same box) belongs to the DCC, not to
the asset owner: it goes back to the DCC with a fault return (DUIS 8.14.3 ``CHFFaultReturn``)
or a no-fault return (8.14.4 ``CHFNoFaultReturn``) under the return reference the DCC gave,
never through a meter's reset path unless the facility's hub policy says so. The enumerations
hold exactly the values of the DUIS 5.4 schema's simple types of the same names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from triage.domain.device import DeviceId, DeviceType, FieldError
from triage.domain.lifecycle import TRANSITIONS, Action, JobState
from triage.errors import InvalidInput

# A CHF and its GPF are one box of the DCC's: both take the route back to the DCC, neither is
# reset unless the hub policy allows it. Only the CHF is named in the 8.14.x request.
HUB_TYPES = frozenset({DeviceType.CHF, DeviceType.GPF})
# The states a hub may go back to the DCC from: decided (or awaiting review) before any reset,
# or set aside (quarantined, or for metrology re-verification) at any later step.
RETURN_STATES = TRANSITIONS[Action.RETURN_TO_DCC].sources
MAX_USER_REF_ID = 25  # sr:UserRefID
MAX_INCIDENT_REFERENCE = 15  # sr:IncidentReference
MAX_ADDITIONAL_INFORMATION = 200  # AdditionalInformation of 8.14.3 / 8.14.4
MAX_DCC_REFERENCE = 100
_PRINTABLE = re.compile(r"^[\x20-\x7e]*$")


class ReturnKind(StrEnum):
    """A fault return (8.14.3) or a no-fault return (8.14.4)."""

    FAULT = "fault"
    NO_FAULT = "no_fault"

    @property
    def service_reference(self) -> str:
        return "8.14.3" if self is ReturnKind.FAULT else "8.14.4"


class FaultReturnType(StrEnum):
    """sr:CHFFaultReturnType."""

    PRIOR_TO_INSTALLATION = "Fault identified prior to installation"
    POST_INSTALLATION = "Fault identified post installation"


class NoFaultReturnType(StrEnum):
    """sr:CHFNoFaultReturnType."""

    GENERAL = "No Fault Return (general)"
    NON_DOM_OPT_OUT = "No Fault Return (non-dom opt out)"
    DUAL_SUPPLIER_HAN_VARIANT = "No Fault Return (dual supplier HAN variant replacement)"
    SM_WAN_VARIANT_BY_DCC = "No Fault Return (SM WAN variant replacement requested by DCC)"
    LOST_OR_STOLEN = "Lost or Stolen Hub"


class FaultReason(StrEnum):
    """sr:CHFFaultReason."""

    DAMAGED_CASE = "Damaged case"
    DAMAGED_CONNECTOR = "Damaged Connector"
    INTERFERENCE_OR_MISSING_SEALS = "Illegal interference or missing seals"
    ENVIRONMENTAL_CONDITIONS_EXCEEDED = "Environmental conditions exceeded"
    SM_WAN_FAULT = "SM WAN Fault"
    SMHAN_INTERFACE_FAULT = "SMHAN Interface Fault"
    LED_FAULT = "LED Fault"
    AERIAL_FAULT = "Aerial fault"
    MANUFACTURING_DEFECT = "Manufacturing defect"


class ConnectionMethod(StrEnum):
    """sr:CHFConnectionMethod."""

    HOT_SHOE = "Hot-shoe"
    CRADLE = "Cradle"
    ESME = "ESME"


_E = TypeVar("_E", bound=StrEnum)


def _key(text: str) -> str:
    return re.sub(r"[\s_-]+", " ", text).strip().casefold()


def parse_choice(kind: type[_E], text: str | None, field: str) -> _E:
    """The member of ``kind`` whose schema value (or name) ``text`` is, in any case and
    spacing; InvalidInput listing the schema's values otherwise."""
    given = _key(text or "")
    for member in kind:
        if given in (_key(member.value), _key(member.name)):
            return member
    values = "; ".join(m.value for m in kind)
    shown = (text or "")[:60]
    raise InvalidInput(f"{field}: {shown!r} is not one of the DUIS values: {values}", field=field)


def _optional(value: str | None, field: str, limit: int) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > limit or not _PRINTABLE.match(text):
        raise InvalidInput(
            f"{field}: at most {limit} printable characters on one line", field=field
        )
    return text


def check_dcc_reference(value: str | None) -> str:
    """The return reference the DCC gave for the hub: 1-100 printable characters."""
    text = (value or "").strip()
    if not text or len(text) > MAX_DCC_REFERENCE or not _PRINTABLE.match(text):
        raise InvalidInput(
            "dcc_reference: the DCC's return reference for the hub "
            f"(1-{MAX_DCC_REFERENCE} printable characters)",
            field="dcc_reference",
        )
    return text


def is_hub(device_type: DeviceType | int | None) -> bool:
    """Whether a device of this type is a communications hub (the DCC's)."""
    return device_type is not None and int(device_type) in {int(t) for t in HUB_TYPES}


def returnable(device_type: DeviceType | int | None, state: JobState | None) -> bool:
    """Whether a device of this type, with an open job in ``state``, may go back to the DCC
    now (what a page offers; the use case checks again)."""
    return is_hub(device_type) and state in RETURN_STATES


@dataclass(frozen=True)
class HubReturn:
    """What a hub's return to the DCC says: fault or no fault, the DUIS reason fields and the
    DCC's return reference."""

    kind: ReturnKind
    return_type: FaultReturnType | NoFaultReturnType
    dcc_reference: str
    fault_reason: FaultReason | None = None
    connection_method: ConnectionMethod | None = None
    other_device_id: str | None = None
    user_ref_id: str | None = None
    incident_reference: str | None = None
    additional_information: str | None = None

    @classmethod
    def parse(
        cls,
        kind: str,
        return_type: str | None,
        dcc_reference: str | None,
        *,
        fault_reason: str | None = None,
        connection_method: str | None = None,
        other_device_id: str | None = None,
        user_ref_id: str | None = None,
        incident_reference: str | None = None,
        additional_information: str | None = None,
    ) -> HubReturn:
        """A return from outside (a form, a command, a request body), checked field by field."""
        how = parse_choice(ReturnKind, kind, "kind")
        user_ref = _optional(user_ref_id, "user_ref_id", MAX_USER_REF_ID)
        incident = _optional(incident_reference, "incident_reference", MAX_INCIDENT_REFERENCE)
        information = _optional(
            additional_information, "additional_information", MAX_ADDITIONAL_INFORMATION
        )
        if how is ReturnKind.NO_FAULT:
            given = [
                name
                for name, value in (
                    ("fault_reason", fault_reason),
                    ("connection_method", connection_method),
                    ("other_device_id", other_device_id),
                )
                if (value or "").strip()
            ]
            if given:
                raise InvalidInput(
                    f"{given[0]}: a no-fault return (8.14.4) carries no fault reason, "
                    "connection method or other device",
                    field=given[0],
                )
            return cls(
                how,
                parse_choice(NoFaultReturnType, return_type, "return_type"),
                check_dcc_reference(dcc_reference),
                user_ref_id=user_ref,
                incident_reference=incident,
                additional_information=information,
            )
        return_as = parse_choice(FaultReturnType, return_type, "return_type")
        reason = parse_choice(FaultReason, fault_reason, "fault_reason")
        method = parse_choice(ConnectionMethod, connection_method, "connection_method")
        if not (other_device_id or "").strip():
            raise InvalidInput(
                "other_device_id: a fault return (8.14.3) names the other device the hub was "
                "connected to (its EUI-64)",
                field="other_device_id",
            )
        try:
            other = DeviceId.parse(other_device_id or "").value
        except FieldError as exc:
            raise InvalidInput(f"other_device_id: {exc.problem}", field="other_device_id") from None
        return cls(
            how,
            return_as,
            check_dcc_reference(dcc_reference),
            reason,
            method,
            other,
            user_ref,
            incident,
            information,
        )

    def as_data(self) -> dict[str, Any]:
        """What the ``device.returned_to_dcc`` entry records (its ``reference`` is the DCC's)."""
        data: dict[str, Any] = {
            "kind": self.kind.value,
            "return_type": self.return_type.value,
            "reference": self.dcc_reference,
        }
        optional = {
            "fault_reason": self.fault_reason.value if self.fault_reason else None,
            "connection_method": self.connection_method.value if self.connection_method else None,
            "other_device_id": self.other_device_id,
            "user_ref_id": self.user_ref_id,
            "incident_reference": self.incident_reference,
            "additional_information": self.additional_information,
        }
        return data | {k: v for k, v in optional.items() if v is not None}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> HubReturn:
        """The return a ``device.returned_to_dcc`` entry recorded."""
        kind = ReturnKind(data["kind"])
        types: type[FaultReturnType] | type[NoFaultReturnType] = (
            FaultReturnType if kind is ReturnKind.FAULT else NoFaultReturnType
        )
        reason = data.get("fault_reason")
        method = data.get("connection_method")
        return cls(
            kind,
            types(data["return_type"]),
            data["reference"],
            FaultReason(reason) if reason else None,
            ConnectionMethod(method) if method else None,
            data.get("other_device_id"),
            data.get("user_ref_id"),
            data.get("incident_reference"),
            data.get("additional_information"),
        )


@dataclass(frozen=True)
class HubReturnRecord:
    """A hub's recorded return to the DCC, as the projections have it."""

    job_id: str
    device_id: str
    device_type: int | None
    asset_owner: str | None
    details: HubReturn
    returned_by: str
    returned_at: datetime
    request_id: str | None = None  # the 8.14.x request produced with it, when one was


@dataclass(frozen=True)
class HubPolicy:
    """The facility's hub policy, kept as data: whether a hub may take a meter's reset path
    (by default it may not)."""

    allow_reset: bool = False
    set_by: str | None = None
    set_at: datetime | None = None
