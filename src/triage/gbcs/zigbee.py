"""The GBZ payload of the ZigBee device logs (CS10a, CS10b): one ZCL command of the Events
cluster, a Publish Event Log with the entries or a Default Response with the error status.
GBZ header fields are big-endian; ZCL fields little-endian."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from triage.gbcs import times
from triage.gbcs.errors import GbcsError
from triage.gbcs.model import LogEntry, ResponseOutcome, UseCase
from triage.gbcs.reader import Reader, hex_bytes, number_bytes

GBZ_PROFILE = b"\x01\x09"
EVENTS_CLUSTER = b"\x07\x09"
# One component, which is the last (and only) one of the message, in clear.
_HEADER_CONTROL = 0x01
# Cluster-specific, server to client, default response disabled; Publish Event Log.
_PUBLISH_FRAME = 0x19
PUBLISH_EVENT_LOG = 0x01
# Profile-wide, server to client; the Default Response to a Get Event Log.
_DEFAULT_FRAME = 0x08
DEFAULT_RESPONSE = 0x0B
GET_EVENT_LOG = 0x00
NOT_FOUND = 0x8B
_NO_VALUE = 0xFF  # an octet string of length 0xFF is ZCL's "invalid", never data

LOG_IDS: Mapping[str, tuple[int, str]] = MappingProxyType(
    {"CS10a": (3, "General Event Log"), "CS10b": (4, "Security Event Log")}
)
_STATUSES: Mapping[int, str] = MappingProxyType(
    {
        0x01: "Failure",
        0x7E: "Not Authorized",
        0x80: "Malformed Command",
        0x81: "Unsupported Cluster Command",
        0x85: "Invalid Field",
        0x87: "Invalid Value",
        0x89: "Insufficient Space",
        0x8B: "Not Found",
        0xC0: "Hardware Failure",
        0xC1: "Software Failure",
    }
)


def zcl_status(status: int) -> str:
    """How a ZCL status code reads in a response's status."""
    name = _STATUSES.get(status)
    return f"ZCL status 0x{status:02X}" + (f" {name}" if name else "")


_STATUS_CODES: Mapping[str, int] = MappingProxyType(
    {zcl_status(status): status for status in range(1, 256)}
)


def decode(
    content: Reader, use_case: UseCase
) -> tuple[ResponseOutcome, str | None, tuple[LogEntry, ...]]:
    """The outcome, status and entries of the GBZ payload that fills ``content``."""
    content.expect_bytes(GBZ_PROFILE, "the GBZ profile id")
    content.expect(0x01, "one GBZ component: count")
    content.expect(_HEADER_CONTROL, "the extended header control field")
    content.expect_bytes(EVENTS_CLUSTER, "the Events cluster id")
    zcl = content.part(content.uint(2, "the GBZ command length"), "the ZCL command")
    content.finish("the GBZ payload")
    at = zcl.pos
    frame = zcl.byte("the ZCL frame control")
    zcl.byte("the ZCL transaction sequence number")
    command = zcl.byte("the ZCL command id")
    if (frame, command) == (_PUBLISH_FRAME, PUBLISH_EVENT_LOG):
        return ResponseOutcome.SUCCESS, None, _publish_event_log(zcl, use_case)
    if (frame, command) == (_DEFAULT_FRAME, DEFAULT_RESPONSE):
        zcl.expect(GET_EVENT_LOG, "the command answered, Get Event Log:")
        status_at = zcl.pos
        status = zcl.byte("the ZCL status")
        zcl.finish("the Default Response")
        if not status:
            raise GbcsError(status_at, "an error status in a Default Response", "0x00 (success)")
        outcome = ResponseOutcome.NOT_FOUND if status == NOT_FOUND else ResponseOutcome.ERROR
        return outcome, zcl_status(status), ()
    raise GbcsError(
        at,
        "a Publish Event Log (frame control 0x19, command 0x01) or a Default Response "
        "(frame control 0x08, command 0x0B)",
        f"frame control 0x{frame:02X}, command 0x{command:02X}",
    )


