"""People's credentials: the password rule, Argon2id hashes, TOTP codes and one-time codes."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
MIN_DISTINCT_CHARACTERS = 5
MIN_CHARACTER_CLASSES = 2
TOTP_SECONDS = 30
TOTP_DIGITS = 6
# Codes from one step either side are accepted, for clocks that drift a little.
TOTP_WINDOW = 1
RECOVERY_CODE_COUNT = 10
ACTIVATION_LIFETIME = timedelta(hours=72)

# Argon2id with argon2-cffi's defaults (RFC 9106's second recommended option, low memory).
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    # Checked against when the operator is unknown, so that a wrong id costs as long as a
    # wrong password. Made on first use, not at import: an Argon2id hash takes 64 MiB and tens
    # of milliseconds, which every process importing this module (every CLI command, every
    # verification worker) would otherwise pay.
    return _HASHER.hash(secrets.token_urlsafe(16))


@functools.cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords, lower-case (see data/common-passwords.README.md)."""
    text = resources.files("triage.domain").joinpath("data/common-passwords.txt").read_text()
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def _character_classes(password: str) -> int:
    classes = (
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    )
    return sum(classes)


def check_password(password: str, operator_id: str) -> None:
    """Raise ValueError, naming the problem, unless ``password`` is good enough to keep."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password: use at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"password: use at most {MAX_PASSWORD_LENGTH} characters")
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        raise ValueError(f"password: use at least {MIN_DISTINCT_CHARACTERS} different characters")
    if _character_classes(password) < MIN_CHARACTER_CLASSES:
        raise ValueError(
            "password: mix at least two of lower-case letters, upper-case letters, digits "
            "and other characters (spaces count: a passphrase of several words is good)"
        )
    folded = password.casefold()
    if operator_id and operator_id.casefold() in folded:
        raise ValueError("password: must not contain the operator id")
    if folded in common_passwords() or folded.strip("0123456789!.") in common_passwords():
        raise ValueError("password: is on a list of common passwords; choose another")


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` in PHC string form (salt and parameters included)."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; with no hash, a dummy check keeps the timing alike."""
    try:
        return _HASHER.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _HASHER.check_needs_rehash(stored_hash)


def new_totp_secret() -> str:
    """A fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, operator_id: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from a QR code."""
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_SECONDS).provisioning_uri(
        name=operator_id, issuer_name=issuer
    )


def totp_step(at: datetime) -> int:
    """The TOTP time step ``at`` falls in."""
    return int(at.timestamp()) // TOTP_SECONDS


def is_totp_code(code: str) -> bool:
    """True when ``code`` has the shape of a TOTP code (six digits), not of a recovery code."""
    code = code.strip().replace(" ", "")
    return len(code) == TOTP_DIGITS and code.isascii() and code.isdigit()


def accept_totp(secret: str, code: str, at: datetime, last_step: int | None) -> int | None:
    """The step whose code ``code`` is, within the window and after ``last_step``; else None.

    A code is good once: a step at or before the last one accepted is never accepted again.
    """
    code = code.strip().replace(" ", "")
    if not is_totp_code(code):
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_SECONDS)
    current = totp_step(at)
    for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _grouped(alphabet_text: str, group: int) -> str:
    return "-".join(alphabet_text[i : i + group] for i in range(0, len(alphabet_text), group))


# No 0/O or 1/I/L: the codes are read off paper and typed by hand.
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def _code(length: int) -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(length))


def new_recovery_codes() -> list[str]:
    """Ten single-use recovery codes (about 60 bits each), shown once."""
    return [_grouped(_code(12), 4) for _ in range(RECOVERY_CODE_COUNT)]


def new_activation_code() -> str:
    """A one-time activation code (about 100 bits), handed to a person out of band."""
    return _grouped(_code(20), 5)


def normalise_code(code: str) -> str:
    """A typed code as compared: lower-case, without spaces or dashes."""
    return "".join(c for c in code.strip().lower() if c not in " -")


def code_hash(code: str) -> bytes:
    """The SHA-256 of a normalised one-time code: what is stored instead of the code."""
    return hashlib.sha256(normalise_code(code).encode("utf-8")).digest()


def activation_expiry(issued: datetime) -> datetime:
    """When an activation code issued at ``issued`` stops working."""
    return issued + ACTIVATION_LIFETIME


@dataclass(frozen=True)
class StoredCredential:
    """What is kept of an operator's password and second factor (the TOTP secret sealed)."""

    operator_id: str
    password_hash: str | None
    sealed_totp_secret: bytes | None
    totp_confirmed_at: datetime | None
    last_totp_step: int | None


@dataclass(frozen=True)
class WebSession:
    """A web session, known by the SHA-256 of its secret; never the secret itself."""

    id: bytes
    operator_id: str
    csrf_token: str
    bench: str | None
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class AccessLock:
    """A locked operator account or source address."""

    subject_kind: str
    subject_id: str
    reason: str
    locked_at: datetime


def session_id(secret: str) -> bytes:
    """How a session is stored and found: the SHA-256 of the cookie's secret."""
    return hashlib.sha256(secret.encode("utf-8")).digest()
