"""Assurance as the API and ``--json`` show it: the provider's standing, controls, readiness,
evidence, security assessments with their findings, actions and steps, and the OSCAL exports.

Each model is validated from the record's ``to_json`` (the one spelling of these records, which
the OSCAL and evidence-pack exports read as well).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from triage.entrypoints.schemas.common import Time


class PartyOut(BaseModel):
    party_id: str
    name: str
    roles: list[str]


class RecordedPartyOut(PartyOut):
    recorded_by: str
    recorded_at: Time


class StepStatusOut(BaseModel):
    id: str
    description: str
    due: date
    done_at: Time | None
    overdue: bool


class ApprovalOut(BaseModel):
    approved: bool
    why: str
    result: str | None
    steps: list[StepStatusOut]


class CommissioningOut(BaseModel):
    until: Time
    reason: str


class CommissioningStateOut(CommissioningOut):
    active: bool


class CommissioningEndedOut(BaseModel):
    commissioning: None = Field(description="Commissioning mode is off.")


class NextAssessmentOut(BaseModel):
    kind: str
    title: str
    due: date
    overdue: bool
    reasons: list[str]
    devices_last_12_months: int


class OverdueFindingOut(BaseModel):
    assessment_id: str
    finding_id: str
    control_id: str
    due: date


class OverdueActionOut(BaseModel):
    assessment_id: str
    action_id: str
    owner: str
    due: date


class OverdueOut(BaseModel):
    findings: list[OverdueFindingOut]
    actions: list[OverdueActionOut]


class AssuranceStatusOut(BaseModel):
    party: RecordedPartyOut | None
    approval: ApprovalOut
    commissioning: CommissioningStateOut | None
    may_triage: bool
    may_triage_because: str
    next_assessment: NextAssessmentOut
    overdue: OverdueOut


class ExpectedOut(BaseModel):
    kind: str
    name: str
    title: str


class ControlDefinitionOut(BaseModel):
    id: str
    clause: str
    group: str
    title: str
    requirement: str
    evidence: list[ExpectedOut]
    produced_by_system: str
    provider: bool


class ControlOut(ControlDefinitionOut):
    applicable: bool
    reason: str | None


class CatalogueOut(BaseModel):
    name: str
    title: str
    version: str
    sha256: str
    source: str
    adopted: bool
    adopted_at: Time | None
    adopted_by: str | None
    packaged_version: str
    packaged_differs: bool


class ControlsOut(BaseModel):
    catalogue: CatalogueOut
    controls: list[ControlOut]


class CatalogueAdoptedOut(BaseModel):
    name: str
    version: str
    sha256: str


class ApplicabilityOut(BaseModel):
    control_id: str
    applicable: bool
    reason: str


class ExpectedStateOut(ExpectedOut):
    state: str = Field(description="fresh, stale, missing or altered.")
    evidence_id: str | None
    recorded_at: Time | None


class ReadinessRowOut(BaseModel):
    control: ControlDefinitionOut
    status: str = Field(description="ready, stale, missing or not_applicable.")
    reason: str | None
    evidence: list[ExpectedStateOut]


class ReadinessOut(BaseModel):
    controls: list[ReadinessRowOut]


class EvidenceOut(BaseModel):
    id: str
    kind: str
    name: str
    title: str
    sha256: str
    size: int
    media_type: str
    filename: str | None
    control_ids: list[str]
    summary: dict[str, Any]
    recorded_by: str
    recorded_at: Time


class EvidenceItemsOut(BaseModel):
    items: list[EvidenceOut]


class CheckedEvidenceOut(EvidenceOut):
    integrity: str = Field(description="ok, missing or altered.")


class CheckedEvidencePageOut(BaseModel):
    items: list[CheckedEvidenceOut]
    total: int
    offset: int
    limit: int


class FlaggedEvidenceOut(BaseModel):
    id: str
    name: str
    sha256: str
    state: str


class EvidenceCheckOut(BaseModel):
    flagged: list[FlaggedEvidenceOut]


class FindingResponseOut(BaseModel):
    text: str
    due: date | None
    responded_at: Time | None
    by: str | None


class AssessmentFindingOut(BaseModel):
    id: str
    control_id: str
    severity: str
    description: str
    raised_at: Time
    response: FindingResponseOut | None
    status: str
    closure: str | None


class FindingOut(BaseModel):
    id: str
    assessment_id: str
    control_id: str
    severity: str
    description: str
    status: str
    raised_at: Time
    response: str | None
    response_due: date | None
    responded_by: str | None
    responded_at: Time | None
    closed_at: Time | None
    closure: str | None


class ActionOut(BaseModel):
    id: str
    finding_id: str
    description: str
    owner: str
    due: date
    status: str
    done_at: Time | None


class OutcomeStepOut(BaseModel):
    id: str
    description: str
    due: date
    done_at: Time | None


class StepOut(OutcomeStepOut):
    assessment_id: str


class OutcomeOut(BaseModel):
    result: str
    decided_at: Time | None
    steps: list[OutcomeStepOut]


class AttachedEvidenceOut(BaseModel):
    id: str
    kind: str
    name: str
    title: str
    sha256: str
    recorded_at: Time
    filename: str | None
    media_type: str
    ledger_index: int | None


class AssessmentOut(BaseModel):
    id: str
    kind: str
    title: str
    assessor: str
    scope: str
    status: str
    planned_at: date
    fieldwork_start: date | None
    fieldwork_end: date | None
    controls: list[str]
    findings: list[AssessmentFindingOut]
    actions: list[ActionOut]
    outcome: OutcomeOut | None
    evidence: list[AttachedEvidenceOut]


class AssessmentsOut(BaseModel):
    items: list[AssessmentOut]


class OscalCatalogOut(BaseModel):
    catalog: dict[str, Any] = Field(description="An OSCAL catalog.")


class OscalPlanOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    plan_of_action_and_milestones: dict[str, Any] = Field(
        alias="plan-of-action-and-milestones",
        description="An OSCAL plan of action and milestones.",
    )


class OscalResultsOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    assessment_results: dict[str, Any] = Field(
        alias="assessment-results", description="OSCAL assessment results."
    )
