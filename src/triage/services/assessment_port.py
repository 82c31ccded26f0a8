"""What the assessment use cases need from storage (``uow.assessments``)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from triage.domain.assessment import Commissioning, SecParty
from triage.domain.assurance_records import (
    ApprovalStep,
    Assessment,
    AssessmentSummary,
    Finding,
    RecordedParty,
    RemedialAction,
)


class AssessmentRepository(Protocol):
    """The provider, commissioning mode, and assessments with findings, actions and steps."""

    def party(self) -> SecParty | None: ...

    def party_record(self) -> RecordedParty | None: ...

    def commissioning(self, facility_id: str) -> Commissioning | None: ...

    def summaries(self) -> list[AssessmentSummary]:
        """Every assessment's id, kind, result and dates (no findings), oldest first."""
        ...

    def steps(self, assessment_id: str) -> list[ApprovalStep]:
        """The additional steps of one assessment's approval."""
        ...

    def assessment(self, assessment_id: str) -> Assessment | None:
        """One assessment with its findings, actions, steps and attached evidence (the
        evidence without its ledger index, which the ledger knows)."""
        ...

    def finding(self, finding_id: str) -> Finding | None: ...

    def action(self, action_id: str) -> RemedialAction | None: ...

    def step(self, step_id: str) -> ApprovalStep | None: ...

    def open_severities(self) -> list[str]:
        """Severities of the findings still open."""
        ...

    def jobs_opened_since(self, since: datetime) -> int:
        """Triage jobs opened since ``since`` (the volume the schedule weighs)."""
        ...
