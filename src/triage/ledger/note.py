"""C2SP signed notes (https://c2sp.org/signed-note), byte-compatible with Go's sumdb/note.

Keys are Ed25519 only (algorithm byte 0x01):

- signer key: ``PRIVATE+KEY+<name>+<hash %08x>+<base64(0x01 || 32-byte seed)>``
- verifier key: ``<name>+<hash %08x>+<base64(0x01 || 32-byte public key)>``

where ``hash`` is the first four bytes, big-endian, of SHA-256(name || "\\n" || 0x01 || pubkey).

A signed note is the text (ending in a newline), a blank line, then one line per signature:
``— <name> <base64(4-byte key hash || 64-byte signature)>``. :func:`verify` follows Go's
``note.Open`` rule for rule. Anything that fails to parse or verify raises
:class:`~triage.ledger.errors.VerificationError`; invalid arguments of our own making (a bad key
name for :func:`generate_key`, a text without a final newline for :func:`sign`) raise
:class:`ValueError`.

The key and note syntax is shared by other signature types of the same format (C2SP
tlog-cosignature's type 0x04, in :mod:`triage.ledger.cosignature`): the functions taking an
``algorithm`` argument (:func:`new_key_pair`, :func:`decode_signer_key`,
:func:`decode_verifier_key`, :func:`key_id`) and :func:`open_note` serve them, so that a key or
a note is parsed the same strict way whatever signs it. :func:`verify` itself knows only type
0x01 keys and ignores every other signature line as one by an unknown key.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from triage.ledger.errors import VerificationError

__all__ = [
    "ALG_ED25519",
    "MAX_SIGNATURES",
    "SIGNATURE_PREFIX",
    "SignatureLine",
    "Verifier",
    "check_note_text",
    "decode_base64",
    "decode_signer_key",
    "decode_verifier_key",
    "ed25519_verify",
    "generate_key",
    "is_valid_key_name",
    "key_id",
    "new_key_pair",
    "open_note",
    "parse_verifier_key",
    "sign",
    "signer_public_key",
    "verifier_key_from_signer",
    "verify",
]

ALG_ED25519 = 0x01
"""The algorithm byte for Ed25519 keys."""

MAX_SIGNATURES = 100
"""A note with more signature lines than this is malformed (as in Go)."""

SIGNATURE_PREFIX = "— "  # U+2014 EM DASH, then a space
"""How every signature line starts."""

_SIG_SPLIT = b"\n\n"
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_HASH_RE = re.compile(r"[0-9A-Fa-f]{8}")
# Standard base64 with mandatory padding, as Go's base64.StdEncoding decodes it (apart from its
# silent skipping of CR and LF, which cannot occur where we decode).
_B64_RE = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")

# Go's unicode.IsSpace: the Unicode White_Space property (not Python's str.isspace, which also
# counts U+001C..U+001F).
_WHITE_SPACE = frozenset(
    {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028}
    | {0x2029, 0x202F, 0x205F, 0x3000}
)


@dataclass(frozen=True)
class Verifier:
    """A parsed Ed25519 verifier key: its name, 32-bit key hash and raw 32-byte public key."""

    name: str
    key_hash: int
    public_key: bytes

    @property
    def key_id(self) -> str:
        """Return ``name+hash`` as Go prints it in its errors."""
        return f"{self.name}+{self.key_hash:08x}"

    def encode(self) -> str:
        """Return the verifier key string."""
        return _encode_key(self.name, self.key_hash, self.public_key, ALG_ED25519)


@dataclass(frozen=True)
class SignatureLine:
    """One signature line of a note, well formed but not verified: key name, key hash (the
    first four bytes of the blob), the signature bytes after them, and the line itself."""

    name: str
    key_hash: int
    signature: bytes
    line: str  # "— <name> <base64>\n"


def is_valid_key_name(name: str) -> bool:
    """Report whether name is non-empty UTF-8 with no Unicode white space and no '+'."""
    if not name or "+" in name:
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not any(ord(c) in _WHITE_SPACE for c in name)


def _key_hash(name: str, key: bytes) -> int:
    """Compute the key hash of a name and an encoded (algorithm-prefixed) public key."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + key).digest()
    return int.from_bytes(digest[:4], "big")


