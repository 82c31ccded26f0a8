"""Intake exceptions: a device that arrived unexpected, or anything else at intake that needs
a person to deal with it and say how."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class IntakeException:
    """One exception as it is now."""

    id: str
    kind: str
    device_id: str
    detail: str
    status: str
    raised_by: str
    raised_at: datetime
    resolved_by: str | None = None
    resolution: str | None = None
    resolved_at: datetime | None = None
