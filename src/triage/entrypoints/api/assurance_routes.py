"""REST endpoints of assurance: the provider, commissioning mode, controls, evidence,
readiness, the schedule, and security assessments.

No "from __future__ import annotations" here: FastAPI must see the dependency types that are
defined inside ``build_assurance_router``.
"""

import io
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.entrypoints.api.fields import Limit, Offset, Timestamp
from triage.entrypoints.api.routing import ThreadedRoute
from triage.entrypoints.api.security import operator_dependency, requires
from triage.entrypoints.downloads import attachment
from triage.entrypoints.request_bodies import MiB, body_limit, limited_body
from triage.entrypoints.schemas.assurance import (
    ActionOut,
    ApplicabilityOut,
    AssessmentOut,
    AssessmentsOut,
    AssuranceStatusOut,
    CatalogueAdoptedOut,
    CheckedEvidencePageOut,
    CommissioningEndedOut,
    CommissioningOut,
    ControlDefinitionOut,
    ControlsOut,
    EvidenceCheckOut,
    EvidenceItemsOut,
    EvidenceOut,
    FindingOut,
    NextAssessmentOut,
    OscalCatalogOut,
    OscalPlanOut,
    OscalResultsOut,
    PartyOut,
    ReadinessOut,
    StepOut,
)
from triage.services import assessment, assurance, automatic_evidence, oscal_export
from triage.services.evidence_pack import EvidencePack, evidence_pack
from triage.services.ports import FileStore

MAX_UPLOAD_BYTES = 64 * 1024 * 1024


class PartyIn(BaseModel):
    party_id: str = Field(max_length=64, description="The SEC Party identifier.")
    name: str = Field(max_length=200)
    roles: list[str] = Field(max_length=10, description="SEC Party roles held.")


class CommissioningIn(BaseModel):
    until: Timestamp = Field(description="When commissioning mode ends (at most 90 days).")
    reason: str = Field(max_length=2000)


class ReasonIn(BaseModel):
    reason: str = Field(max_length=2000)


class CatalogueIn(BaseModel):
    text: str | None = Field(
        default=None, max_length=1024 * 1024, description="Catalogue YAML; none: the packaged one."
    )


class ExpectedIn(BaseModel):
    kind: Literal["automatic", "upload"]
    name: str = Field(max_length=64)
    title: str = Field(max_length=200)


class ControlIn(BaseModel):
    id: str = Field(max_length=32, description="The provider's own ids start 'P-'.")
    clause: str = Field(max_length=64)
    group: str = Field(max_length=64)
    title: str = Field(max_length=200)
    requirement: str = Field(max_length=2000)
    evidence: list[ExpectedIn] = Field(max_length=20)


class ApplicabilityIn(BaseModel):
    applicable: bool
    reason: str = Field(max_length=2000)


class GenerateIn(BaseModel):
    names: list[str] | None = Field(
        default=None, max_length=20, description="Kinds of automatic evidence; none: all."
    )


class PlanIn(BaseModel):
    kind: Literal["FUSA", "VUSA", "USSA"]
    assessor: str = Field(max_length=200)
    scope: str = Field(max_length=2000)
    planned_at: str = Field(max_length=10, description="YYYY-MM-DD.")
    controls: list[str] | None = Field(default=None, max_length=500)


class FieldworkIn(BaseModel):
    start: str = Field(max_length=10)
    end: str = Field(max_length=10)


class AttachIn(BaseModel):
    evidence_ids: list[str] = Field(max_length=500)


class FindingIn(BaseModel):
    control_id: str = Field(max_length=32)
    severity: Literal["low", "medium", "high", "critical"]
    description: str = Field(max_length=4000)


class ResponseIn(BaseModel):
    text: str = Field(max_length=4000)
    due: str = Field(max_length=10)


class ActionIn(BaseModel):
    description: str = Field(max_length=2000)
    owner: str = Field(max_length=64)
    due: str = Field(max_length=10)


class StepIn(BaseModel):
    description: str = Field(max_length=2000)
    due: str = Field(max_length=10)


class OutcomeIn(BaseModel):
    result: Literal["approval", "approval_with_steps", "deferred", "rejection"]
    steps: list[StepIn] = Field(default_factory=list, max_length=50)


