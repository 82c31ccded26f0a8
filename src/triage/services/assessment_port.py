"""What the assessment use cases need from storage (``uow.assessments``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from triage.domain.assessment import Commissioning, SecParty


class AssessmentRepository(Protocol):
    """The provider, commissioning mode, and assessments with findings, actions and steps.

    Dates come back as ISO strings and times as RFC 3339 UTC, ready for JSON.
    """

    def party(self) -> SecParty | None: ...

    def party_record(self) -> dict[str, Any] | None: ...

    def commissioning(self, facility_id: str) -> Commissioning | None: ...

    def summaries(self) -> list[dict[str, Any]]:
        """Every assessment's id, kind, result and dates (no findings), oldest first."""
        ...

    def steps(self, assessment_id: str) -> list[dict[str, Any]]:
        """The additional steps of one assessment's approval."""
        ...

    def assessment(self, assessment_id: str) -> dict[str, Any] | None:
        """One assessment with its findings, actions, steps and attached evidence."""
        ...

    def finding(self, finding_id: str) -> dict[str, Any] | None: ...

    def action(self, action_id: str) -> dict[str, Any] | None: ...

    def step(self, step_id: str) -> dict[str, Any] | None: ...

    def open_severities(self) -> list[str]:
        """Severities of the findings still open."""
        ...

    def jobs_opened_since(self, since: datetime) -> int:
        """Triage jobs opened since ``since`` (the volume the schedule weighs)."""
        ...
