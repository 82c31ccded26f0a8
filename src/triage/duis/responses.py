"""DUIS 5.4 responses in: the header, the response code and the two bodies the facility reads.

- 8.2 Read Inventory: ``sr:ResponseMessage/sr:DSPInventory``, 1 to 17 ``sr:Device`` elements
  (complexType ``Device`` of the DUIS schema).
- 6.13 Read Security Log (and any other GBCS answer): ``sr:ResponseMessage/sr:GBCSPayload``,
  base64 of the GBCS message.

``read_response`` refuses (DuisMalformed) what is not a DUIS response: another root or namespace,
a request, an alert, a missing element, a bad EUI, an unknown device type or status. A response
whose ResponseCode is not I0 is returned with its code and no body: the DCC did not answer with
data, and nothing in it is read as data (``succeeded`` is False).

The CHF link. DUIS's ``Device`` has no field naming a device's comms hub, so the link is derived
from what a response shows: a GSME, ESME or GPF is linked to the CHF the same response lists at
its premises, that is the one CHF with the same UPRN, or, when the response gives no UPRN for
the device or the hub, the only CHF in the response. Otherwise ``chf_id`` is None: the response
does not say.

Times: ``ResponseDateTime`` is an ``xs:dateTime``; one without a zone is read as UTC (the DCC's
clock). The response's ``ds:Signature``, if any, is not verified here.
"""

from __future__ import annotations

import base64
import binascii
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from triage.domain.device import DeviceId, DeviceType, FieldError, InventoryStatus
from triage.duis.errors import DuisMalformed
from triage.duis.xml import parse

SR = "http://www.dccinterface.co.uk/ServiceUserGateway"
SUCCESS = "I0"
READ_INVENTORY = "8.2"
READ_SECURITY_LOG = "6.13"
MAX_DEVICES = 17
DEVICE_TYPES = ("ESME", "GSME", "GPF", "CHF", "HCALCS", "PPMID", "IHD", "CAD")
_LINKED_TYPES = ("ESME", "GSME", "GPF")

_EUI = re.compile(r"[A-Fa-f0-9]{2}(-[A-Fa-f0-9]{2}){7}")
_MESSAGE_ID = re.compile(
    r"[A-Fa-f0-9]{2}(-[A-Fa-f0-9]{2}){7}:[A-Fa-f0-9]{2}(-[A-Fa-f0-9]{2}){7}:\d{1,20}"
)
_CODE = re.compile(r"[A-Z][0-9]{1,3}")
_REFERENCE = re.compile(r"\d{1,2}(\.\d{1,2}){1,3}")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(Z|[+-]\d{2}:\d{2})?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# maxLength of the DUIS simple types of the Device fields we keep
_TEXT_LIMITS = {
    "DeviceManufacturer": 30,
    "DeviceModel": 30,
    "SMETSCHTSVersion": 20,
    "DeviceFirmwareVersion": 8,
    "UPRN": 12,
}
_ROOT = "/sr:Response"
_MESSAGE = f"{_ROOT}/sr:Body/sr:ResponseMessage"


@dataclass(frozen=True)
class InventoryDevice:
    """One ``sr:Device`` of a Read Inventory response: what the DCC's inventory says of it."""

    device_id: DeviceId
    device_type: str  # the DUIS name: ESME, GSME, GPF, CHF, HCALCS, PPMID, IHD, CAD
    status: InventoryStatus | None
    manufacturer: str
    model: str
    smets_chts_version: str | None
    firmware_version: str | None
    date_commissioned: date | None
    chf_id: DeviceId | None  # derived from the response (see the module's docstring)
    uprn: str | None = None

    @property
    def gbcs_type(self) -> DeviceType:
        """The device type in the facility's (GBCS) terms; IHD and CAD are Type 2."""
        return DeviceType.parse(self.device_type)


@dataclass(frozen=True)
class DuisResponse:
    """A DUIS response: its header and, when the DCC answered I0, its body."""

    request_id: str | None
    response_id: str | None
    response_code: str
    response_datetime: datetime
    service_reference: str | None
    service_reference_variant: str | None
    inventory: tuple[InventoryDevice, ...] = ()
    gbcs_payload: bytes | None = None

    @property
    def succeeded(self) -> bool:
        """Whether the DCC answered with success (I0); any other code carries no data."""
        return self.response_code == SUCCESS

    @property
    def identity(self) -> str:
        """The response id, else the request id it answers, for a person to quote."""
        return self.response_id or self.request_id or "(no id)"


