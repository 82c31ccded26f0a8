"""The DLMS payload of the ESME and CHF logs (ECS35a..g): an Access Response whose one result is
a compact-array of the log's entries, or null data and the Data Access Result of an error."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from triage.gbcs import times
from triage.gbcs.errors import GbcsError
from triage.gbcs.model import LogEntry, ResponseOutcome, UseCase
from triage.gbcs.reader import Reader, der_length, hex_bytes, number_bytes

ACCESS_RESPONSE = 0xDA
COMPACT_ARRAY = 0x13
STRUCTURE = 0x02
NULL_DATA = 0x00
DOUBLE_LONG_UNSIGNED = 0x06
LONG_UNSIGNED = 0x12
OCTET_STRING = 0x09
ENUM = 0x16
# Bit 29 of the long-invoke-id-and-priority as GBCS devices set it; the invoke id is the low
# 24 bits of the originator counter.
_PRIORITY = 0x20000000
_INVOKE_ID = 0x00FFFFFF

_TYPE_NAMES: Mapping[int, str] = MappingProxyType(
    {
        DOUBLE_LONG_UNSIGNED: "double-long-unsigned",
        LONG_UNSIGNED: "long-unsigned",
        OCTET_STRING: "octet-string",
        ENUM: "enum",
    }
)
_NUMBER_SIZES: Mapping[int, int] = MappingProxyType(
    {DOUBLE_LONG_UNSIGNED: 4, LONG_UNSIGNED: 2, ENUM: 1}
)
# Each entry is [0] time, [1] code, then the fields of its log.
_ENTRY_START = (DOUBLE_LONG_UNSIGNED, LONG_UNSIGNED)
EXTRA_FIELDS: Mapping[str, tuple[int, ...]] = MappingProxyType(
    {
        "ECS35a": (OCTET_STRING,),
        "ECS35b": (),
        "ECS35c": (OCTET_STRING,),
        "ECS35d": (),
        "ECS35e": (DOUBLE_LONG_UNSIGNED,),
        "ECS35f": (ENUM, DOUBLE_LONG_UNSIGNED),
        "ECS35g": (ENUM, DOUBLE_LONG_UNSIGNED),
    }
)
_RESULTS: Mapping[int, str] = MappingProxyType(
    {
        1: "hardware fault",
        2: "temporary failure",
        3: "read-write denied",
        4: "object undefined",
        9: "object class inconsistent",
        11: "object unavailable",
        12: "type unmatched",
        13: "scope of access violated",
        14: "data block unavailable",
        15: "long get aborted",
        16: "no long get in progress",
        17: "long set aborted",
        18: "no long set in progress",
        19: "data block number invalid",
        250: "other reason",
    }
)


def result_status(result: int) -> str:
    """How a DLMS Data Access Result reads in a response's status."""
    name = _RESULTS.get(result)
    return f"DLMS data access result {result}" + (f" ({name})" if name else "")


_STATUS_RESULTS: Mapping[str, int] = MappingProxyType(
    {result_status(result): result for result in range(1, 256)}
)


def _types_text(types: tuple[int, ...]) -> str:
    return "{" + ", ".join(_TYPE_NAMES.get(t, f"type 0x{t:02X}") for t in types) + "}"


def decode(
    content: Reader, use_case: UseCase, counter: int
) -> tuple[ResponseOutcome, str | None, tuple[LogEntry, ...]]:
    """The outcome, status and entries of the Access Response that fills ``content``."""
    content.expect(ACCESS_RESPONSE, "the DLMS Access Response tag")
    at = content.pos
    invoke = content.uint(4, "the long-invoke-id-and-priority") & _INVOKE_ID
    if invoke != counter & _INVOKE_ID:
        wanted = f"the originator counter's low 24 bits, 0x{counter & _INVOKE_ID:06X}"
        raise GbcsError(at, f"an invoke id equal to {wanted}", f"0x{invoke:06X}")
    content.expect(0x00, "an absent date-time: length")
    content.expect(0x00, "an absent access-request-specification:")
    content.expect(0x01, "one result in the list of data: count")
    data_at = content.pos
    tag = content.byte("the result data")
    entries: tuple[LogEntry, ...] = ()
    if tag == COMPACT_ARRAY:
        entries = _compact_array(content, use_case)
    elif tag != NULL_DATA:
        raise GbcsError(data_at, "a compact-array (0x13) or null data (0x00)", f"0x{tag:02X}")
    content.expect(0x01, "one access-response-specification: count")
    content.expect(0x01, "the access-response-get choice")
    result_at = content.pos
    result = content.byte("the Data Access Result")
    content.finish("the DLMS Access Response")
    if tag == COMPACT_ARRAY:
        if result:
            raise GbcsError(
                result_at, "Data Access Result 0x00 (success) with the log", str(result)
            )
        return ResponseOutcome.SUCCESS, None, entries
    if not result:
        raise GbcsError(result_at, "a Data Access Result naming the error of null data", "0")
    return ResponseOutcome.ERROR, result_status(result), ()


