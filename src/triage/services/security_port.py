"""What the anomaly-threshold use cases need from storage (``uow.security``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from triage.domain.alert import Alert
from triage.domain.thresholds import Metric, Scope, ThresholdSetting, WorkingHours
from triage.domain.tool import Tool


class SecurityRepository(Protocol):
    """Thresholds, counted activity and alerts."""

    def thresholds(self) -> list[ThresholdSetting]:
        """Every threshold value a security manager has set."""
        ...

    def working_hours(self) -> WorkingHours | None:
        """The facility's working hours, or None when every hour is working time."""
        ...

    def count_activity(self, metric: Metric, scope: Scope, subject_id: str, since: datetime) -> int:
        """Counted events of ``metric`` by one tool or operator after ``since``."""
        ...

    def last_entry_at(
        self, subject_kind: str, subject_id: str, entry_types: Sequence[str]
    ) -> datetime | None:
        """When the latest entry of one of ``entry_types`` about a subject was made."""
        ...

    def arrived_as_expected(self, job_id: str) -> bool:
        """True when the job's device came in a consignment that expected it."""
        ...

    def alert(self, alert_id: str) -> Alert | None: ...

    def alerts(self, status: str | None, offset: int, limit: int) -> tuple[list[Alert], int]: ...

    def tools(self) -> list[Tool]:
        """Every enrolled tool with its status and the reason for it."""
        ...
