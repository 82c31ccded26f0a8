"""The supervisor's pages: decisions awaiting review, overrides with a justification, and the
quarantine queue with disposal."""

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
            outcomes=[o.value for o in Outcome],
        )

    @router.post("/supervisor/jobs/{job_id}/override")
    @page(Permission.DECISION_OVERRIDE)
    def override(visit: Visit, form: dict[str, str], job_id: str) -> Response:
        job_steps.override(
            uow, visit.caller, job_id, form.get("outcome", ""), form.get("justification", "")
        )
        return site.redirect("/supervisor")

    @router.post("/supervisor/jobs/{job_id}/dispose")
    @page(Permission.DEVICE_DISPOSE)
    def dispose(visit: Visit, form: dict[str, str], job_id: str) -> Response:
        job_steps.dispose(
            uow, visit.caller, job_id, form.get("action", ""), form.get("reference", "")
        )
        return site.redirect("/supervisor")
