"""The security manager's assessments: plan one, then record the assessor's fieldwork and
findings, the facility's responses and remedial actions, and the outcome with its steps.

Each act is one service call and one ledger entry, as through the API and the CLI; the
auditor reads the same assessments, with their reports and evidence packs, on
/auditor/assessments."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.assessment import Kind, Result, Severity
from triage.domain.roles import Permission
from triage.services import assessment
from triage.services.views import assessments as views

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Site, Visit

# Rows for the additional steps an approval may be subject to.
STEP_ROWS = 3
RESULTS = {
    Result.APPROVAL.value: "Approval",
    Result.APPROVAL_WITH_STEPS.value: "Approval subject to additional steps",
    Result.DEFERRED.value: "Deferred",
    Result.REJECTION.value: "Rejection",
}


def _steps(form: dict[str, str]) -> list[tuple[str, str]]:
    """The additional steps typed into the outcome form: each row with a description or a
    date (the service refuses a row with only one of them)."""
    rows = []
    for row in range(1, STEP_ROWS + 1):
        description = form.get(f"step_{row}_description", "").strip()
        due = form.get(f"step_{row}_due", "").strip()
        if description or due:
            rows.append((description, due))
    return rows


def register(router: APIRouter, site: Site) -> None:
    uow = site.application.uow
    page = site.page

    @router.get("/assessments")
    @page(Permission.ASSURANCE_MANAGE)
    def overview(visit: Visit, form: dict[str, str]) -> Response:
        shown = views.assessments_planned(uow, visit.caller)
        return site.render(
            "assessments.html",
            visit,
            assessments=shown.assessments,
            in_progress=shown.in_progress,
            due=shown.next_assessment.schedule,
            kinds=[(k.value, f"{k.value}: {k.long_name}") for k in Kind],
        )

    @router.post("/assessments")
    @page(Permission.ASSURANCE_MANAGE, back=overview)
    def plan(visit: Visit, form: dict[str, str]) -> Response:
        planned = assessment.plan(
            uow,
            visit.caller,
            form.get("kind", ""),
            form.get("assessor", ""),
            form.get("scope", ""),
            form.get("planned_at", ""),
        )
        return site.redirect(
            f"/assessments/{planned.id}",
            done=f"Planned the {planned.kind.value} by {planned.assessor} for {planned.planned_at}",
        )

    @router.get("/assessments/{assessment_id}")
    @page(Permission.ASSURANCE_MANAGE)
    def detail(visit: Visit, form: dict[str, str], assessment_id: str) -> Response:
        shown = views.assessment_shown(uow, visit.caller, assessment_id)
        return site.render(
            "assessment.html",
            visit,
            a=shown.assessment,
            evidence=shown.evidence,
            controls=[(c, c) for c in shown.assessment.controls],
            severities=[(s.value, s.value) for s in Severity],
            results=list(RESULTS.items()),
            result_names=RESULTS,
            step_rows=range(1, STEP_ROWS + 1),
        )

    def back_to(assessment_id: str, done: str) -> Response:
        return site.redirect(f"/assessments/{assessment_id}", done=done)

    @router.post("/assessments/{assessment_id}/fieldwork")
    @page(Permission.ASSURANCE_MANAGE, back=detail)
    def fieldwork(visit: Visit, form: dict[str, str], assessment_id: str) -> Response:
        found = assessment.record_fieldwork(
            uow, visit.caller, assessment_id, form.get("start", ""), form.get("end", "")
        )
        return back_to(
            assessment_id, f"Recorded fieldwork {found.fieldwork_start} to {found.fieldwork_end}"
        )

    @router.post("/assessments/{assessment_id}/evidence")
    @page(Permission.ASSURANCE_MANAGE, back=detail)
    def attach(visit: Visit, form: dict[str, str], assessment_id: str) -> Response:
        chosen = [key.removeprefix("evidence_") for key in form if key.startswith("evidence_")]
        assessment.attach_evidence(uow, visit.caller, assessment_id, chosen)
        return back_to(assessment_id, f"Put {len(chosen)} pieces of evidence before the assessor")

    @router.post("/assessments/{assessment_id}/findings")
    @page(Permission.ASSURANCE_MANAGE, back=detail)
    def finding(visit: Visit, form: dict[str, str], assessment_id: str) -> Response:
        raised = assessment.raise_finding(
            uow,
            visit.caller,
            assessment_id,
            form.get("control_id", ""),
            form.get("severity", ""),
            form.get("description", ""),
        )
        return back_to(
            assessment_id, f"Recorded a {raised.severity.value} finding on {raised.control_id}"
        )

    @router.post("/assessments/{assessment_id}/findings/{finding_id}/response")
    @page(Permission.ASSURANCE_MANAGE, back=detail)
    def respond(
        visit: Visit, form: dict[str, str], assessment_id: str, finding_id: str
    ) -> Response:
        answered = assessment.respond(
            uow, visit.caller, finding_id, form.get("text", ""), form.get("due", "")
        )
        return back_to(
            assessment_id,
            f"Recorded the response to the finding on {answered.control_id}, "
            f"remedied by {answered.response_due}",
        )

    @router.post("/assessments/{assessment_id}/findings/{finding_id}/actions")
    @page(Permission.ASSURANCE_MANAGE, back=detail)
    def action(visit: Visit, form: dict[str, str], assessment_id: str, finding_id: str) -> Response:
        planned = assessment.plan_action(
            uow,
            visit.caller,
            finding_id,
            form.get("description", ""),
            form.get("owner", ""),
            form.get("due", ""),
        )
        return back_to(
            assessment_id, f"Planned a remedial action for {planned.owner} by {planned.due}"
        )

    @router.post("/assessments/{assessment_id}/actions/{action_id}/done")
    @page(Permission.ASSURANCE_MANAGE, back=detail)
    def action_done(
        visit: Visit, form: dict[str, str], assessment_id: str, action_id: str
    ) -> Response:
        done = assessment.complete_action(uow, visit.caller, action_id)
        return back_to(assessment_id, f"Remedial action of {done.owner} done")

    @router.post("/assessments/{assessment_id}/findings/{finding_id}/close")
    @page(Permission.ASSURANCE_MANAGE, back=detail)
    def close(visit: Visit, form: dict[str, str], assessment_id: str, finding_id: str) -> Response:
        closed = assessment.close_finding(uow, visit.caller, finding_id, form.get("reason", ""))
        return back_to(assessment_id, f"Closed the finding on {closed.control_id}")

    @router.post("/assessments/{assessment_id}/outcome")
    @page(Permission.ASSURANCE_MANAGE, back=detail)
    def outcome(visit: Visit, form: dict[str, str], assessment_id: str) -> Response:
        decided = assessment.record_outcome(
            uow, visit.caller, assessment_id, form.get("result", ""), _steps(form)
        )
        result = decided.result.value if decided.result is not None else ""
        return back_to(assessment_id, f"Recorded the outcome: {RESULTS.get(result, result)}")

    @router.post("/assessments/{assessment_id}/steps/{step_id}/done")
    @page(Permission.ASSURANCE_MANAGE, back=detail)
    def step_done(visit: Visit, form: dict[str, str], assessment_id: str, step_id: str) -> Response:
        step = assessment.complete_step(uow, visit.caller, step_id)
        return back_to(assessment_id, f"Step done: {step.description}")