def build_assurance_router(application: App) -> APIRouter:
    """The assurance routes for one facility."""
    uow = application.uow
    Operator = Annotated[Caller, Depends(operator_dependency(application))]
    router = APIRouter(prefix="/api/v1", route_class=ThreadedRoute)
    read = requires(application, Permission.ASSURANCE_READ)
    manage = requires(application, Permission.ASSURANCE_MANAGE)
    facility = requires(application, Permission.FACILITY_MANAGE)

    def store() -> FileStore:
        return application.evidence_store()

    def _pack(assessment_id: str, caller: Caller) -> EvidencePack:
        issuer = application.issuer()
        return evidence_pack(uow, caller, assessment_id, issuer, store(), application.packs)

    # -- the provider and commissioning -----------------------------------------------------
    @router.get("/assurance/status", tags=["assurance"], **read)
    def status(caller: Operator) -> AssuranceStatusOut:
        """The provider, the approval, commissioning mode, whether triage may go ahead, and
        the next assessment due."""
        return AssuranceStatusOut.model_validate(assessment.status(uow, caller).to_json())

    @router.put("/assurance/party", tags=["assurance"], **facility)
    def put_party(body: PartyIn, caller: Operator) -> PartyOut:
        """Record the provider's SEC Party details (an administrator)."""
        found = assessment.record_party(uow, caller, body.party_id, body.name, body.roles)
        return PartyOut(party_id=found.party_id, name=found.name, roles=list(found.roles))

    @router.post("/assurance/commissioning", tags=["assurance"], **facility)
    def start_commissioning(body: CommissioningIn, caller: Operator) -> CommissioningOut:
        """Switch on commissioning mode, time-limited, for test devices before approval."""
        found = assessment.start_commissioning(uow, caller, body.until, body.reason)
        return CommissioningOut(until=found.until, reason=found.reason)

    @router.post("/assurance/commissioning/end", tags=["assurance"], **facility)
    def end_commissioning(body: ReasonIn, caller: Operator) -> CommissioningEndedOut:
        """Switch off commissioning mode now."""
        assessment.end_commissioning(uow, caller, body.reason)
        return CommissioningEndedOut(commissioning=None)

    # -- controls ---------------------------------------------------------------------------
    @router.get("/assurance/controls", tags=["assurance"], **read)
    def get_controls(caller: Operator) -> ControlsOut:
        """The catalogue in force and every control, with whether it applies."""
        return ControlsOut.model_validate(assurance.controls(uow, caller).to_json())

    @router.post("/assurance/catalogue", tags=["assurance"], **manage)
    @body_limit(4 * MiB)  # up to 1 MiB of catalogue YAML, escaped inside a JSON string
    def adopt(body: CatalogueIn, caller: Operator) -> CatalogueAdoptedOut:
        """Put a catalogue in force: the packaged one, or the YAML given."""
        found = assurance.adopt_catalogue(uow, caller, body.text)
        return CatalogueAdoptedOut(name=found.name, version=found.version, sha256=found.sha256)

    @router.post("/assurance/controls", tags=["assurance"], status_code=201, **manage)
    def add_control(body: ControlIn, caller: Operator) -> ControlDefinitionOut:
        """Add a control of the provider's own."""
        found = assurance.add_control(uow, caller, body.model_dump())
        return ControlDefinitionOut.model_validate(found.to_json())

    @router.post("/assurance/controls/{control_id}/applicability", tags=["assurance"], **manage)
    def applicability(control_id: str, body: ApplicabilityIn, caller: Operator) -> ApplicabilityOut:
        """Mark a control not applicable, or applicable again, with a reason."""
        found = assurance.set_applicable(uow, caller, control_id, body.applicable, body.reason)
        return ApplicabilityOut.model_validate(found.to_json())

    @router.get("/assurance/readiness", tags=["assurance"], **read)
    def readiness(caller: Operator) -> ReadinessOut:
        """Per control: its evidence fresh, stale, missing or altered."""
        rows = assurance.control_readiness(uow, caller, store())
        return ReadinessOut.model_validate({"controls": [r.to_json() for r in rows]})

    @router.get("/assurance/schedule", tags=["assurance"], **read)
    def schedule(caller: Operator) -> NextAssessmentOut:
        """Which assessment is due next, when, and why that type."""
        return NextAssessmentOut.model_validate(assessment.schedule(uow, caller).to_json())

    # -- evidence ---------------------------------------------------------------------------
    @router.post("/assurance/evidence/generate", tags=["assurance"], status_code=201, **manage)
    def generate(body: GenerateIn, caller: Operator) -> EvidenceItemsOut:
        """Produce automatic evidence now; each file is stored by its SHA-256 in the ledger."""
        made = automatic_evidence.generate(
            uow, caller, application.issuer(), application.replay_check, store(), body.names
        )
        return EvidenceItemsOut.model_validate({"items": [e.to_json() for e in made]})

    @router.post("/assurance/verify-now", tags=["assurance"], status_code=201, **read)
    def verify_now(caller: Operator) -> EvidenceItemsOut:
        """Verify the whole ledger and replay it into fresh tables now (an auditor may): both
        recorded as automatic evidence, the verification first (each with its ok)."""
        made = automatic_evidence.verify_now(
            uow, caller, application.issuer(), application.replay_check, store()
        )
        return EvidenceItemsOut.model_validate({"items": [e.to_json() for e in made]})

    body_any = {"requestBody": {"content": {"application/octet-stream": {}}, "required": True}}
    upload_options = {**manage, "openapi_extra": {**manage["openapi_extra"], **body_any}}

    @router.post("/assurance/evidence", tags=["assurance"], status_code=201, **upload_options)
    @body_limit(MAX_UPLOAD_BYTES)
    async def upload(
        request: Request,
        caller: Operator,
        name: Annotated[str, Query(max_length=64, description="The evidence it is.")],
        title: Annotated[str, Query(max_length=200)],
        filename: Annotated[str, Query(max_length=200)],
        control: Annotated[list[str] | None, Query(max_length=50)] = None,
    ) -> EvidenceOut:
        """Keep a document (the body; its Content-Type is recorded) with its SHA-256."""
        body = await limited_body(request, MAX_UPLOAD_BYTES)
        media = request.headers.get("content-type", "application/octet-stream").split(";")[0]
        found = assurance.upload(
            uow,
            caller,
            store(),
            name=name,
            title=title,
            filename=filename,
            media_type=media,
            content=io.BytesIO(body),
            control_ids=control or [],
        )
        return EvidenceOut.model_validate(found.to_json())

    @router.get("/assurance/evidence", tags=["assurance"], **read)
    def list_evidence(
        caller: Operator,
        name: Annotated[str | None, Query(max_length=64)] = None,
        offset: Offset = 0,
        limit: Limit = 50,
    ) -> CheckedEvidencePageOut:
        """Evidence, oldest first, each with whether its file still matches its SHA-256."""
        items, total = assurance.evidence_list(uow, caller, store(), name, offset, limit)
        return CheckedEvidencePageOut.model_validate(
            {
                "items": [e.to_json() for e in items],
                "total": total,
                "offset": offset,
                "limit": limit,
            }
        )

    @router.get(
        "/assurance/evidence/{evidence_id}/file",
        tags=["assurance"],
        response_class=Response,
        responses={
            200: {
                "description": "The file as uploaded or generated, in its recorded media type "
                "(any: a PDF, a CSV, a JSON report...).",
                "content": {"*/*": {}},
            }
        },
        **read,
    )
    def evidence_file(evidence_id: str, caller: Operator) -> Response:
        """The evidence file (409 when it no longer matches its recorded SHA-256)."""
        found, content = assurance.evidence_file(uow, caller, store(), evidence_id)
        name = found.filename or f"{found.name}-{found.sha256[:12]}.json"
        return Response(
            content,
            media_type=found.media_type,
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "X-Content-SHA256": found.sha256,
            },
        )

    @router.get("/assurance/evidence-check", tags=["assurance"], **read)
    def evidence_check(caller: Operator) -> EvidenceCheckOut:
        """Evidence files that no longer match their recorded SHA-256 (missing or altered)."""
        flagged = assurance.check_files(uow, caller, store())
        return EvidenceCheckOut.model_validate({"flagged": [f.to_json() for f in flagged]})

    # -- assessments ------------------------------------------------------------------------
    @router.get("/assessments", tags=["assessments"], **read)
    def list_assessments(caller: Operator) -> AssessmentsOut:
        """Every assessment, oldest first."""
        found = assessment.list_all(uow, caller)
        return AssessmentsOut.model_validate({"items": [a.to_json() for a in found]})

    @router.post("/assessments", tags=["assessments"], status_code=201, **manage)
    def plan(body: PlanIn, caller: Operator) -> AssessmentOut:
        """Record an assessment to come (the first one is a FUSA)."""
        found = assessment.plan(
            uow, caller, body.kind, body.assessor, body.scope, body.planned_at, body.controls
        )
        return AssessmentOut.model_validate(found.to_json())

    @router.get("/assessments/{assessment_id}", tags=["assessments"], **read)
    def get_assessment(assessment_id: str, caller: Operator) -> AssessmentOut:
        """One assessment with findings, actions, outcome and evidence."""
        found = assessment.get(uow, caller, assessment_id)
        return AssessmentOut.model_validate(found.to_json())

    @router.post("/assessments/{assessment_id}/fieldwork", tags=["assessments"], **manage)
    def fieldwork(assessment_id: str, body: FieldworkIn, caller: Operator) -> AssessmentOut:
        """When the assessor worked at the facility."""
        found = assessment.record_fieldwork(uow, caller, assessment_id, body.start, body.end)
        return AssessmentOut.model_validate(found.to_json())

    @router.post("/assessments/{assessment_id}/evidence", tags=["assessments"], **manage)
    def attach(assessment_id: str, body: AttachIn, caller: Operator) -> AssessmentOut:
        """Put evidence in front of the assessor."""
        found = assessment.attach_evidence(uow, caller, assessment_id, body.evidence_ids)
        return AssessmentOut.model_validate(found.to_json())

    @router.post(
        "/assessments/{assessment_id}/findings",
        tags=["assessments"],
        status_code=201,
        **manage,
    )
    def finding(assessment_id: str, body: FindingIn, caller: Operator) -> FindingOut:
        """Record a finding against an assessed control."""
        found = assessment.raise_finding(
            uow, caller, assessment_id, body.control_id, body.severity, body.description
        )
        return FindingOut.model_validate(found.to_json())

    @router.post("/assessments/{assessment_id}/outcome", tags=["assessments"], **manage)
    def outcome(assessment_id: str, body: OutcomeIn, caller: Operator) -> AssessmentOut:
        """Record the outcome: approval, approval subject to steps, deferral or rejection."""
        steps = [(s.description, s.due) for s in body.steps]
        found = assessment.record_outcome(uow, caller, assessment_id, body.result, steps)
        return AssessmentOut.model_validate(found.to_json())

    @router.post("/findings/{finding_id}/response", tags=["assessments"], **manage)
    def respond(finding_id: str, body: ResponseIn, caller: Operator) -> FindingOut:
        """The provider's response to a finding, with a due date."""
        found = assessment.respond(uow, caller, finding_id, body.text, body.due)
        return FindingOut.model_validate(found.to_json())

    @router.post("/findings/{finding_id}/actions", tags=["assessments"], status_code=201, **manage)
    def action(finding_id: str, body: ActionIn, caller: Operator) -> ActionOut:
        """A remedial action with an owner and a due date."""
        found = assessment.plan_action(
            uow, caller, finding_id, body.description, body.owner, body.due
        )
        return ActionOut.model_validate(found.to_json())

    @router.post("/findings/{finding_id}/close", tags=["assessments"], **manage)
    def close(finding_id: str, body: ReasonIn, caller: Operator) -> FindingOut:
        """Close a remedied finding."""
        found = assessment.close_finding(uow, caller, finding_id, body.reason)
        return FindingOut.model_validate(found.to_json())

    @router.post("/actions/{action_id}/done", tags=["assessments"], **manage)
    def action_done(action_id: str, caller: Operator) -> ActionOut:
        """A remedial action carried out."""
        found = assessment.complete_action(uow, caller, action_id)
        return ActionOut.model_validate(found.to_json())

    @router.post("/steps/{step_id}/done", tags=["assessments"], **manage)
    def step_done(step_id: str, caller: Operator) -> StepOut:
        """An additional step of an approval carried out."""
        found = assessment.complete_step(uow, caller, step_id)
        return StepOut.model_validate(found.to_json())

    # -- exports ----------------------------------------------------------------------------
    @router.get("/assurance/oscal/catalog", tags=["assurance"], **read)
    def oscal_catalog(caller: Operator) -> OscalCatalogOut:
        """The controls in force as an OSCAL catalog (JSON)."""
        found = oscal_export.catalog(uow, caller, application.oscal)
        return OscalCatalogOut.model_validate(found)

    @router.get("/assurance/oscal/poam", tags=["assurance"], **read)
    def oscal_poam(caller: Operator) -> OscalPlanOut:
        """Open findings and remedial actions as an OSCAL plan-of-action-and-milestones."""
        found = oscal_export.plan_of_action(uow, caller, application.oscal, application.facility)
        return OscalPlanOut.model_validate(found)

    @router.get("/assessments/{assessment_id}/oscal", tags=["assessments"], **read)
    def oscal_results(assessment_id: str, caller: Operator) -> OscalResultsOut:
        """The assessment as OSCAL assessment-results."""
        found = oscal_export.assessment_results(
            uow, caller, assessment_id, application.oscal, application.facility
        )
        return OscalResultsOut.model_validate(found)

    @router.get(
        "/assessments/{assessment_id}/pack",
        tags=["assessments"],
        response_class=Response,
        responses={200: {"content": {"application/zip": {}}}},
        **read,
    )
    def pack(assessment_id: str, caller: Operator) -> Response:
        """The evidence pack: the assessment's PDF, its evidence files and a manifest of their
        SHA-256 hashes with the inclusion proof of each one's ledger entry (zip)."""
        found = _pack(assessment_id, caller)
        return attachment(found.pack, "application/zip", found.filename)

    @router.get(
        "/assessments/{assessment_id}/report",
        tags=["assessments"],
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}}}},
        **read,
    )
    def report(assessment_id: str, caller: Operator) -> Response:
        """The assessment's PDF: controls, their status and evidence, findings and actions."""
        found = _pack(assessment_id, caller)
        return attachment(found.report, "application/pdf", found.report_filename)

    return router
