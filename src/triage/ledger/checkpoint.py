"""C2SP tlog-checkpoint bodies (https://c2sp.org/tlog-checkpoint) and their signed notes.

A checkpoint body is::

    <origin>
    <tree size, decimal>
    <root hash, standard base64>
    [extension lines...]

each line ending in a newline. :func:`parse_checkpoint` is strict and raises
:class:`~triage.ledger.errors.VerificationError` naming the offending line;
:func:`format_checkpoint` raises :class:`ValueError` for a checkpoint it cannot encode.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from triage.ledger import note
from triage.ledger.errors import VerificationError

__all__ = [
    "MAX_SIZE",
    "Checkpoint",
    "format_checkpoint",
    "open_checkpoint",
    "parse_checkpoint",
    "sign_checkpoint",
]

MAX_SIZE = 2**64 - 1
"""The largest tree size a checkpoint can carry (uint64)."""

_HASH_SIZE = 32
_SIZE_RE = re.compile(r"0|[1-9][0-9]*")
_LABELS = {1: "origin", 2: "tree size", 3: "root hash"}


@dataclass(frozen=True)
class Checkpoint:
    """A log checkpoint: origin, tree size, 32-byte root hash and optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()


def _line_problem(line: str) -> str | None:
    """Say what is wrong with a text line (origin or extension), or None if it is fine."""
    if not line:
        return "is empty"
    for index, char in enumerate(line):
        if char < " " or char == "\x7f":
            return f"has control character U+{ord(char):04X} at character {index}"
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        return "is not encodable as UTF-8"
    return None


def format_checkpoint(cp: Checkpoint) -> str:
    """Return the checkpoint body text (ending in a newline)."""
    problem = _line_problem(cp.origin)
    if problem is not None:
        raise ValueError(f"checkpoint origin {problem}")
    if isinstance(cp.size, bool) or not isinstance(cp.size, int) or not 0 <= cp.size <= MAX_SIZE:
        raise ValueError(f"checkpoint size {cp.size!r} is not an integer in 0..2**64-1")
    if len(cp.root_hash) != _HASH_SIZE:
        raise ValueError(f"checkpoint root hash is {len(cp.root_hash)} bytes, not {_HASH_SIZE}")
    for number, extension in enumerate(cp.extensions, start=1):
        problem = _line_problem(extension)
        if problem is not None:
            raise ValueError(f"checkpoint extension line {number} {problem}")
    root = base64.b64encode(bytes(cp.root_hash)).decode("ascii")
    lines = [cp.origin, str(cp.size), root, *cp.extensions]
    return "".join(f"{line}\n" for line in lines)


def _fail(line_no: int, what: str) -> VerificationError:
    label = _LABELS.get(line_no, "extension")
    return VerificationError(f"malformed checkpoint: line {line_no} ({label}) {what}")


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint body strictly; raise VerificationError naming the bad line."""
    if not text.endswith("\n"):
        raise VerificationError("malformed checkpoint: text does not end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise VerificationError(
            f"malformed checkpoint: {len(lines)} line(s), need origin, size and root hash"
        )
    for line_no, line in enumerate(lines, start=1):
        problem = _line_problem(line)
        if problem is not None:
            raise _fail(line_no, problem)

    origin, size_line, root_line, *extensions = lines

    if _SIZE_RE.fullmatch(size_line) is None:
        raise _fail(2, f"{size_line!r} is not ASCII decimal digits without sign or leading zeros")
    if len(size_line) > len(str(MAX_SIZE)) or int(size_line) > MAX_SIZE:
        raise _fail(2, f"{size_line} does not fit in 64 bits")
    size = int(size_line)

    try:
        root = base64.b64decode(root_line, validate=True) if root_line.isascii() else None
    except (binascii.Error, ValueError):
        root = None
    if root is None or base64.b64encode(root).decode("ascii") != root_line:
        raise _fail(3, f"{root_line!r} is not canonical padded standard base64")
    if len(root) != _HASH_SIZE:
        raise _fail(3, f"decodes to {len(root)} bytes, not {_HASH_SIZE}")

    return Checkpoint(origin=origin, size=size, root_hash=root, extensions=tuple(extensions))


def sign_checkpoint(cp: Checkpoint, signer_key: str) -> str:
    """Format and sign a checkpoint, returning the signed note."""
    return note.sign(format_checkpoint(cp), signer_key)


def open_checkpoint(
    signed_note: str, verifier_keys: Sequence[str], origin: str | None = None
) -> Checkpoint:
    """Verify a signed checkpoint note, parse it and (if given) check its origin."""
    cp = parse_checkpoint(note.verify(signed_note, verifier_keys))
    if origin is not None and cp.origin != origin:
        raise VerificationError(f"checkpoint origin {cp.origin!r} is not {origin!r}")
    return cp
