"""The supervisor's pages: decisions awaiting review (with the policy's reasons), overrides with
a justification (from review or from quarantine), quarantine of a device found damaged at any
step before release, and the quarantine queue with disposal."""

from __future__ import annotations

from typing import TYPE_CHECKING

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

    @router.post("/supervisor/jobs/{job_id}/override")
    @page(Permission.DECISION_OVERRIDE)
    def override(visit: Visit, form: dict[str, str], job_id: str) -> Response:
        job_steps.override(
            uow, visit.caller, job_id, form.get("outcome", ""), form.get("justification", "")
        )
        return site.redirect(_back(form, job_id))

    @router.post("/supervisor/jobs/{job_id}/quarantine")
    @page(Permission.DEVICE_QUARANTINE)
    def quarantine(visit: Visit, form: dict[str, str], job_id: str) -> Response:
        job_steps.quarantine(uow, visit.caller, job_id, form.get("reason", ""))
        return site.redirect(_back(form, job_id))

    @router.post("/supervisor/jobs/{job_id}/dispose")
    @page(Permission.DEVICE_DISPOSE)
    def dispose(visit: Visit, form: dict[str, str], job_id: str) -> Response:
        job_steps.dispose(
            uow, visit.caller, job_id, form.get("action", ""), form.get("reference", "")
        )
        return site.redirect(_back(form, job_id))


# The decisions an override may choose, as the forms offer them.
OUTCOMES = [o.value for o in Outcome if o is not Outcome.supervisor_review]


def _back(form: dict[str, str], job_id: str) -> str:
    """Where a supervisor's act returns: the job's page when taken there, else the queues."""
    return f"/bench/jobs/{job_id}" if form.get("back") == "job" else "/supervisor"