def _publish_event_log(zcl: Reader, use_case: UseCase) -> tuple[LogEntry, ...]:
    log_id, log_name = LOG_IDS[use_case.name]
    total_at = zcl.pos
    total = zcl.uint(2, "the number of events", little=True)
    zcl.expect(0x00, "the command index")
    zcl.expect(0x01, "the total number of commands")
    zcl.byte("the log payload control")
    entries: list[LogEntry] = []
    while zcl.left:
        number = len(entries) + 1
        at = zcl.pos
        found = zcl.byte(f"the log id of event {number}")
        if found != log_id:
            raise GbcsError(at, f"log id {log_id} ({log_name}) for {use_case.name}", str(found))
        code = zcl.uint(2, f"the event id of event {number}", little=True)
        seconds = zcl.uint(4, f"the time of event {number}", little=True)
        size_at = zcl.pos
        size = zcl.byte(f"the event data length of event {number}")
        if size == _NO_VALUE:
            raise GbcsError(size_at, "an event data length below 0xFF", "0xFF")
        data = zcl.take(size, f"the event data of event {number}").hex().upper()
        entries.append(LogEntry(code, times.from_seconds(seconds), (log_id, data)))
    if total != len(entries):
        raise GbcsError(total_at, f"the number of events that follow, {len(entries)}", str(total))
    return tuple(entries)


def encode(
    use_case: UseCase, outcome: ResponseOutcome, status: str | None, entries: tuple[LogEntry, ...]
) -> bytes:
    """The GBZ payload: a Publish Event Log of ``entries`` or a Default Response of ``status``."""
    if outcome is ResponseOutcome.SUCCESS:
        if len(entries) > 0xFFFF:
            raise GbcsError(None, "at most 65535 events", str(len(entries)))
        zcl = bytes([_PUBLISH_FRAME, 0x00, PUBLISH_EVENT_LOG]) + len(entries).to_bytes(2, "little")
        zcl += b"\x00\x01\x00" + b"".join(_event(use_case, e, n) for n, e in enumerate(entries, 1))
    else:
        code = _STATUS_CODES.get(status or "")
        wanted = ResponseOutcome.NOT_FOUND if code == NOT_FOUND else ResponseOutcome.ERROR
        if code is None or outcome is not wanted:
            raise GbcsError(
                None,
                "a ZCL error: outcome not_found with 'ZCL status 0x8B Not Found', or outcome "
                "error with another status like 'ZCL status 0xC0 Hardware Failure'",
                f"outcome {outcome.value}, status {status!r}",
            )
        zcl = bytes([_DEFAULT_FRAME, 0x00, DEFAULT_RESPONSE, GET_EVENT_LOG, code])
    if len(zcl) > 0xFFFF:
        raise GbcsError(None, "a ZCL command of at most 65535 bytes", f"{len(zcl)} bytes")
    header = GBZ_PROFILE + bytes([0x01, _HEADER_CONTROL]) + EVENTS_CLUSTER
    return header + len(zcl).to_bytes(2, "big") + zcl


def _event(use_case: UseCase, entry: LogEntry, number: int) -> bytes:
    log_id, log_name = LOG_IDS[use_case.name]
    what = f"event {number}"
    if len(entry.extra) != 2 or entry.extra[0] != log_id:
        raise GbcsError(
            None,
            f"{what}: extra (log id {log_id} ({log_name}), event data as hex)",
            repr(entry.extra),
        )
    data = hex_bytes(entry.extra[1], f"{what}: event data")
    if len(data) >= _NO_VALUE:
        raise GbcsError(None, f"{what}: at most 254 bytes of event data", f"{len(data)} bytes")
    seconds = times.to_seconds(entry.at, what)
    code = number_bytes(entry.code, 2, f"{what}: code", little=True)
    return bytes([log_id]) + code + seconds.to_bytes(4, "little") + bytes([len(data)]) + data
