"""A device's page: who it is and where it stands, its consignment, its jobs, its history from
the ledger, its documents (triage certificate, certificate of destruction, receipt, bag label),
and what the reader may do next (open its job at the bench; a supervisor's quarantine or
disposal). Whoever may read a device's history may see it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.roles import Permission
from triage.entrypoints.downloads import pdf as _pdf
from triage.entrypoints.web.hub_returns import hub_form, register_device_form
from triage.errors import NotFound
from triage.services import disposals, documents, steps_by_device
from triage.services.views import device_detail

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Form, Site, Visit


def register(router: APIRouter, site: Site) -> None:
    application = site.application
    uow = application.uow
    page = site.page

    @router.get("/devices/{device_id}")
    @page(None)  # the service: a facility reader, or a person of the device's asset owner
    def device(visit: Visit, form: Form, device_id: str) -> Response:
        try:
            shown = device_detail.device_page(uow, visit.caller, device_id)
        except NotFound as exc:
            return site.render("error.html", visit, 404, title="No such device", message=str(exc))
        hub = hub_form(visit.caller, shown.device, shown.open_job)
        return site.render("device.html", visit, shown=shown, hub=hub)

    register_device_form(router, site, device)  # a hub's "Return to the DCC" (issue 20)

    @router.get("/devices/{device_id}/certificate-of-destruction")
    @page(None)  # the service: receipt.issue, or a person of the device's asset owner
    def destruction_certificate(visit: Visit, form: Form, device_id: str) -> Response:
        """The destroyed device's certificate of destruction (PDF), as the API gives it."""
        return _pdf(
            disposals.certificate(
                uow, visit.caller, device_id, application.issuer(), application.documents
            )
        )

    @router.get("/devices/{device_id}/label")
    @page(Permission.TRIAGE_READ)
    def bag_label(visit: Visit, form: Form, device_id: str) -> Response:
        """The label (PDF) for the device's bag, for its latest triage job."""
        return _pdf(
            documents.latest_device_label(
                uow, visit.caller, device_id, application.documents, application.facility.name
            )
        )

    @router.post("/devices/{device_id}/quarantine")
    @page(Permission.DEVICE_QUARANTINE, back=device)
    def quarantine(visit: Visit, form: Form, device_id: str) -> Response:
        job = steps_by_device.quarantine(uow, visit.caller, device_id, form.get("reason", ""))
        return site.redirect(f"/devices/{job.device_id}", done=f"{job.device_id} quarantined.")

    @router.post("/devices/{device_id}/dispose")
    @page(Permission.DEVICE_DISPOSE, back=device)
    def dispose(visit: Visit, form: Form, device_id: str) -> Response:
        job = steps_by_device.dispose(
            uow, visit.caller, device_id, form.get("action", ""), form.get("reference", "")
        )
        what = job.state.value.replace("_", " ")
        return site.redirect(f"/devices/{job.device_id}", done=f"{job.device_id} {what}.")
