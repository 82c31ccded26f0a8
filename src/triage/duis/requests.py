"""DUIS requests out, typed: 8.4 Update Inventory, 8.3 Decommission, 8.14.3 and 8.14.4 comms
hub returns.

``render`` builds the ``sr:Request`` with ``xml.etree`` (values are element text, escaped by
the serialiser, never pasted into markup) and no ``ds:Signature``: only a DCC User in an
eligible role may submit these requests, and it signs them with its own key when it does. The
facility hands the unsigned files over.

The RequestID is ``originator:target:counter`` (DUIS): the originator is the EUI-64 of the DCC
User who will submit the request, the target the DCC's EUI-64, the counter a number the
producer keeps strictly increasing per originator. The DCC User may renumber a request when it
signs it (its own counter must increase across everything it sends); the digest recorded here
is then that of the file as we wrote it.

Nothing here checks the values against the schema: ``triage.duis.schema`` does, and names the
element at fault. ``render`` refuses only what XML cannot carry (a control character) or a
request that says nothing, with the same DuisSchemaError.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from triage.duis.errors import DuisSchemaError

SR = "http://www.dccinterface.co.uk/ServiceUserGateway"
SCHEMA_VERSION = "5.4"
# CommandVariant 8: a non-device service request, answered by the DCC itself.
COMMAND_VARIANT = "8"
# Characters XML 1.0 cannot carry in element text.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

ET.register_namespace("sr", SR)


@dataclass(frozen=True)
class UpdateDeviceStatus:
    """8.4 Update Inventory of a device's SMI status (``UpdateDeviceStatusCH`` for a comms
    hub, ``UpdateDeviceStatusExceptCH`` otherwise)."""

    device_id: str
    status: str
    comms_hub: bool


@dataclass(frozen=True)
class UpdateDeviceDetails:
    """8.4 Update Inventory of a device's details; only the details given are sent."""

    device_id: str
    manufacturer: str | None = None
    model: str | None = None
    smets_chts_version: str | None = None
    firmware_version: str | None = None


@dataclass(frozen=True)
class DeleteDevice:
    """8.4 Update Inventory: delete the device from the Smart Metering Inventory."""

    device_id: str


@dataclass(frozen=True)
class Decommission:
    """8.3 Decommission Device."""

    device_id: str


@dataclass(frozen=True)
class ChfFaultReturn:
    """8.14.3 Communications Hub Status Update: fault return."""

    device_id: str
    return_type: str
    other_device_id: str
    connection_method: str
    fault_reason: str
    user_ref_id: str | None = None
    incident_reference: str | None = None
    additional_information: str | None = None


@dataclass(frozen=True)
class ChfNoFaultReturn:
    """8.14.4 Communications Hub Status Update: no-fault return."""

    device_id: str
    return_type: str
    user_ref_id: str | None = None
    incident_reference: str | None = None
    additional_information: str | None = None


ServiceRequest = (
    UpdateDeviceStatus
    | UpdateDeviceDetails
    | DeleteDevice
    | Decommission
    | ChfFaultReturn
    | ChfNoFaultReturn
)


def service_reference(request: ServiceRequest) -> str:
    """The DUIS service reference variant of ``request``: 8.4, 8.3, 8.14.3 or 8.14.4 (the
    header's ServiceReference is its first two parts: 8.14 for both hub returns)."""
    if isinstance(request, Decommission):
        return "8.3"
    if isinstance(request, ChfFaultReturn):
        return "8.14.3"
    if isinstance(request, ChfNoFaultReturn):
        return "8.14.4"
    return "8.4"


def describe(request: ServiceRequest) -> str:
    """What the request asks, in a few words (for lists and manifests)."""
    if isinstance(request, UpdateDeviceStatus):
        return f"Update Inventory: status {request.status}"
    if isinstance(request, UpdateDeviceDetails):
        return "Update Inventory: device details"
    if isinstance(request, DeleteDevice):
        return "Update Inventory: delete device"
    if isinstance(request, Decommission):
        return "Decommission"
    if isinstance(request, ChfFaultReturn):
        return "Comms hub fault return"
    return "Comms hub no-fault return"


