"""Pages: DUIS requests out (8.4, 8.3, 8.14.3, 8.14.4) (issue 20, B).

Stores and supervisors produce an asset owner's requests due as one ZIP (every request
validated against the DUIS schema first) and download it for the owner's DCC User, who signs
and submits them; a person of the asset owner sees and downloads its own batches. The
dispatch and consignment pages link here, filtered to their batches."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.roles import Permission
from triage.entrypoints.downloads import attachment
from triage.services import duis_requests

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Form, Site, Visit

LISTED = 100


def batch_href(batch_id: str) -> str:
    return f"/duis/batches/{quote(batch_id, safe='')}.zip"


def request_href(request_id: str) -> str:
    return f"/duis/requests/{quote(request_id, safe='')}.xml"


def register(router: APIRouter, site: Site) -> None:
    """Add the pages of this area to ``router``."""
    uow = site.application.uow
    page = site.page

    @router.get("/duis")
    @page(None)  # the service: every batch for the facility's readers, its own for an owner
    def overview(visit: Visit, form: Form) -> Response:
        dispatch_id = form.get("dispatch_id") or None
        consignment_id = form.get("consignment_id") or None
        shown = duis_requests.overview(
            uow, visit.caller, LISTED, dispatch_id=dispatch_id, consignment_id=consignment_id
        )
        return site.render(
            "duis.html",
            visit,
            shown=shown,
            batches=[(b, batch_href(b.id)) for b in shown.batches],
            requests=[(r, request_href(r.request_id)) for r in shown.requests],
            owners=[(o.id, f"{o.id} ({o.name})") for o in shown.owners],
            dispatch_id=dispatch_id or "",
            consignment_id=consignment_id or "",
        )

    @router.post("/duis")
    @page(Permission.DUIS_PRODUCE, back=overview)
    def produce(visit: Visit, form: Form) -> Response:
        application = site.application
        produced = duis_requests.produce_batch(
            uow,
            visit.caller,
            application.duis_schema(),
            application.evidence_store(),
            form.get("asset_owner", ""),
            dispatch_id=form.get("dispatch_id") or None,
            consignment_id=form.get("consignment_id") or None,
        )
        return site.redirect(
            "/duis",
            done=f"Produced {len(produced.requests)} DUIS request(s) for "
            f"{produced.batch.asset_owner}: download the batch below for its DCC User to sign",
        )

    @router.get("/duis/batches/{batch_id}.zip")
    @page(None)  # the service: the facility's readers, or a person of the batch's owner
    def batch_zip(visit: Visit, form: Form, batch_id: str) -> Response:
        found, content = duis_requests.batch_file(
            uow, visit.caller, site.application.evidence_store(), batch_id
        )
        return attachment(content, "application/zip", found.file_name)

    @router.get("/duis/requests/{request_id}.xml")
    @page(None)  # the service: the facility's readers, or a person of the request's owner
    def request_xml(visit: Visit, form: Form, request_id: str) -> Response:
        found, content = duis_requests.request_file(uow, visit.caller, request_id)
        return attachment(content, "application/xml", found.file_name)
