"""What a 6.13 "Read Event or Security Log" response says: its use case, the device that sent
it, the outcome and the log entries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from triage.gbcs.codes import code_hex
from triage.gbcs.errors import GbcsError


class LogKind(StrEnum):
    """Which of the device's logs a use case reads."""

    SECURITY = "security"
    EVENT = "event"
    POWER_EVENT = "power event"
    ALCS_EVENT = "ALCS event"


class ResponseOutcome(StrEnum):
    """What the device answered: its log, an error, or that it found no entries."""

    SUCCESS = "success"
    ERROR = "error"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class UseCase:
    """A GBCS use case of DUIS service request 6.13; its message code names it in a message."""

    name: str
    message_code: int
    title: str
    log: LogKind
    device_class: str
    encoding: str


def _use_cases(*cases: UseCase) -> Mapping[str, UseCase]:
    return MappingProxyType({case.name: case for case in cases})


_ZIGBEE = "ZigBee device"
USE_CASES: Mapping[str, UseCase] = _use_cases(
    UseCase("CS10a", 0x0014, "Read ZigBee Device Event Log", LogKind.EVENT, _ZIGBEE, "zigbee"),
    UseCase(
        "CS10b", 0x00A1, "Read ZigBee Device Security Log", LogKind.SECURITY, _ZIGBEE, "zigbee"
    ),
    UseCase("ECS35a", 0x0048, "Read ESME Event Log", LogKind.EVENT, "ESME", "dlms"),
    UseCase("ECS35b", 0x0049, "Read ESME Security Log", LogKind.SECURITY, "ESME", "dlms"),
    UseCase("ECS35c", 0x0093, "Read CHF Event Log", LogKind.EVENT, "CHF", "dlms"),
    UseCase("ECS35d", 0x0094, "Read CHF Security Log", LogKind.SECURITY, "CHF", "dlms"),
    UseCase("ECS35e", 0x00B9, "Read ESME Power Event Log", LogKind.POWER_EVENT, "ESME", "dlms"),
    UseCase("ECS35f", 0x00BA, "Read ALCS Event Log", LogKind.ALCS_EVENT, "ESME", "dlms"),
    UseCase("ECS35g", 0x00FD, "Read ALCS Event Log", LogKind.ALCS_EVENT, "ESME", "dlms"),
)
BY_MESSAGE_CODE: Mapping[int, UseCase] = MappingProxyType(
    {case.message_code: case for case in USE_CASES.values()}
)

_SECURITY_LOG_OF: Mapping[str, str] = MappingProxyType(
    {
        "ESME": "ECS35b",
        "CHF": "ECS35d",
        "GSME": "CS10b",
        "GPF": "CS10b",
        "PPMID": "CS10b",
        "HCALCS": "CS10b",
    }
)


def use_case_for(device_type: str) -> UseCase:
    """The use case that reads the security log of a device of this type (a triage device type
    name: ESME, CHF, GSME, GPF, PPMID, HCALCS). A Type 2 device (IHD, CAD) holds no GBCS
    security credentials and keeps no security log."""
    name = _SECURITY_LOG_OF.get(device_type.strip().upper())
    if name is None:
        if device_type.strip().upper() in ("TYPE2", "IHD", "CAD"):
            raise GbcsError(
                None,
                "a device type with a GBCS security log: a Type 2 device (IHD, CAD) keeps none",
                device_type,
            )
        known = ", ".join(_SECURITY_LOG_OF)
        raise GbcsError(None, f"a device type with a GBCS security log ({known})", device_type)
    return USE_CASES[name]


@dataclass(frozen=True)
class LogEntry:
    """One entry of a log: its event or alert code, its UTC time (whole seconds) and the rest of
    the entry as the device sent it (DLMS: the remaining fields, octet strings as upper-case
    hex; ZigBee: the log id and the event data as hex)."""

    code: int
    at: datetime
    extra: tuple[int | str, ...] = ()

    @property
    def hex(self) -> str:
        """The code as ``0x`` and four upper-case hex digits."""
        return code_hex(self.code)


@dataclass(frozen=True)
class LogResponse:
    """A decoded 6.13 response. The MAC is kept as found: it is not verified (only the
    recipient, with its private key-agreement key, can check it).

    ``requester`` and ``requester_counter`` appear only in a response that the DCC Access Control
    Broker receives for another party (the CHF logs): that party and its request's counter."""

    use_case: UseCase
    originator: str
    recipient: str
    originator_counter: int
    outcome: ResponseOutcome
    status: str | None
    entries: tuple[LogEntry, ...]
    mac: bytes
    requester: str | None = None
    requester_counter: int | None = None

    @property
    def device_id(self) -> str:
        """The device that sent the response (its EUI-64)."""
        return self.originator

    @property
    def is_security_log(self) -> bool:
        """Whether this answers a security-log use case (CS10b, ECS35b, ECS35d)."""
        return self.use_case.log is LogKind.SECURITY
