"""Security alerts: a threshold breached, a register that disagrees with its ledger, a refusal
to sign; each stays open until someone records how it was dealt with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from triage.ledger.entry import format_time


@dataclass(frozen=True)
class Alert:
    """One alert as it is now."""

    id: str
    metric: str
    subject_kind: str
    subject_id: str
    # What was counted or found, as the entry that raised it recorded it (its keys vary with
    # the metric: a threshold's count and window, an integrity finding's message).
    detail: dict[str, Any]
    status: str
    raised_at: datetime
    resolved_by: str | None = None
    resolution: str | None = None
    resolved_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """As the API, the command line and the access review show it."""
        return {
            "id": self.id,
            "metric": self.metric,
            "subject": {"kind": self.subject_kind, "id": self.subject_id},
            "detail": self.detail,
            "status": self.status,
            "raised_at": format_time(self.raised_at),
            "resolved_by": self.resolved_by,
            "resolution": self.resolution,
            "resolved_at": None if self.resolved_at is None else format_time(self.resolved_at),
        }
