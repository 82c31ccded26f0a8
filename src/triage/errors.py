"""The errors every layer raises; entrypoints turn them into problem details or CLI messages.

Messages say what is wrong and what to do about it. An error names no HTTP status: the
entrypoints map classes to statuses (``triage.entrypoints.statuses``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from triage.ledger.errors import LedgerStateError, VerificationError


class TriageError(Exception):
    """Base of the errors a user of the system can act on."""

    title = "Request failed"


class NotFound(TriageError):
    """The thing asked for does not exist."""

    title = "Not found"


class Conflict(TriageError):
    """The request clashes with the current state."""

    title = "Conflict"


class Unauthenticated(TriageError):
    """No valid credentials came with the request."""

    title = "Unauthenticated"


class PermissionDenied(TriageError):
    """The caller is known but may not do this."""

    title = "Forbidden"


class AccessLocked(PermissionDenied):
    """An account or source address is locked after repeated failed logins."""

    title = "Locked"


class TooManyAttempts(TriageError):
    """Attempts came too fast after failures; try again after ``retry_after`` seconds."""

    title = "Too many attempts"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class IllegalTransition(Conflict):
    """A device cannot go from its current state by the requested step."""

    title = "Illegal transition"


class RecordDisagrees(Conflict):
    """A step refused because the register disagrees with the ledger (changed behind its
    back). ``record`` writes the alert in a transaction of its own, run by the unit of work
    once the refused step's transaction has rolled back."""

    title = "Register disagrees with the ledger"

    def __init__(self, message: str, record: Callable[[Any], object] | None = None) -> None:
        super().__init__(message)
        self.record = record


# A field's name as messages start with it: "device_id: ...", "controls[2]" is not one.
_FIELD_FIRST = re.compile(r"([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*): ")


class InvalidInput(TriageError, ValueError):
    """Input failed validation; the message names the field and the problem, and ``field``
    names the field where one field is at fault. Also a ValueError, as bad input is in the
    standard library: a parser's callers catch one kind of error."""

    title = "Invalid input"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        if field is None:
            # Messages name their field first, "device_id: ...": that is the field at fault.
            named = _FIELD_FIRST.match(message)
            field = named.group(1) if named else None
        self.field = field


class NotInitialised(TriageError):
    """The data directory, database or keys have not been set up."""

    title = "Not initialised"


class KeyFileError(TriageError):
    """A key file is missing, malformed or readable by others."""

    title = "Key file problem"


class IntegrityFailure(TriageError):
    """The ledger is not the history the facility last signed: no checkpoint is signed.

    ``index`` is the first bad entry where it can be named.
    """

    title = "Ledger integrity failure"

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


class NotRepresentable(TriageError):
    """What was asked for exists but cannot be given in the form asked for; the message says
    where it can be had."""


class InfrastructureFailure(TriageError):
    """A tool or component the system relies on failed (a database tool, a device connector)."""

    title = "Infrastructure failure"


class DatabaseUnavailable(TriageError):
    """The database cannot be used (down, unreachable, or its disk full): nothing was
    recorded, and the same request may be tried again shortly."""

    title = "Service unavailable"

    def __init__(self, message: str, disk_full: bool = False) -> None:
        super().__init__(message)
        self.disk_full = disk_full


class WritesHeld(TriageError):
    """Writes are refused until an administrator acknowledges a ledger integrity failure."""

    title = "Writes suspended"


__all__ = [
    "AccessLocked",
    "Conflict",
    "DatabaseUnavailable",
    "IllegalTransition",
    "InfrastructureFailure",
    "IntegrityFailure",
    "InvalidInput",
    "KeyFileError",
    "LedgerStateError",
    "NotFound",
    "NotInitialised",
    "PermissionDenied",
    "RecordDisagrees",
    "TooManyAttempts",
    "TriageError",
    "Unauthenticated",
    "VerificationError",
    "WritesHeld",
]