class _Builder:
    """Appends ``sr:`` elements, refusing text XML cannot carry and naming where it was."""

    def __init__(self, root: str) -> None:
        self.root = ET.Element(f"{{{SR}}}{root}", {"schemaVersion": SCHEMA_VERSION})

    def add(self, parent: ET.Element, path: str, name: str, text: str | None = None) -> ET.Element:
        child = ET.SubElement(parent, f"{{{SR}}}{name}")
        if text is not None:
            if _NOT_XML.search(text):
                raise DuisSchemaError(f"{path}/sr:{name}", "contains a character XML cannot carry")
            child.text = text
        return child

    def optional(self, parent: ET.Element, path: str, name: str, text: str | None) -> None:
        if text is not None:
            self.add(parent, path, name, text)


def render(request: ServiceRequest, request_id: str) -> bytes:
    """The unsigned ``sr:Request`` for ``request`` numbered ``request_id``, as UTF-8 XML."""
    reference = service_reference(request)
    built = _Builder("Request")
    root, top = built.root, "/sr:Request"
    header = built.add(root, top, "Header")
    head = f"{top}/sr:Header"
    built.add(header, head, "RequestID", request_id)
    built.add(header, head, "CommandVariant", COMMAND_VARIANT)
    # The header names the service request (8.14) and its variant (8.14.3) apart.
    built.add(header, head, "ServiceReference", ".".join(reference.split(".")[:2]))
    built.add(header, head, "ServiceReferenceVariant", reference)
    body = built.add(root, top, "Body")
    _body(built, body, f"{top}/sr:Body", request)
    xml: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return xml + b"\n"


def _body(built: _Builder, body: ET.Element, path: str, request: ServiceRequest) -> None:
    if isinstance(request, Decommission):
        where = built.add(body, path, "DecommissionDevice")
        built.add(where, f"{path}/sr:DecommissionDevice", "DeviceID", request.device_id)
    elif isinstance(request, ChfFaultReturn):
        _fault_return(built, built.add(body, path, "CHFFaultReturn"), path, request)
    elif isinstance(request, ChfNoFaultReturn):
        _no_fault_return(built, built.add(body, path, "CHFNoFaultReturn"), path, request)
    else:
        _update_inventory(built, built.add(body, path, "UpdateInventory"), path, request)


def _update_inventory(
    built: _Builder,
    update: ET.Element,
    path: str,
    request: UpdateDeviceStatus | UpdateDeviceDetails | DeleteDevice,
) -> None:
    at = f"{path}/sr:UpdateInventory"
    built.add(update, at, "DeviceID", request.device_id)
    if isinstance(request, UpdateDeviceStatus):
        name = "UpdateDeviceStatusCH" if request.comms_hub else "UpdateDeviceStatusExceptCH"
        built.add(update, at, name, request.status)
    elif isinstance(request, DeleteDevice):
        built.add(update, at, "DeleteDevice")
    else:
        details = (
            ("DeviceManufacturer", request.manufacturer),
            ("DeviceModel", request.model),
            ("SMETSCHTSVersion", request.smets_chts_version),
            ("FirmwareVersion", request.firmware_version),
        )
        if all(value is None for _, value in details):
            raise DuisSchemaError(f"{at}/sr:UpdateDeviceDetails", "names no detail to update")
        element = built.add(update, at, "UpdateDeviceDetails")
        for name, value in details:
            built.optional(element, f"{at}/sr:UpdateDeviceDetails", name, value)


def _fault_return(built: _Builder, element: ET.Element, path: str, request: ChfFaultReturn) -> None:
    at = f"{path}/sr:CHFFaultReturn"
    built.add(element, at, "DeviceID", request.device_id)
    built.add(element, at, "CHFFaultReturnType", request.return_type)
    built.optional(element, at, "UserRefID", request.user_ref_id)
    built.add(element, at, "OtherDeviceID", request.other_device_id)
    built.optional(element, at, "IncidentReference", request.incident_reference)
    built.add(element, at, "CHFConnectionMethod", request.connection_method)
    built.add(element, at, "CHFFaultReason", request.fault_reason)
    built.optional(element, at, "AdditionalInformation", request.additional_information)


def _no_fault_return(
    built: _Builder, element: ET.Element, path: str, request: ChfNoFaultReturn
) -> None:
    at = f"{path}/sr:CHFNoFaultReturn"
    built.add(element, at, "DeviceID", request.device_id)
    built.add(element, at, "CHFNoFaultReturnType", request.return_type)
    built.optional(element, at, "UserRefID", request.user_ref_id)
    built.optional(element, at, "IncidentReference", request.incident_reference)
    built.optional(element, at, "AdditionalInformation", request.additional_information)