def read_response(data: bytes) -> DuisResponse:
    """The DUIS response in ``data``; DuisMalformed (a DuisError) when it is not one."""
    root = parse(data, "DUIS response")
    _check_root(root)
    header = _only(root, "Header", _ROOT)
    body = _only(root, "Body", _ROOT)
    where = f"{_ROOT}/sr:Header"
    request_id = _message_id(header, "RequestID", where)
    response_id = _message_id(header, "ResponseID", where)
    code = _text(_only(header, "ResponseCode", where), f"{where}/sr:ResponseCode")
    if not _CODE.fullmatch(code):
        raise DuisMalformed(f"{where}/sr:ResponseCode: {_shown(code)} is not a DUIS response code")
    at = _datetime(_only(header, "ResponseDateTime", where), f"{where}/sr:ResponseDateTime")
    message = _body_message(body)
    reference = _reference(message, "ServiceReference")
    variant = _reference(message, "ServiceReferenceVariant")
    response = DuisResponse(request_id, response_id, code, at, reference, variant)
    if not response.succeeded:
        return response
    inventory = _optional(message, "DSPInventory", _MESSAGE)
    payload = _optional(message, "GBCSPayload", _MESSAGE)
    return DuisResponse(
        request_id,
        response_id,
        code,
        at,
        reference,
        variant,
        inventory=_inventory(inventory) if inventory is not None else (),
        gbcs_payload=_payload(payload) if payload is not None else None,
    )


# -- the envelope ---------------------------------------------------------------------------


def _tag(name: str) -> str:
    return f"{{{SR}}}{name}"


def _check_root(root: ET.Element) -> None:
    if root.tag == _tag("Response"):
        return
    if root.tag == _tag("Request"):
        raise DuisMalformed(
            "DUIS response: the file is a DUIS request (sr:Request), not a response: give the "
            "DCC's response to it (sr:Response)"
        )
    namespace, _, local = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", "")
    if local == "Response":
        raise DuisMalformed(
            f"DUIS response: the root element Response is in namespace {_shown(namespace)}, "
            f"not the DUIS namespace {SR}"
        )
    raise DuisMalformed(
        f"DUIS response: the root element is {_shown(root.tag)}, not sr:Response (namespace {SR})"
    )


def _body_message(body: ET.Element) -> ET.Element:
    where = f"{_ROOT}/sr:Body"
    kinds = [child.tag for child in body]
    if _tag("ResponseMessage") in kinds:
        return _only(body, "ResponseMessage", where)
    if kinds and kinds[0] in (_tag("DeviceAlertMessage"), _tag("DCCAlertMessage")):
        raise DuisMalformed(f"{where}: the file is an alert, not a response message")
    raise DuisMalformed(f"{where}: sr:ResponseMessage is missing")


def _children(parent: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in parent if child.tag == _tag(name)]


def _optional(parent: ET.Element, name: str, where: str) -> ET.Element | None:
    found = _children(parent, name)
    if len(found) > 1:
        raise DuisMalformed(f"{where}/sr:{name}: appears {len(found)} times; expected once")
    return found[0] if found else None


def _only(parent: ET.Element, name: str, where: str) -> ET.Element:
    found = _optional(parent, name, where)
    if found is None:
        raise DuisMalformed(f"{where}/sr:{name}: is missing")
    return found


def _text(element: ET.Element, where: str) -> str:
    if len(element):
        raise DuisMalformed(f"{where}: expected text, found elements")
    text = (element.text or "").strip()
    if not text:
        raise DuisMalformed(f"{where}: is empty")
    if _CONTROL.search(text):
        raise DuisMalformed(f"{where}: contains a control character")
    return text


def _message_id(header: ET.Element, name: str, where: str) -> str | None:
    element = _optional(header, name, where)
    if element is None:
        return None
    text = _text(element, f"{where}/sr:{name}")
    if not _MESSAGE_ID.fullmatch(text):
        raise DuisMalformed(
            f"{where}/sr:{name}: {_shown(text)} is not a DUIS message id "
            "(originator EUI:target EUI:counter)"
        )
    return text.upper()


def _datetime(element: ET.Element, where: str) -> datetime:
    text = _text(element, where)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise DuisMalformed(f"{where}: {_shown(text)} is not an xs:dateTime") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _reference(message: ET.Element, name: str) -> str:
    where = f"{_MESSAGE}/sr:{name}"
    text = _text(_only(message, name, _MESSAGE), where)
    if not _REFERENCE.fullmatch(text):
        raise DuisMalformed(f"{where}: {_shown(text)} is not a DUIS service reference")
    return text


def _payload(element: ET.Element) -> bytes:
    where = f"{_MESSAGE}/sr:GBCSPayload"
    text = "".join(_text(element, where).split())
    try:
        payload = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise DuisMalformed(f"{where}: not base64") from None
    if not payload:
        raise DuisMalformed(f"{where}: is empty")
    return payload


# -- the inventory --------------------------------------------------------------------------


