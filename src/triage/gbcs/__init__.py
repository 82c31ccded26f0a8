"""GBCS 6.13 "Read Event or Security Log" responses: decoding (our own, from the message
structure), encoding, and the JSON the command line prints. Pure: no I/O, no keys; the MAC is
kept as found and not verified."""

from triage.gbcs.codes import code_name
from triage.gbcs.contract import response_to_json
from triage.gbcs.envelope import decode, encode, message_bytes
from triage.gbcs.errors import GbcsError
from triage.gbcs.model import (
    USE_CASES,
    LogEntry,
    LogKind,
    LogResponse,
    ResponseOutcome,
    UseCase,
    use_case_for,
)
from triage.gbcs.reader import parse_hex

__all__ = [
    "USE_CASES",
    "GbcsError",
    "LogEntry",
    "LogKind",
    "LogResponse",
    "ResponseOutcome",
    "UseCase",
    "code_name",
    "decode",
    "encode",
    "message_bytes",
    "parse_hex",
    "response_to_json",
    "use_case_for",
]