def key_id(name: str, algorithm: int, public_key: bytes) -> int:
    """The key ID (hash) of a key: SHA-256(name || "\\n" || algorithm || public_key)[:4]."""
    return _key_hash(name, bytes([algorithm]) + public_key)


def decode_base64(text: str) -> bytes | None:
    """Decode strict padded standard base64; return None if it is not."""
    if not text.isascii() or _B64_RE.fullmatch(text) is None:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _encode_key(name: str, key_hash: int, public_key: bytes, algorithm: int) -> str:
    return f"{name}+{key_hash:08x}+{_b64encode(bytes([algorithm]) + public_key)}"


def _raw_public_key(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def new_key_pair(name: str, algorithm: int) -> tuple[str, str]:
    """Generate a fresh Ed25519 key pair for name under the signature type ``algorithm``;
    return (signer_key, verifier_key)."""
    if not is_valid_key_name(name):
        raise ValueError(
            f"invalid key name {name!r}: it must be non-empty UTF-8 without white space or '+'"
        )
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    public = _raw_public_key(private)
    key_hash = key_id(name, algorithm, public)
    signer_key = f"{_PRIVATE_PREFIX}{name}+{key_hash:08x}+{_b64encode(bytes([algorithm]) + seed)}"
    return signer_key, _encode_key(name, key_hash, public, algorithm)


def generate_key(name: str) -> tuple[str, str]:
    """Generate a fresh Ed25519 key pair for name; return (signer_key, verifier_key)."""
    return new_key_pair(name, ALG_ED25519)


def decode_verifier_key(vkey: str, algorithm: int) -> tuple[str, int, bytes]:
    """(name, key hash, 32-byte public key) of an Ed25519 verifier key of the signature type
    ``algorithm``, parsed strictly with its key hash checked; raise VerificationError."""
    name, _, rest = vkey.partition("+")
    hash16, _, key64 = rest.partition("+")
    if not is_valid_key_name(name):
        raise VerificationError(f"malformed verifier key {vkey!r}: invalid key name {name!r}")
    if _HASH_RE.fullmatch(hash16) is None:
        raise VerificationError(
            f"malformed verifier key {vkey!r}: key hash {hash16!r} is not 8 hex digits"
        )
    key = decode_base64(key64)
    if not key:
        raise VerificationError(f"malformed verifier key {vkey!r}: key is not valid base64")
    key_hash = int(hash16, 16)
    if key_hash != _key_hash(name, key):
        raise VerificationError(
            f"malformed verifier key {vkey!r}: key hash {hash16} does not match the key"
        )
    if key[0] != algorithm:
        raise VerificationError(
            f"malformed verifier key {vkey!r}: unknown algorithm 0x{key[0]:02x} "
            f"(want 0x{algorithm:02x})"
        )
    if len(key) != 33:
        raise VerificationError(
            f"malformed verifier key {vkey!r}: Ed25519 key is {len(key) - 1} bytes, not 32"
        )
    return name, key_hash, key[1:]


def parse_verifier_key(vkey: str) -> Verifier:
    """Parse a verifier key string strictly, checking its key hash; raise VerificationError."""
    name, key_hash, public_key = decode_verifier_key(vkey, ALG_ED25519)
    return Verifier(name=name, key_hash=key_hash, public_key=public_key)


@functools.lru_cache(maxsize=16)
def decode_signer_key(skey: str, algorithm: int) -> tuple[str, int, Ed25519PrivateKey]:
    """(name, key hash, private key) of an Ed25519 signer key of the signature type
    ``algorithm``, parsed strictly; errors never quote the secret. Remembered for the few keys
    a process signs with (the facility's, a tool's): each signature would otherwise parse the
    key and build its private key again (a refused key is not remembered)."""
    priv1, _, rest = skey.partition("+")
    priv2, _, rest = rest.partition("+")
    name, _, rest = rest.partition("+")
    hash16, _, key64 = rest.partition("+")
    if priv1 != "PRIVATE" or priv2 != "KEY":
        raise VerificationError("malformed signer key: it does not start with PRIVATE+KEY+")
    if not is_valid_key_name(name):
        raise VerificationError(f"malformed signer key: invalid key name {name!r}")
    if _HASH_RE.fullmatch(hash16) is None:
        raise VerificationError(
            f"malformed signer key {name}: key hash {hash16!r} is not 8 hex digits"
        )
    key = decode_base64(key64)
    if not key:
        raise VerificationError(f"malformed signer key {name}: key is not valid base64")
    if key[0] != algorithm:
        raise VerificationError(
            f"malformed signer key {name}: unknown algorithm 0x{key[0]:02x} "
            f"(want 0x{algorithm:02x})"
        )
    if len(key) != 33:
        raise VerificationError(
            f"malformed signer key {name}: Ed25519 seed is {len(key) - 1} bytes, not 32"
        )
    private = Ed25519PrivateKey.from_private_bytes(key[1:])
    key_hash = int(hash16, 16)
    if key_hash != key_id(name, algorithm, _raw_public_key(private)):
        raise VerificationError(
            f"malformed signer key {name}: key hash {hash16} does not match the key"
        )
    return name, key_hash, private


def signer_public_key(signer_key: str, algorithm: int) -> str:
    """The verifier key of a signer key of the signature type ``algorithm``."""
    name, key_hash, private = decode_signer_key(signer_key, algorithm)
    return _encode_key(name, key_hash, _raw_public_key(private), algorithm)


@functools.lru_cache(maxsize=16)
def verifier_key_from_signer(signer_key: str) -> str:
    """Derive the verifier key string from a signer key string (remembered for the few keys a
    process holds: the facility's key is checked this way every time it is read)."""
    return signer_public_key(signer_key, ALG_ED25519)


def _check_text(data: bytes, what: str) -> None:
    """Reject bytes that are not UTF-8 or hold an ASCII control character other than newline."""
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise VerificationError(f"malformed {what}: invalid UTF-8 at byte {exc.start}") from None
    found = _CONTROL.search(decoded)
    if found is not None:
        raise VerificationError(
            f"malformed {what}: control character U+{ord(found.group()):04X} at character "
            f"{found.start()}"
        )


# ASCII control characters other than newline (one search, not a Python loop per character).
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")


def check_note_text(text: str) -> bytes:
    """The UTF-8 bytes of a note text to sign; ValueError if it does not end in a newline, is
    not UTF-8 or holds a control character other than newline."""
    if not text.endswith("\n"):
        raise ValueError("note text must end with a newline")
    try:
        message = text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("note text is not encodable as UTF-8") from None
    try:
        _check_text(message, "note text")
    except VerificationError as exc:
        raise ValueError(str(exc)) from None
    return message


def sign(text: str, signer_key: str) -> str:
    """Sign text (which must end in a newline) and return the signed note."""
    message = check_note_text(text)
    name, key_hash, private = decode_signer_key(signer_key, ALG_ED25519)
    signature = private.sign(message)
    blob = _b64encode(key_hash.to_bytes(4, "big") + signature)
    return f"{text}\n{SIGNATURE_PREFIX}{name} {blob}\n"


def open_note(note: str | bytes) -> tuple[bytes, Iterator[SignatureLine]]:
    """Split a signed note into its text (as bytes) and its signature lines.

    The note as a whole (UTF-8, no control characters, a blank line, signature lines ending in
    a newline) is checked at once; each signature line is checked as the iterator reaches it,
    so a caller that stops at a bad signature reports that before a later malformed line, as
    Go's ``note.Open`` does. Raises VerificationError.
    """
    if isinstance(note, str):
        try:
            message = note.encode("utf-8")
        except UnicodeEncodeError:
            raise VerificationError("malformed note: not encodable as UTF-8") from None
    else:
        message = bytes(note)
    _check_text(message, "note")

    split = message.rfind(_SIG_SPLIT)
    if split < 0:
        raise VerificationError("malformed note: no blank line before the signatures")
    text, sigs = message[: split + 1], message[split + 2 :]
    if not sigs:
        raise VerificationError("malformed note: no signature lines after the blank line")
    if not sigs.endswith(b"\n"):
        raise VerificationError("malformed note: the last signature line has no final newline")
    return text, _signature_lines(sigs.decode("utf-8").split("\n")[:-1])


def _signature_lines(lines: list[str]) -> Iterator[SignatureLine]:
    for number, line in enumerate(lines, start=1):
        where = f"signature line {number}"
        if not line.startswith(SIGNATURE_PREFIX):
            raise VerificationError(f"malformed note: {where} does not start with '— '")
        name, _, b64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not is_valid_key_name(name):
            raise VerificationError(f"malformed note: {where} has an invalid key name {name!r}")
        if not b64:
            raise VerificationError(f"malformed note: {where} by {name} has no signature")
        blob = decode_base64(b64)
        if blob is None:
            raise VerificationError(f"malformed note: {where} by {name} is not valid base64")
        if len(blob) < 5:
            raise VerificationError(f"malformed note: {where} by {name} is too short")
        if number > MAX_SIGNATURES:
            raise VerificationError(f"malformed note: more than {MAX_SIGNATURES} signatures")
        yield SignatureLine(name, int.from_bytes(blob[:4], "big"), blob[4:], f"{line}\n")


def verify(note: str | bytes, verifier_keys: Sequence[str]) -> str:
    """Check a signed note against known verifier keys and return its text; raise otherwise."""
    known: dict[tuple[str, int], list[Verifier]] = {}
    for vkey in verifier_keys:
        verifier = parse_verifier_key(vkey)
        same = known.setdefault((verifier.name, verifier.key_hash), [])
        if verifier not in same:
            same.append(verifier)

    text, lines = open_note(note)
    seen: set[tuple[str, int]] = set()
    verified = 0
    for sig in lines:
        name, key_hash = sig.name, sig.key_hash
        candidates = known.get((name, key_hash))
        if candidates is None:
            continue  # a signature by a key we do not know: ignored
        if len(candidates) > 1:
            raise VerificationError(f"ambiguous key {name}+{key_hash:08x}")
        if (name, key_hash) in seen:
            continue  # repeated signatures by one key: only the first counts
        seen.add((name, key_hash))
        if not ed25519_verify(candidates[0].public_key, text, sig.signature):
            raise VerificationError(f"bad signature by key {name}+{key_hash:08x}")
        verified += 1

    if verified == 0:
        raise VerificationError("note has no signature by a known key")
    return text.decode("utf-8")


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is a valid Ed25519 signature of ``message`` by ``public_key``."""
    if len(signature) != 64:
        return False
    try:
        _public_key(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@functools.lru_cache(maxsize=256)
def _public_key(raw: bytes) -> Ed25519PublicKey:
    """``raw`` parsed as an Ed25519 public key (ValueError if it is not one), once per key: a
    server verifies the same few keys (its tools', its witnesses') again and again."""
    return Ed25519PublicKey.from_public_bytes(raw)


def sign_message(message: bytes, signer_key: str) -> bytes:
    """A raw Ed25519 signature of ``message``, for signed requests rather than notes.

    Callers must put a context string at the start of ``message`` so that a signature made
    here can never be taken for a note signature.
    """
    _, _, private = decode_signer_key(signer_key, ALG_ED25519)
    return private.sign(message)


def verify_message(message: bytes, signature: bytes, verifier_key: str) -> None:
    """Check a raw Ed25519 signature made by ``sign_message``."""
    verifier = parse_verifier_key(verifier_key)
    if not ed25519_verify(verifier.public_key, message, signature):
        raise VerificationError(f"bad signature by key {verifier.name}+{verifier.key_id}")
