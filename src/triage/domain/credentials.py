"""People's credentials: the password rule, TOTP steps and one-time codes.

Hashing passwords and computing TOTP codes are ports (``services.credentials_port``); the
rules about them are here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Set
from dataclasses import dataclass
from datetime import datetime, timedelta

from triage.errors import InvalidInput

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


def _character_classes(password: str) -> int:
    classes = (
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    )
    return sum(classes)


def check_password(password: str, operator_id: str, common: Set[str]) -> None:
    """Raise InvalidInput, naming the problem, unless ``password`` is good enough to keep;
    ``common`` is the list of common passwords, lower-case."""

    def refuse(problem: str) -> InvalidInput:
        return InvalidInput(f"password: {problem}", field="password")

    if len(password) < MIN_PASSWORD_LENGTH:
        raise refuse(f"use at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise refuse(f"use at most {MAX_PASSWORD_LENGTH} characters")
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        raise refuse(f"use at least {MIN_DISTINCT_CHARACTERS} different characters")
    if _character_classes(password) < MIN_CHARACTER_CLASSES:
        raise refuse(
            "mix at least two of lower-case letters, upper-case letters, digits "
            "and other characters (spaces count: a passphrase of several words is good)"
        )
    folded = password.casefold()
    if operator_id and operator_id.casefold() in folded:
        raise refuse("must not contain the operator id")
    if folded in common or folded.strip("0123456789!.") in common:
        raise refuse("is on a list of common passwords; choose another")


def parse_common_passwords(text: str) -> frozenset[str]:
    """The list of common passwords from its text, one a line, lower-case."""
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def totp_step(at: datetime) -> int:
    """The TOTP time step ``at`` falls in."""
    return int(at.timestamp()) // TOTP_SECONDS


def is_totp_code(code: str) -> bool:
    """True when ``code`` has the shape of a TOTP code (six digits), not of a recovery code."""
    code = code.strip().replace(" ", "")
    return len(code) == TOTP_DIGITS and code.isascii() and code.isdigit()


def accept_totp(
    code_at: Callable[[int], str], code: str, at: datetime, last_step: int | None
) -> int | None:
    """The step whose code (``code_at(step)``) ``code`` is, within the window and after
    ``last_step``; else None.

    A code is good once: a step at or before the last one accepted is never accepted again.
    """
    code = code.strip().replace(" ", "")
    if not is_totp_code(code):
        return None
    current = totp_step(at)
    for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(code_at(step), code):
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
