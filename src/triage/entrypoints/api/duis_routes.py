"""REST endpoints: DUIS requests out (8.4, 8.3, 8.14.3, 8.14.4) (issue 20, B).

No "from __future__ import annotations" here: FastAPI must see the dependency types.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.entrypoints.api import problems
from triage.entrypoints.api.fields import Limit, Offset
from triage.entrypoints.api.routing import ThreadedRoute
from triage.entrypoints.api.security import access, operator_dependency, requires
from triage.entrypoints.downloads import attachment
from triage.entrypoints.schemas.common import Page
from triage.entrypoints.schemas.duis import BatchIn, BatchOut, BatchSummaryOut, RequestOut
from triage.services import duis_requests

ZIP: dict[int | str, dict[str, Any]] = {200: {"content": {"application/zip": {}}}}
XML: dict[int | str, dict[str, Any]] = {200: {"content": {"application/xml": {}}}}


def build_duis_router(application: App) -> APIRouter:
    """The DUIS request routes for one facility."""
    uow = application.uow
    Operator = Annotated[Caller, Depends(operator_dependency(application))]
    router = APIRouter(prefix="/api/v1", tags=["duis"], route_class=ThreadedRoute)
    produce = requires(application, Permission.DUIS_PRODUCE)

    @router.post("/duis/batches", status_code=201, responses=problems.responses(409), **produce)
    def produce_batch(body: BatchIn, caller: Operator) -> BatchOut:
        """Write the owner's requests due (validated against the DUIS schema first) and not
        handed out yet, as one unsigned ZIP (supervisor, stores)."""
        produced = duis_requests.produce_batch(
            uow,
            caller,
            application.duis_schema(),
            application.evidence_store(),
            body.asset_owner,
            dispatch_id=body.dispatch_id,
            consignment_id=body.consignment_id,
        )
        return BatchOut.of(produced.batch, produced.requests)

    @router.get("/duis/batches", **access("service"))
    def list_batches(
        caller: Operator,
        dispatch_id: Annotated[str | None, Query(max_length=36)] = None,
        consignment_id: Annotated[str | None, Query(max_length=64)] = None,
        offset: Offset = 0,
        limit: Limit = 50,
    ) -> Page[BatchSummaryOut]:
        """Batches, newest first: every one for the facility's readers, its own for a person
        of an asset owner."""
        items, total = duis_requests.batches(
            uow,
            caller,
            dispatch_id=dispatch_id,
            consignment_id=consignment_id,
            offset=offset,
            limit=limit,
        )
        return Page(
            items=[BatchSummaryOut.model_validate(b) for b in items],
            total=total,
            offset=offset,
            limit=limit,
        )

    @router.get("/duis/batches/{batch_id}", **access("service"))
    def batch(batch_id: str, caller: Operator) -> BatchOut:
        """A batch and its requests."""
        detail = duis_requests.batch(uow, caller, batch_id)
        return BatchOut.of(detail.batch, detail.requests)

    @router.get(
        "/duis/batches/{batch_id}/zip",
        response_class=Response,
        responses=ZIP,
        **access("service"),
    )
    def batch_zip(batch_id: str, caller: Operator) -> Response:
        """The batch's ZIP as handed out: one unsigned XML per request and its manifest."""
        found, content = duis_requests.batch_file(
            uow, caller, application.evidence_store(), batch_id
        )
        return attachment(content, "application/zip", found.file_name)

    @router.get("/duis/requests", **access("service"))
    def list_requests(caller: Operator, offset: Offset = 0, limit: Limit = 50) -> Page[RequestOut]:
        """The requests written, newest first (a person of an asset owner: its own)."""
        items, total = duis_requests.requests(uow, caller, offset, limit)
        return Page(
            items=[RequestOut.model_validate(r) for r in items],
            total=total,
            offset=offset,
            limit=limit,
        )

    @router.get(
        "/duis/requests/{request_id}/xml",
        response_class=Response,
        responses=XML,
        **access("service"),
    )
    def request_xml(request_id: str, caller: Operator) -> Response:
        """One request's XML as written (unsigned: the DCC User signs it)."""
        found, content = duis_requests.request_file(uow, caller, request_id)
        return attachment(content, "application/xml", found.file_name)

    return router
