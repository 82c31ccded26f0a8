"""C2SP tlog-cosignature (https://c2sp.org/tlog-cosignature): Ed25519 ``cosignature/v1``.

A witness (a *cosigner*) states that a checkpoint is consistent with every earlier one it saw by
adding a note signature line to it::

    — <cosigner name> base64(key ID || timestamp || Ed25519 signature)

- key ID: SHA-256(name || "\\n" || 0x04 || 32-byte public key)[:4], a big-endian uint32;
- timestamp: when it cosigned, POSIX seconds as a big-endian uint64, at most 2**63 - 1;
- signature: Ed25519 over ``cosignature/v1\\ntime <timestamp>\\n`` followed by the checkpoint's
  note text (with its final newline, without any signature line).

Keys use the signed-note key syntax with the signature type 0x04 (a signer key is
``PRIVATE+KEY+<name>+<hash>+<base64(0x04 || seed)>``), parsed by the same strict code as the
log's type 0x01 keys in :mod:`triage.ledger.note`. A note verifier that knows only the log's key
ignores cosignature lines (their key IDs differ), and :func:`verify_cosignatures` ignores the
log's line, so one note carries both.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from triage.ledger import note
from triage.ledger.checkpoint import parse_checkpoint
from triage.ledger.errors import VerificationError

__all__ = [
    "ALG_COSIGNATURE_V1",
    "MAX_TIMESTAMP",
    "Cosignature",
    "Cosigner",
    "cosign",
    "cosigned_message",
    "cosigner_key_from_signer",
    "generate_cosigner_key",
    "note_with_signatures",
    "parse_cosigner_key",
    "verify_cosignatures",
]

ALG_COSIGNATURE_V1 = 0x04
"""The signature type of timestamped Ed25519 checkpoint cosignatures."""

MAX_TIMESTAMP = 2**63 - 1
"""The largest timestamp a cosignature may carry."""

_HEADER = b"cosignature/v1\n"
_BLOB = struct.Struct(">IQ64s")  # key ID, timestamp, Ed25519 signature


@dataclass(frozen=True)
class Cosigner:
    """A parsed cosigner verifier key (type 0x04): its name, key ID and 32-byte public key."""

    name: str
    key_hash: int
    public_key: bytes

    @property
    def key_id(self) -> str:
        """``name+hash``, as errors name a key."""
        return f"{self.name}+{self.key_hash:08x}"

    def encode(self) -> str:
        """The vkey text: ``name+hash+base64(0x04 || public key)``."""
        blob = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_hash:08x}+{blob}"


@dataclass(frozen=True)
class Cosignature:
    """A verified cosignature: who made it, when (POSIX seconds) and its signature line."""

    cosigner: Cosigner
    timestamp: int
    line: str  # "— <name> <base64>\n"


def generate_cosigner_key(name: str) -> tuple[str, str]:
    """A fresh cosigner key pair for ``name``: (signer key, vkey); ValueError on a bad name."""
    return note.new_key_pair(name, ALG_COSIGNATURE_V1)


def cosigner_key_from_signer(signer_key: str) -> str:
    """The cosigner vkey of a cosigner signer key; VerificationError if it is not one."""
    return note.signer_public_key(signer_key, ALG_COSIGNATURE_V1)


def parse_cosigner_key(vkey: str) -> Cosigner:
    """Parse a cosigner vkey strictly (type 0x04, key ID checked); raise VerificationError."""
    name, key_hash, public_key = note.decode_verifier_key(vkey, ALG_COSIGNATURE_V1)
    return Cosigner(name=name, key_hash=key_hash, public_key=public_key)


def cosigned_message(checkpoint_body: str, timestamp: int) -> bytes:
    """The bytes a cosigner signs: the header line, the time line, then the checkpoint text."""
    _check_timestamp(timestamp)
    return _HEADER + f"time {timestamp}\n".encode("ascii") + checkpoint_body.encode("utf-8")


def cosign(checkpoint_body: str, signer_key: str, timestamp: int) -> str:
    """One cosignature line (``— <name> <base64>\\n``) on a checkpoint's note text.

    ValueError if the text is not a checkpoint or the timestamp is out of range;
    VerificationError if the signer key is not a cosigner key.
    """
    message = note.check_note_text(checkpoint_body)
    try:
        parse_checkpoint(checkpoint_body)
    except VerificationError as exc:
        raise ValueError(f"only a checkpoint is cosigned: {exc}") from None
    name, key_hash, private = note.decode_signer_key(signer_key, ALG_COSIGNATURE_V1)
    _check_timestamp(timestamp)
    signature = private.sign(_HEADER + f"time {timestamp}\n".encode("ascii") + message)
    blob = base64.b64encode(_BLOB.pack(key_hash, timestamp, signature)).decode("ascii")
    return f"{note.SIGNATURE_PREFIX}{name} {blob}\n"


def verify_cosignatures(
    signed_note: str | bytes, cosigners: Sequence[str]
) -> tuple[str, list[Cosignature]]:
    """(the note text, the valid cosignatures in it by the given cosigner vkeys).

    Lines by other keys, the log's own among them, are ignored; a repeated line by one cosigner
    counts once. A line whose name and key ID match a given cosigner must verify, else
    VerificationError (as signed-note says of a known key), as does a malformed note. The log's
    signature is not checked here: :func:`triage.ledger.note.verify` does that.
    """
    known: dict[tuple[str, int], list[Cosigner]] = {}
    for vkey in cosigners:
        cosigner = parse_cosigner_key(vkey)
        same = known.setdefault((cosigner.name, cosigner.key_hash), [])
        if cosigner not in same:
            same.append(cosigner)

    text, lines = note.open_note(signed_note)
    found: list[Cosignature] = []
    seen: set[tuple[str, int]] = set()
    for sig in lines:
        candidates = known.get((sig.name, sig.key_hash))
        if candidates is None:
            continue
        key = f"{sig.name}+{sig.key_hash:08x}"
        if len(candidates) > 1:
            raise VerificationError(f"ambiguous cosigner key {key}")
        if (sig.name, sig.key_hash) in seen:
            continue
        seen.add((sig.name, sig.key_hash))
        if len(sig.signature) != _BLOB.size - 4:
            raise VerificationError(
                f"bad cosignature by {key}: {len(sig.signature) + 4} bytes, not {_BLOB.size}"
            )
        _, timestamp, signature = _BLOB.unpack(sig.key_hash.to_bytes(4, "big") + sig.signature)
        if timestamp > MAX_TIMESTAMP:
            raise VerificationError(
                f"bad cosignature by {key}: timestamp {timestamp} is beyond 2**63 - 1"
            )
        message = _HEADER + f"time {timestamp}\n".encode("ascii") + text
        if not note.ed25519_verify(candidates[0].public_key, message, signature):
            raise VerificationError(f"bad cosignature by {key}")
        found.append(Cosignature(candidates[0], timestamp, sig.line))
    return text.decode("utf-8"), found


def note_with_signatures(signed_note: str, lines: Iterable[str]) -> str:
    """The signed note with the signature ``lines`` appended, each one not already in it.

    Lines may come with or without their final newline. ValueError if the note has no
    signature block or a line is not one signature line; nothing is verified here.
    """
    if not signed_note.endswith("\n") or "\n\n" not in signed_note:
        raise ValueError("not a signed note: no blank line followed by signature lines")
    present = set(signed_note[signed_note.rindex("\n\n") + 2 :].splitlines(keepends=True))
    added = []
    for given in lines:
        line = given if given.endswith("\n") else f"{given}\n"
        _check_signature_line(line)
        if line not in present:
            present.add(line)
            added.append(line)
    return signed_note + "".join(added)


def _check_signature_line(line: str) -> None:
    body = line[:-1]
    if "\n" in body or not body.startswith(note.SIGNATURE_PREFIX):
        raise ValueError(f"not a signature line: {line!r}")
    name, _, b64 = body[len(note.SIGNATURE_PREFIX) :].partition(" ")
    blob = note.decode_base64(b64)
    if not note.is_valid_key_name(name) or blob is None or len(blob) < 5:
        raise ValueError(f"not a signature line: {line!r}")


def _check_timestamp(timestamp: int) -> None:
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise ValueError(f"cosignature timestamp {timestamp!r} is not an integer")
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError(f"cosignature timestamp {timestamp} is not in 0..2**63-1")