def _compact_array(content: Reader, use_case: UseCase) -> tuple[LogEntry, ...]:
    fields = _ENTRY_START + EXTRA_FIELDS[use_case.name]
    at = content.pos
    content.expect(STRUCTURE, "a structure in the compact-array type description:")
    count = content.byte("the number of fields of an entry")
    types = tuple(content.byte("a field type") for _ in range(count))
    if types != fields:
        raise GbcsError(
            at, f"the {use_case.name} entry type {_types_text(fields)}", _types_text(types)
        )
    body = content.part(content.length("the compact-array contents length"), "the log entries")
    entries: list[LogEntry] = []
    while body.left:
        number = len(entries) + 1
        seconds = body.uint(4, f"the time of entry {number}")
        code = body.uint(2, f"the code of entry {number}")
        extra = tuple(_field(body, kind, number) for kind in fields[2:])
        entries.append(LogEntry(code, times.from_seconds(seconds), extra))
    return tuple(entries)


def _field(body: Reader, kind: int, number: int) -> int | str:
    what = f"the {_TYPE_NAMES[kind]} of entry {number}"
    if kind == OCTET_STRING:
        return body.take(body.length(f"{what}: length"), what).hex().upper()
    return body.uint(_NUMBER_SIZES[kind], what)


def encode(
    use_case: UseCase,
    counter: int,
    outcome: ResponseOutcome,
    status: str | None,
    entries: tuple[LogEntry, ...],
) -> bytes:
    """The Access Response carrying ``entries``, or the error that ``status`` names."""
    head = bytes([ACCESS_RESPONSE]) + (_PRIORITY | counter & _INVOKE_ID).to_bytes(4, "big")
    head += b"\x00\x00\x01"
    if outcome is ResponseOutcome.SUCCESS:
        fields = _ENTRY_START + EXTRA_FIELDS[use_case.name]
        body = b"".join(_entry(entry, fields, n) for n, entry in enumerate(entries, 1))
        description = bytes([COMPACT_ARRAY, STRUCTURE, len(fields), *fields])
        return head + description + der_length(len(body)) + body + b"\x01\x01\x00"
    result = _STATUS_RESULTS.get(status or "")
    if outcome is not ResponseOutcome.ERROR or result is None:
        raise GbcsError(
            None,
            "a DLMS error: outcome error and a status like 'DLMS data access result 1 "
            "(hardware fault)'",
            f"outcome {outcome.value}, status {status!r}",
        )
    return head + bytes([NULL_DATA, 0x01, 0x01, result])


def _entry(entry: LogEntry, fields: tuple[int, ...], number: int) -> bytes:
    seconds = times.to_seconds(entry.at, f"entry {number}")
    out = seconds.to_bytes(4, "big") + number_bytes(entry.code, 2, f"entry {number}: code")
    extra_fields = fields[2:]
    if len(entry.extra) != len(extra_fields):
        raise GbcsError(
            None, f"entry {number}: extra fields {_types_text(extra_fields)}", repr(entry.extra)
        )
    for kind, value in zip(extra_fields, entry.extra, strict=True):
        what = f"entry {number}: {_TYPE_NAMES[kind]}"
        if kind == OCTET_STRING:
            raw = hex_bytes(value, what)
            out += der_length(len(raw)) + raw
        else:
            out += number_bytes(value, _NUMBER_SIZES[kind], what)
    return out
