"""The GBCS envelope of a 6.13 response: General Ciphering (MAC only, the payload in clear)
around General Signing, whose header names the device, the recipient and the use case.

    DD 00 00 00 00 00 00          General Ciphering, its own header fields empty
    <length>                      ciphered service length: everything after it
    11 00 00 00 00                security header: MAC only, invocation counter 0
    DF 09 02 <counter: 8>         General Signing; transaction id = CRA flag 02 + counter
    08 <originator: 8>            the device's EUI-64
    08 <recipient: 8>             the remote party's
    00                            no date-time
    <length> <message code: 2>    other information (+ requester and its counter via the ACB)
    <length> <payload>            DLMS (ECS35x) or GBZ (CS10x)
    00                            no signature: responses are not signed
    <MAC: 12>                     AES-GCM tag, kept as found
"""

from __future__ import annotations

from triage.gbcs import dlms, zigbee
from triage.gbcs.errors import GbcsError
from triage.gbcs.model import BY_MESSAGE_CODE, USE_CASES, LogEntry, LogResponse, ResponseOutcome
from triage.gbcs.reader import Reader, der_length, eui64, eui64_bytes, number_bytes, parse_hex

GENERAL_CIPHERING = 0xDD
GENERAL_SIGNING = 0xDF
_EMPTY_CIPHERING_FIELDS = bytes(6)
_SECURITY_HEADER = b"\x11\x00\x00\x00\x00"
_TRANSACTION_ID_LENGTH = 0x09
RESPONSE = 0x02
_CRA_FLAGS = {0x01: "command", 0x02: "response", 0x03: "alert"}
MAC_SIZE = 12
_EUI64_LENGTH = 0x08
_OTHER_INFORMATION = {2: "the message code", 18: "the message code, requester and its counter"}


def message_bytes(message: bytes | str) -> bytes:
    """The raw bytes of a message given as raw bytes or as hex text (a str, or the bytes of a
    file of printable text). A raw message starts with 0xDD, never an ASCII character, so the
    two cannot be confused."""
    if isinstance(message, str):
        return parse_hex(message)
    data = bytes(message)
    if data[:1] == bytes([GENERAL_CIPHERING]) or not data.isascii():
        return data
    text = data.decode("ascii")
    if all(char.isprintable() or char.isspace() for char in text):
        return parse_hex(text)
    return data


def decode(message: bytes | str) -> LogResponse:
    """A 6.13 "Read Event or Security Log" response, as raw bytes or as hex text."""
    data = message_bytes(message)
    msg = Reader(data)
    msg.expect(GENERAL_CIPHERING, "the General Ciphering tag")
    msg.expect_bytes(_EMPTY_CIPHERING_FIELDS, "the empty General Ciphering fields")
    at = msg.pos
    length = msg.length("the ciphered service length")
    if length != msg.left:
        raise GbcsError(at, f"a ciphered service length of {msg.left} (what follows)", str(length))
    at = msg.pos
    if data[at : at + 1] == b"\x31":
        raise GbcsError(at, "security control 0x11 (MAC only)", "0x31 (the payload is encrypted)")
    msg.expect_bytes(_SECURITY_HEADER, "the security header (MAC only)")
    msg.expect(GENERAL_SIGNING, "the General Signing tag")
    msg.expect(_TRANSACTION_ID_LENGTH, "the transaction id length")
    at = msg.pos
    cra = msg.byte("the CRA flag")
    if cra != RESPONSE:
        found = f"0x{cra:02X}" + (f" ({_CRA_FLAGS[cra]})" if cra in _CRA_FLAGS else "")
        raise GbcsError(at, "the CRA flag 0x02 (response)", found)
    counter = msg.uint(8, "the originator counter")
    msg.expect(_EUI64_LENGTH, "the originator system title length")
    originator = eui64(msg.take(8, "the originator system title"))
    msg.expect(_EUI64_LENGTH, "the recipient system title length")
    recipient = eui64(msg.take(8, "the recipient system title"))
    msg.expect(0x00, "no date-time: length")
    at = msg.pos
    other_length = msg.length("the other information length")
    if other_length not in _OTHER_INFORMATION:
        wanted = " or ".join(f"{size} ({what})" for size, what in _OTHER_INFORMATION.items())
        raise GbcsError(at, f"other information of {wanted} bytes", str(other_length))
    at = msg.pos
    code = msg.uint(2, "the message code")
    use_case = BY_MESSAGE_CODE.get(code)
    if use_case is None:
        raise GbcsError(
            at,
            "the message code of a 6.13 response",
            detail=f"message code 0x{code:04X} is not a 6.13 Read Event or Security Log response",
        )
    requester: str | None = None
    requester_counter: int | None = None
    if other_length == 18:
        requester = eui64(msg.take(8, "the requester"))
        requester_counter = msg.uint(8, "the requester's counter")
    at = msg.pos
    length = msg.length("the content length")
    if msg.left >= 1 + MAC_SIZE and length != msg.left - 1 - MAC_SIZE:
        wanted = (
            f"a content length of {msg.left - 1 - MAC_SIZE} (up to the signature length and MAC)"
        )
        raise GbcsError(at, wanted, str(length))
    content = msg.part(length, "the content")
    msg.expect(0x00, "no signature: length")
    mac = msg.take(MAC_SIZE, "the MAC")
    msg.finish("the message")
    if use_case.encoding == "dlms":
        outcome, status, entries = dlms.decode(content, use_case, counter)
    else:
        outcome, status, entries = zigbee.decode(content, use_case)
    return LogResponse(
        use_case=use_case,
        originator=originator,
        recipient=recipient,
        originator_counter=counter,
        outcome=outcome,
        status=status,
        entries=entries,
        mac=mac,
        requester=requester,
        requester_counter=requester_counter,
    )


