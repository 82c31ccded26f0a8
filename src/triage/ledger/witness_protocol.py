"""The wire format of C2SP tlog-witness (https://c2sp.org/tlog-witness) ``add-checkpoint``.

A log asks a witness to cosign with ``POST <submission prefix>/add-checkpoint`` and the body::

    old <size of the witness's last cosigned checkpoint>
    <consistency proof hash, base64>        zero to 63 lines
                                            an empty line
    <the signed checkpoint note>

The witness answers 200 with one or more cosignature lines (``— <name> <base64>``), or 409 with
its own latest size (``<size>\\n``, content type ``text/x.tlog.size``) when the old size is not
it. Here are both sides' encoders and strict parsers; what the checkpoint says, and whether the
proof holds, is the witness's to judge. Parsers raise :class:`ProtocolError` (a ValueError, a
400 at the witness), naming what is wrong.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

from triage.ledger import note
from triage.ledger.checkpoint import MAX_SIZE

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_PROOF_LINES",
    "SIZE_CONTENT_TYPE",
    "AddCheckpoint",
    "ProtocolError",
    "format_add_checkpoint",
    "format_size_body",
    "origin_hash",
    "parse_add_checkpoint",
    "parse_cosignature_lines",
    "parse_size_body",
]

MAX_PROOF_LINES = 63
"""The most consistency proof lines a request may carry."""

MAX_BODY_BYTES = 64 * 1024
"""The largest add-checkpoint request (and cosignature response) read."""

SIZE_CONTENT_TYPE = "text/x.tlog.size"
"""The content type of a 409 answer's body."""

_HASH_SIZE = 32
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class ProtocolError(ValueError):
    """A request or response that does not follow the tlog-witness format."""


@dataclass(frozen=True)
class AddCheckpoint:
    """An add-checkpoint request: the old size, the consistency proof and the signed note."""

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: str  # the signed checkpoint note


def format_add_checkpoint(request: AddCheckpoint) -> bytes:
    """The request body; ValueError if the request could not be parsed back."""
    size = request.old_size
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_SIZE:
        raise ValueError(f"old size {size!r} is not an integer in 0..2**64-1")
    if len(request.proof) > MAX_PROOF_LINES:
        raise ValueError(f"{len(request.proof)} proof hashes, more than {MAX_PROOF_LINES}")
    for number, digest in enumerate(request.proof, start=1):
        if len(digest) != _HASH_SIZE:
            raise ValueError(f"proof hash {number} is {len(digest)} bytes, not {_HASH_SIZE}")
    if not request.checkpoint.endswith("\n"):
        raise ValueError("the checkpoint note does not end with a newline")
    proof = "".join(f"{base64.b64encode(digest).decode('ascii')}\n" for digest in request.proof)
    body = f"old {size}\n{proof}\n{request.checkpoint}".encode()
    if len(body) > MAX_BODY_BYTES:
        raise ValueError(f"the request is larger than {MAX_BODY_BYTES // 1024} KiB")
    return body


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Parse an add-checkpoint request body strictly; ProtocolError naming what is wrong.

    The note after the empty line is returned as it came: its signatures and its checkpoint
    are checked by the witness against the log's key.
    """
    if len(body) > MAX_BODY_BYTES:
        raise ProtocolError(f"the request body is larger than {MAX_BODY_BYTES // 1024} KiB")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"the request body is not UTF-8 (at byte {exc.start})") from None
    first, newline, rest = text.partition("\n")
    if not newline:
        raise ProtocolError("the request has no old size line ending in a newline")
    word, _, digits = first.partition(" ")
    if word != "old" or _DECIMAL.fullmatch(digits) is None:
        raise ProtocolError(
            f"the first line {first[:40]!r} is not 'old <size>' (decimal, no leading zeros)"
        )
    if len(digits) > len(str(MAX_SIZE)) or int(digits) > MAX_SIZE:
        raise ProtocolError(f"the old size {digits} does not fit in 64 bits")
    proof: list[bytes] = []
    while True:
        line, newline, rest = rest.partition("\n")
        if not newline:
            raise ProtocolError("the request has no empty line between the proof and the note")
        if not line:
            break
        if len(proof) == MAX_PROOF_LINES:
            raise ProtocolError(f"the request has more than {MAX_PROOF_LINES} proof lines")
        digest = note.decode_base64(line)
        if digest is None:
            raise ProtocolError(f"proof line {len(proof) + 1} is not valid base64")
        if len(digest) != _HASH_SIZE:
            raise ProtocolError(
                f"proof line {len(proof) + 1} is {len(digest)} bytes, not a {_HASH_SIZE}-byte hash"
            )
        proof.append(digest)
    if not rest:
        raise ProtocolError("the request has no checkpoint after the empty line")
    if not rest.endswith("\n"):
        raise ProtocolError("the checkpoint note does not end with a newline")
    return AddCheckpoint(int(digits), tuple(proof), rest)


def format_size_body(size: int) -> bytes:
    """The body of a 409 answer: the witness's latest cosigned size and a newline."""
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_SIZE:
        raise ValueError(f"size {size!r} is not an integer in 0..2**64-1")
    return f"{size}\n".encode("ascii")


def parse_size_body(body: bytes) -> int:
    """The size in a 409 answer (``<size>\\n``); ProtocolError if it is anything else."""
    if len(body) > len(str(MAX_SIZE)) + 1 or not body.endswith(b"\n"):
        raise ProtocolError(f"the size answer {body[:40]!r} is not '<size>' and a newline")
    digits = body[:-1].decode("ascii", errors="replace")
    if _DECIMAL.fullmatch(digits) is None or int(digits) > MAX_SIZE:
        raise ProtocolError(f"the size answer {body[:40]!r} is not a decimal size")
    return int(digits)


def parse_cosignature_lines(body: bytes) -> list[str]:
    """The signature lines of a 200 answer, each with its final newline; ProtocolError if the
    body is not one or more well-formed note signature lines. Nothing is verified here."""
    if len(body) > MAX_BODY_BYTES:
        raise ProtocolError(f"the answer is larger than {MAX_BODY_BYTES // 1024} KiB")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"the answer is not UTF-8 (at byte {exc.start})") from None
    if not text:
        raise ProtocolError("the answer has no signature line")
    if not text.endswith("\n"):
        raise ProtocolError("the answer's last line has no final newline")
    lines = [f"{line}\n" for line in text[:-1].split("\n")]
    if len(lines) > note.MAX_SIGNATURES:
        raise ProtocolError(f"the answer has more than {note.MAX_SIGNATURES} signature lines")
    for number, line in enumerate(lines, start=1):
        if any(char < " " for char in line[:-1]):
            raise ProtocolError(f"answer line {number} holds a control character")
        if not line.startswith(note.SIGNATURE_PREFIX):
            raise ProtocolError(f"answer line {number} does not start with '— '")
        name, _, b64 = line[len(note.SIGNATURE_PREFIX) : -1].partition(" ")
        if not note.is_valid_key_name(name):
            raise ProtocolError(f"answer line {number} has an invalid key name {name[:40]!r}")
        blob = note.decode_base64(b64)
        if blob is None or len(blob) < 5:
            raise ProtocolError(f"answer line {number} by {name} is not a base64 signature")
    return lines


def origin_hash(origin: str) -> str:
    """The lowercase hex SHA-256 of a log's origin: its path segment at a witness."""
    return hashlib.sha256(origin.encode("utf-8")).hexdigest()