def _inventory(element: ET.Element) -> tuple[InventoryDevice, ...]:
    where = f"{_MESSAGE}/sr:DSPInventory"
    devices = _children(element, "Device")
    if not devices:
        raise DuisMalformed(f"{where}: lists no sr:Device")
    if len(devices) > MAX_DEVICES:
        raise DuisMalformed(
            f"{where}: lists {len(devices)} devices; DUIS allows at most {MAX_DEVICES}"
        )
    read = [_device(device, f"{where}/sr:Device[{n}]") for n, device in enumerate(devices, 1)]
    seen: set[DeviceId] = set()
    for n, device in enumerate(read, 1):
        if device.device_id in seen:
            raise DuisMalformed(
                f"{where}/sr:Device[{n}]/sr:DeviceID: {device.device_id} is listed twice"
            )
        seen.add(device.device_id)
    return tuple(_linked(device, read) for device in read)


def _device(element: ET.Element, where: str) -> InventoryDevice:
    id_text = _text(_only(element, "DeviceID", where), f"{where}/sr:DeviceID")
    if not _EUI.fullmatch(id_text):
        raise DuisMalformed(
            f"{where}/sr:DeviceID: {_shown(id_text)} is not an EUI-64 written as DUIS has it "
            "(eight hex pairs separated by '-')"
        )
    try:
        device_id = DeviceId.parse(id_text)
    except FieldError as exc:
        raise DuisMalformed(f"{where}/sr:DeviceID: {exc.problem}") from None
    kind = _text(_only(element, "DeviceType", where), f"{where}/sr:DeviceType")
    if kind not in DEVICE_TYPES:
        raise DuisMalformed(
            f"{where}/sr:DeviceType: {_shown(kind)} is not a DUIS 5.4 device type; expected "
            f"one of {', '.join(DEVICE_TYPES)}"
        )
    status_element = _optional(element, "DeviceStatus", where)
    status = None
    if status_element is not None:
        status = _status(_text(status_element, f"{where}/sr:DeviceStatus"), where)
    commissioned = _optional(element, "DateCommissioned", where)
    return InventoryDevice(
        device_id=device_id,
        device_type=kind,
        status=status,
        manufacturer=_field(element, "DeviceManufacturer", where, required=True) or "",
        model=_field(element, "DeviceModel", where, required=True) or "",
        smets_chts_version=_field(element, "SMETSCHTSVersion", where),
        firmware_version=_field(element, "DeviceFirmwareVersion", where),
        date_commissioned=(
            _date(commissioned, f"{where}/sr:DateCommissioned")
            if commissioned is not None
            else None
        ),
        chf_id=None,
        uprn=_field(element, "UPRN", where),
    )


def _status(text: str, where: str) -> InventoryStatus:
    for status in InventoryStatus:
        if status.value == text:
            return status
    valid = ", ".join(status.value for status in InventoryStatus)
    raise DuisMalformed(
        f"{where}/sr:DeviceStatus: {_shown(text)} is not a DUIS 5.4 device status; expected "
        f"one of {valid}"
    )


def _field(element: ET.Element, name: str, where: str, *, required: bool = False) -> str | None:
    found = _optional(element, name, where)
    if found is None:
        if required:
            raise DuisMalformed(f"{where}/sr:{name}: is missing")
        return None
    if len(found):
        raise DuisMalformed(f"{where}/sr:{name}: expected text, found elements")
    # DeviceManufacturer and DeviceModel may be empty in DUIS (maxLength only).
    text = (found.text or "").strip()
    if _CONTROL.search(text):
        raise DuisMalformed(f"{where}/sr:{name}: contains a control character")
    limit = _TEXT_LIMITS[name]
    if len(text) > limit:
        raise DuisMalformed(
            f"{where}/sr:{name}: {len(text)} characters; DUIS allows at most {limit}"
        )
    return text if text or required else None


def _date(element: ET.Element, where: str) -> date:
    text = _text(element, where)
    match = _DATE.fullmatch(text)
    try:
        if match is not None:
            return date.fromisoformat(match.group(1))
    except ValueError:
        pass
    raise DuisMalformed(f"{where}: {_shown(text)} is not an xs:date")


def _linked(device: InventoryDevice, listed: list[InventoryDevice]) -> InventoryDevice:
    """The device with its CHF link, derived as the module's docstring says."""
    if device.device_type not in _LINKED_TYPES:
        return device
    hubs = [other for other in listed if other.device_type == "CHF"]
    if device.uprn is not None:
        candidates = [hub for hub in hubs if hub.uprn == device.uprn]
        if not candidates and len(hubs) == 1 and hubs[0].uprn is None:
            candidates = hubs
    else:
        candidates = hubs if len(hubs) == 1 else []
    if len(candidates) != 1:
        return device
    return replace(device, chf_id=candidates[0].device_id)


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")
