"""GBCS times: whole seconds since 2000-01-01T00:00:00Z in an unsigned 32-bit number (the ZCL
UTCTime basis, used by the DLMS logs too)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from triage.gbcs.errors import GbcsError

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
LAST = EPOCH + timedelta(seconds=0xFFFFFFFF)


def from_seconds(seconds: int) -> datetime:
    """The UTC time ``seconds`` after 2000-01-01T00:00:00Z."""
    return EPOCH + timedelta(seconds=seconds)


def to_seconds(at: object, what: str) -> int:
    """Seconds since 2000 of a time-zone-aware time of whole seconds from 2000 to 2136."""
    if (
        not isinstance(at, datetime)
        or at.tzinfo is None
        or at.microsecond
        or not EPOCH <= at <= LAST
    ):
        raise GbcsError(None, f"{what}: a UTC time of whole seconds from 2000 to 2136", repr(at))
    return int((at - EPOCH).total_seconds())


def rfc3339(at: datetime) -> str:
    """``at`` as RFC 3339 UTC with a ``Z`` and whole seconds."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
