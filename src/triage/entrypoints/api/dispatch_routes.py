"""REST endpoints: Dispatches, manifests, VVTT checks, handovers, acknowledgements
(issue 19 item 2).

No "from __future__ import annotations" here: FastAPI must see the dependency types.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.dispatch import SealChecks
from triage.domain.roles import Permission
from triage.entrypoints.api import problems
from triage.entrypoints.api.fields import Limit, Offset
from triage.entrypoints.api.routing import ThreadedRoute
from triage.entrypoints.api.security import access, operator_dependency, requires
from triage.entrypoints.downloads import attachment, pdf
from triage.entrypoints.request_bodies import MiB, body_limit, limited_body
from triage.entrypoints.schemas.common import SIGNED_DOCUMENT, SIGNED_DOCUMENT_SCHEMA, Page
from triage.entrypoints.schemas.dispatches import (
    AcknowledgementIn,
    DispatchIn,
    DispatchOut,
    DispatchSummaryOut,
    HandoverIn,
    PackIn,
    UnpackIn,
)
from triage.services import dispatches

MAX_ACKNOWLEDGEMENT_BYTES = 4 * MiB
SIGNED_BODY: dict[str, Any] = {
    "required": True,
    "description": "The acknowledgement signed with the asset owner's key, as "
    "`triage dispatch sign-acknowledgement` writes it.",
    "content": {"application/json": {"schema": SIGNED_DOCUMENT_SCHEMA}},
}


def build_dispatch_router(application: App) -> APIRouter:
    """The dispatch routes for one facility."""
    uow = application.uow
    Operator = Annotated[Caller, Depends(operator_dependency(application))]
    router = APIRouter(prefix="/api/v1", tags=["dispatches"], route_class=ThreadedRoute)
    manage = requires(application, Permission.DISPATCH_MANAGE)

    @router.get("/dispatches", **access("service"))
    def list_dispatches(
        caller: Operator,
        state: Annotated[str | None, Query(max_length=16)] = None,
        offset: Offset = 0,
        limit: Limit = 50,
    ) -> Page[DispatchSummaryOut]:
        """Dispatches, newest first: every one for the facility's readers, its own for a
        person of an asset owner."""
        items, total = dispatches.dispatches(uow, caller, state, offset, limit)
        return Page(
            items=[DispatchSummaryOut.model_validate(d) for d in items],
            total=total,
            offset=offset,
            limit=limit,
        )

    @router.post("/dispatches", status_code=201, **manage)
    def create(body: DispatchIn, caller: Operator) -> DispatchOut:
        """Open a dispatch for one asset owner (stores, supervisor)."""
        return DispatchOut.of(
            dispatches.create(uow, caller, body.asset_owner, body.destination, body.reference)
        )

    @router.get("/dispatches/{dispatch_id}", **access("service"))
    def detail(dispatch_id: str, caller: Operator) -> DispatchOut:
        """A dispatch: its devices and checks, handover and acknowledgement."""
        return DispatchOut.of(dispatches.dispatch(uow, caller, dispatch_id))

    @router.post("/dispatches/{dispatch_id}/pack", responses=problems.responses(409), **manage)
    def pack(dispatch_id: str, body: PackIn, caller: Operator) -> DispatchOut:
        """Pack a device with its seal scanned and the VVTT checks confirmed. A failed check
        is 409: the device is not packed, the attempt is recorded as an exception."""
        checks = SealChecks(
            body.checks.viewed, body.checks.verified, body.checks.tugged, body.checks.twisted
        )
        return DispatchOut.of(
            dispatches.pack(uow, caller, dispatch_id, body.device_id, body.seal_serial, checks)
        )

    @router.post("/dispatches/{dispatch_id}/unpack", **manage)
    def unpack(dispatch_id: str, body: UnpackIn, caller: Operator) -> DispatchOut:
        """Take a device out of an open dispatch."""
        return DispatchOut.of(dispatches.unpack(uow, caller, dispatch_id, body.device_id))

    @router.post("/dispatches/{dispatch_id}/cancel", **manage)
    def cancel(dispatch_id: str, caller: Operator) -> DispatchOut:
        """Cancel an open dispatch."""
        return DispatchOut.of(dispatches.cancel(uow, caller, dispatch_id))

    @router.post("/dispatches/{dispatch_id}/close", **manage)
    def close(dispatch_id: str, caller: Operator) -> DispatchOut:
        """Freeze the manifest and sign the dispatch note."""
        return DispatchOut.of(
            dispatches.close(uow, caller, dispatch_id, application.issuer(), application.documents)
        )

    @router.get(
        "/dispatches/{dispatch_id}/note.json",
        response_class=Response,
        responses={200: SIGNED_DOCUMENT},
        **access("service"),
    )
    def note_json(dispatch_id: str, caller: Operator) -> Response:
        """The signed dispatch note, as signed (check it: triage dispatch verify-note)."""
        content = dispatches.note(uow, caller, dispatch_id)
        return attachment(content, "application/json", f"dispatch-note-{dispatch_id[:36]}.json")

    @router.get(
        "/dispatches/{dispatch_id}/note.pdf",
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}}}},
        **access("service"),
    )
    def note_pdf(dispatch_id: str, caller: Operator) -> Response:
        """The dispatch note as a PDF, with a QR code of its digest and the dispatch id."""
        return pdf(
            dispatches.note_pdf(
                uow, caller, dispatch_id, application.issuer(), application.documents
            )
        )

    @router.post("/dispatches/{dispatch_id}/hand-over", **manage)
    def hand_over(dispatch_id: str, body: HandoverIn, caller: Operator) -> DispatchOut:
        """Record the closed dispatch handed to a carrier."""
        return DispatchOut.of(
            dispatches.hand_over(
                uow, caller, dispatch_id, body.carrier, body.vehicle, body.container_seal
            )
        )

    @router.post(
        "/dispatches/{dispatch_id}/acknowledgement",
        responses=problems.responses(409),
        **requires(application, Permission.DISPATCH_ACKNOWLEDGE),
    )
    def acknowledge(dispatch_id: str, body: AcknowledgementIn, caller: Operator) -> DispatchOut:
        """The asset owner's person acknowledges receipt, listing any discrepancy (each
        becomes an exception)."""
        found = [(d.device_id, d.kind, d.text) for d in body.discrepancies]
        return DispatchOut.of(dispatches.acknowledge(uow, caller, dispatch_id, found))

    async def _signed(dispatch_id: str, request: Request, caller: Caller) -> DispatchOut:
        data = await limited_body(request, MAX_ACKNOWLEDGEMENT_BYTES)
        found = await run_in_threadpool(
            dispatches.acknowledge_signed, uow, caller, dispatch_id, data
        )
        return DispatchOut.of(found)

    def _upload(permission: Permission) -> dict[str, Any]:
        options = requires(application, permission)
        extra = {**options["openapi_extra"], "requestBody": SIGNED_BODY}
        return {**options, "openapi_extra": extra, "responses": problems.responses(409)}

    @router.post(
        "/dispatches/{dispatch_id}/acknowledgement/signed",
        **_upload(Permission.DISPATCH_ACKNOWLEDGE),
    )
    @body_limit(MAX_ACKNOWLEDGEMENT_BYTES)
    async def acknowledge_signed(
        dispatch_id: str, request: Request, caller: Operator
    ) -> DispatchOut:
        """Upload an acknowledgement signed with the asset owner's key (its person)."""
        return await _signed(dispatch_id, request, caller)

    @router.post(
        "/dispatches/{dispatch_id}/acknowledgement/received",
        **_upload(Permission.DISPATCH_MANAGE),
    )
    @body_limit(MAX_ACKNOWLEDGEMENT_BYTES)
    async def acknowledgement_received(
        dispatch_id: str, request: Request, caller: Operator
    ) -> DispatchOut:
        """Record an acknowledgement signed with the asset owner's key that stores received
        by mail."""
        return await _signed(dispatch_id, request, caller)

    return router
