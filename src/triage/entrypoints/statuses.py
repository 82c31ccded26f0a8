"""The HTTP status each kind of error answers with, for the API and the web pages alike.

Errors name no status (``triage.errors``): what a status means is the web's business.
"""

from __future__ import annotations

from triage import errors

# Most specific first is not needed: an error answers with the entry of its nearest class.
_STATUSES: dict[type[errors.TriageError], int] = {
    errors.TriageError: 400,
    errors.Unauthenticated: 401,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.IntegrityFailure: 409,
    errors.InvalidInput: 422,
    errors.TooManyAttempts: 429,
    errors.KeyFileError: 500,
    errors.InfrastructureFailure: 500,
    errors.NotRepresentable: 501,
    errors.NotInitialised: 503,
    errors.DatabaseUnavailable: 503,
    errors.WritesHeld: 503,
}


def status_of(error: errors.TriageError | type[errors.TriageError]) -> int:
    """The HTTP status of ``error`` (an instance or a class): its nearest class's."""
    kind = error if isinstance(error, type) else type(error)
    for cls in kind.__mro__:
        if cls in _STATUSES:
            return _STATUSES[cls]
    return 500
