"""Errors of the witness program; each message says what is wrong and what to do about it.

The witness is a program of its own (run apart from any facility), so it has its own small
hierarchy rather than the facility's ``triage.errors``; the CLI prints the message and exits.
"""

from __future__ import annotations


class WitnessError(Exception):
    """Base of the errors the witness's operator can act on."""


class WitnessKeyError(WitnessError):
    """The witness key is missing, unreadable, malformed, too widely readable, or would be
    overwritten. Messages never quote the secret."""


class WitnessConfigError(WitnessError):
    """A log the witness is asked to follow (or forget) is not acceptable: a bad origin, a bad
    verifier key, an origin it does not follow."""


class WitnessStoreError(WitnessError):
    """The witness database cannot be opened or is not one this program wrote."""


class WitnessBusy(WitnessStoreError):
    """The database's writer lock was not free in time (many requests at once): try again."""
