"""A destruction as the tests record it: shredded on site, one photo of it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from triage.domain.disposal import Destruction

PHOTO = {"sha256": "ab" * 32, "media_type": "image/jpeg", "size": 2048}


def destruction(on: date) -> Destruction:
    """Shredded on site on ``on``, one photo (kept nowhere: only the services that store files
    check for it)."""
    return Destruction.parse("shred", "Shredding bay 2, on site", on, [PHOTO])


# The fake clock starts on 2026-12-01: the destruction is recorded the day it happened.
DESTRUCTION = destruction(date(2026, 12, 1))


def destruction_today() -> Destruction:
    """A destruction done today, for the tests on a real clock."""
    return destruction(datetime.now(UTC).date())
