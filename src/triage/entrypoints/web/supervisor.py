"""The supervisor's pages: decisions awaiting review (with the policy's reasons), overrides with
a justification (from review or from quarantine), quarantine of a device found damaged at any
step before release, and the quarantine queue with disposal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.roles import Permission
from triage.domain.tamper_policy import Outcome
from triage.services import job_steps
from triage.services.views import jobs

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Site, Visit


def register(router: APIRouter, site: Site) -> None:
    uow = site.application.uow
    page = site.page

    @router.get("/supervisor")
    @page(Permission.DECISION_OVERRIDE)
    def queues(visit: Visit, form: dict[str, str]) -> Response:
        queues = jobs.review_queues(uow, visit.caller)
        return site.render(
            "supervisor.html",
            visit,
            review=queues.awaiting_review,
            quarantined=queues.quarantined,
            reasons=queues.reasons,
            acts=queues.acts,
            outcomes=OUTCOMES,
        )

    def came_from(form: dict[str, str]) -> Any:
        """The page a supervisor's act was taken on, shown again if it is refused."""
        return site.pages["bench_job"] if form.get("back") == "job" else queues

    @router.post("/supervisor/jobs/{job_id}/override")
    @page(Permission.DECISION_OVERRIDE, back=came_from)
    def override(visit: Visit, form: dict[str, str], job_id: str) -> Response:
        outcome = form.get("outcome", "")
        job = job_steps.override(uow, visit.caller, job_id, outcome, form.get("justification", ""))
        done = f"Decision on {job.device_id} overridden: {outcome.replace('_', ' ')}."
        return site.redirect(_back(form, job_id), done=done)

    @router.post("/supervisor/jobs/{job_id}/quarantine")
    @page(Permission.DEVICE_QUARANTINE, back=came_from)
    def quarantine(visit: Visit, form: dict[str, str], job_id: str) -> Response:
        job = job_steps.quarantine(uow, visit.caller, job_id, form.get("reason", ""))
        return site.redirect(_back(form, job_id), done=f"Device {job.device_id} quarantined.")

    @router.post("/supervisor/jobs/{job_id}/dispose")
    @page(Permission.DEVICE_DISPOSE, back=came_from)
    def dispose(visit: Visit, form: dict[str, str], job_id: str) -> Response:
        action = form.get("action", "")
        job = job_steps.dispose(uow, visit.caller, job_id, action, form.get("reference", ""))
        what = "destroyed" if action == "destroy" else "returned to the manufacturer"
        return site.redirect(_back(form, job_id), done=f"Device {job.device_id} {what}.")


# The decisions an override may choose, as the forms offer them.
OUTCOMES = [o.value for o in Outcome if o is not Outcome.supervisor_review]


def _back(form: dict[str, str], job_id: str) -> str:
    """Where a supervisor's act returns: the job's page when taken there, else the queues."""
    return f"/bench/jobs/{job_id}" if form.get("back") == "job" else "/supervisor"