def encode(response: LogResponse) -> bytes:
    """The GBCS message of ``response``, its MAC carried as given (12 bytes)."""
    _check(response)
    use_case = response.use_case
    if use_case.encoding == "dlms":
        payload = dlms.encode(
            use_case,
            response.originator_counter,
            response.outcome,
            response.status,
            response.entries,
        )
    else:
        payload = zigbee.encode(use_case, response.outcome, response.status, response.entries)
    other = use_case.message_code.to_bytes(2, "big")
    if response.requester is not None:
        other += eui64_bytes(response.requester, "the requester")
        other += number_bytes(response.requester_counter, 8, "the requester's counter")
    signing = (
        bytes([GENERAL_SIGNING, _TRANSACTION_ID_LENGTH, RESPONSE])
        + number_bytes(response.originator_counter, 8, "the originator counter")
        + bytes([_EUI64_LENGTH])
        + eui64_bytes(response.originator, "the originator")
        + bytes([_EUI64_LENGTH])
        + eui64_bytes(response.recipient, "the recipient")
        + b"\x00"
        + der_length(len(other))
        + other
        + der_length(len(payload))
        + payload
    )
    service = _SECURITY_HEADER + signing + b"\x00" + response.mac
    return bytes([GENERAL_CIPHERING]) + _EMPTY_CIPHERING_FIELDS + der_length(len(service)) + service


def _check(response: LogResponse) -> None:
    """What the message cannot say otherwise; the payload encoders check the rest."""
    if not isinstance(response, LogResponse):
        raise GbcsError(None, "a LogResponse", type(response).__name__)
    if USE_CASES.get(getattr(response.use_case, "name", "")) != response.use_case:
        raise GbcsError(None, "one of the 6.13 use cases (USE_CASES)", repr(response.use_case))
    if not isinstance(response.outcome, ResponseOutcome):
        raise GbcsError(None, "an outcome (ResponseOutcome)", repr(response.outcome))
    if response.outcome is ResponseOutcome.SUCCESS and response.status is not None:
        raise GbcsError(None, "no status with the outcome success", repr(response.status))
    if not isinstance(response.entries, tuple) or not all(
        isinstance(entry, LogEntry) for entry in response.entries
    ):
        raise GbcsError(None, "the entries as a tuple of LogEntry", type(response.entries).__name__)
    if response.outcome is not ResponseOutcome.SUCCESS and response.entries:
        raise GbcsError(None, f"no entries with the outcome {response.outcome.value}", "entries")
    if not isinstance(response.mac, bytes) or len(response.mac) != MAC_SIZE:
        raise GbcsError(None, f"a MAC of {MAC_SIZE} bytes", repr(response.mac))
    if (response.requester is None) != (response.requester_counter is None):
        raise GbcsError(None, "both the requester and its counter, or neither", "only one")
