"""REST endpoints of the triage workflow: consignments, devices, jobs, exceptions, agents.

No "from __future__ import annotations" here: FastAPI must see the dependency types that are
defined inside ``build_router``.
"""

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from triage.bootstrap import App
from triage.domain import agent_request
from triage.domain.caller import Caller
from triage.domain.lifecycle import JobState
from triage.domain.manifest import ManifestFormatError, parse_manifest
from triage.domain.roles import Permission
from triage.domain.tamper_policy import Cover, SecuritySealState
from triage.entrypoints.api import problems
from triage.entrypoints.api.fields import Limit, Offset
from triage.entrypoints.api.routing import Quick, ThreadedRoute
from triage.entrypoints.api.security import access, operator_dependency, requires
from triage.entrypoints.api.waiting import NOT_MODIFIED, WAITING_DOC, WaitingReads
from triage.entrypoints.downloads import pdf
from triage.entrypoints.request_bodies import body_limit, limited_body
from triage.entrypoints.schemas.common import Page, StatusOut
from triage.entrypoints.schemas.triage import (
    AcceptedRowOut,
    ClosedConsignmentOut,
    ConsignmentDetailOut,
    ConsignmentOut,
    DecisionOut,
    DeviceHistoryOut,
    DeviceListOut,
    HistoryItemOut,
    ImportOut,
    IntakeExceptionOut,
    JobDetailOut,
    JobOut,
    ListedDeviceOut,
    ResetOut,
    RowProblemOut,
    ScanOut,
    SignedOrdersOut,
    WorkOrderIssuedOut,
)
from triage.entrypoints.statuses import status_of
from triage.errors import InvalidInput
from triage.services import agent_auth, disposals, documents, history, intake, job_steps
from triage.services.intake import ManifestRejected
from triage.services.views import consignments as consignment_views
from triage.services.views import device_list
from triage.services.views import jobs as job_views

MAX_MANIFEST_BYTES = 64 * 1024 * 1024
# Whose consignment reference, when two asset owners used the same one.
OwnerQuery = Annotated[str | None, Query(max_length=100)]
MAX_JSON_BYTES = 1024 * 1024


class DeviceFiltersIn(BaseModel):
    """The device list's search: every field given must match; empty means any."""

    device_id: str = Field("", max_length=100, description="An EUI-64, or its first digits.")
    consignment: str = Field("", max_length=100, description="A consignment's reference.")
    state: str = Field("", max_length=40, description="A job state, e.g. verified.")
    asset_owner: str = Field("", max_length=100)
    received_from: str = Field("", max_length=10, description="A local date, YYYY-MM-DD.")
    received_to: str = Field("", max_length=10, description="A local date, YYYY-MM-DD (inclusive).")


CURSOR = "The next_cursor of the page before; empty for the first page."


class ScanIn(BaseModel):
    device_id: str = Field(description="As scanned: any common EUI-64 spelling.", max_length=100)


class OverrideIn(BaseModel):
    outcome: Literal["eligible", "quarantine", "reverify_metrology"]
    justification: str = Field(max_length=4000)


class WorkOrderIn(BaseModel):
    tool_id: str = Field(max_length=64)


class SealIn(BaseModel):
    serial: str = Field(max_length=64)


class ReasonIn(BaseModel):
    reason: str = Field(max_length=2000)


class DisposalIn(BaseModel):
    action: Literal["return", "destroy"]
    reference: str = Field(max_length=100)


class ResolutionIn(BaseModel):
    resolution: str = Field(max_length=2000)


class ResultIn(BaseModel):
    result: str = Field(description="The tool's signed result note.", max_length=200_000)


class RefusalIn(BaseModel):
    work_order_id: str = Field(max_length=64)
    reason: str = Field(max_length=500)


# The bodies two routes read themselves (a manifest in two formats; the inspection's evidence,
# checked by the domain's own parser), as the OpenAPI document describes them.
MANIFEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "text/csv": {
            "schema": {"type": "string", "description": "A header row, then a device a row."}
        },
        "application/json": {
            "schema": {
                "description": "Devices as objects, in a list or under devices; any other row is "
                "refused with its position, or skipped with skip_invalid.",
                "anyOf": [
                    {"type": "array"},
                    {
                        "type": "object",
                        "required": ["devices"],
                        "properties": {"devices": {"type": "array"}},
                    },
                ],
            },
        },
    },
}
_COVERS = {"type": "array", "items": {"enum": [c.value for c in Cover]}}
_ALERT_CODE = {"anyOf": [{"type": "integer"}, {"type": "string"}], "description": "0x8F3F"}
EVIDENCE_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["metrology_seal_intact", "cpa_boundary_intact"],
                "additionalProperties": False,
                "properties": {
                    "metrology_seal_intact": {"type": "boolean"},
                    "cpa_boundary_intact": {"type": "boolean"},
                    "outer_covers_opened": _COVERS,
                    "security_seal": {"enum": [s.value for s in SecuritySealState]},
                    "typed_log": {
                        "type": ["object", "null"],
                        "description": "Only when no security log could be read from the "
                        "device: why, and each code with the time the device's display shows.",
                        "required": ["reason"],
                        "properties": {
                            "reason": {"type": "string", "examples": ["log unreadable: ..."]},
                            "alerts": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["code", "at"],
                                    "properties": {
                                        "code": _ALERT_CODE,
                                        "at": {"type": "string", "format": "date-time"},
                                    },
                                },
                            },
                        },
                    },
                    "legitimate_reasons": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["kind", "reference"],
                            "properties": {
                                "kind": {"type": "string"},
                                "reference": {"type": "string"},
                                "covers": _COVERS,
                                "alert_codes": {"type": "array", "items": _ALERT_CODE},
                                "on": {
                                    "type": ["string", "null"],
                                    "format": "date",
                                    "description": "The day of the job (UTC).",
                                },
                            },
                        },
                    },
                    "other_findings": {"type": ["string", "null"], "maxLength": 2000},
                },
            }
        }
    },
}


RECEIPT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An offline receipt: the device's entries, their inclusion proofs and a "
    "signed checkpoint (check it with `triage verify`).",
}


def _with_body(options: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Route options with the request body the route reads itself."""
    return {**options, "openapi_extra": {**options["openapi_extra"], "requestBody": body}}


def tool_dependency(
    application: App,
) -> Callable[[Request], Awaitable[agent_auth.SignedToolRequest]]:
    """The dependency that verifies a Triage Tool's signed request. A request that changes
    state is acted on through ``SignedToolRequest.acting``, which claims its nonce."""
    uow = application.uow
    quick = Quick.of(application.database)

    async def tool(request: Request) -> agent_auth.SignedToolRequest:
        body = await request.body()
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        headers = request.headers
        # A read and a signature check; a write only to record a refusal (Quick).
        return await quick.run(
            agent_auth.verify_tool_request,
            uow,
            headers.get(agent_request.HEADER_TOOL, ""),
            request.method,
            target,
            headers.get(agent_request.HEADER_TIME, ""),
            headers.get(agent_request.HEADER_NONCE, ""),
            headers.get(agent_request.HEADER_SIGNATURE, ""),
            body,
            request.client.host if request.client is not None else "unknown",
        )

    return tool


def build_router(application: App) -> APIRouter:
    """The workflow routes for one facility."""
    uow = application.uow
    operator = operator_dependency(application)
    tool = tool_dependency(application)
    waiting = WaitingReads(application)
    quick = Quick.of(application.database)

    Operator = Annotated[Caller, Depends(operator)]
    Tool = Annotated[agent_auth.SignedToolRequest, Depends(tool)]
    router = APIRouter(prefix="/api/v1", route_class=ThreadedRoute)

    # -- consignments -----------------------------------------------------------------------
    @router.post(
        "/consignments",
        tags=["intake"],
        status_code=201,
        response_model=ImportOut,
        # A dry run records nothing and creates nothing: it answers 200.
        responses={200: {"model": ImportOut, "description": "dry_run: what would be imported"}},
        **_with_body(requires(application, Permission.CONSIGNMENT_IMPORT), MANIFEST_BODY),
    )
    @body_limit(MAX_MANIFEST_BYTES)
    async def import_consignment(
        request: Request,
        caller: Operator,
        reference: Annotated[str, Query(max_length=100)],
        asset_owner: Annotated[str, Query(max_length=100)],
        skip_invalid: bool = False,
        dry_run: bool = False,
    ) -> ImportOut | JSONResponse:
        """Import a manifest: CSV (text/csv) or a JSON list of objects (application/json).
        With dry_run nothing is recorded: the answer (200) is what would be imported and every
        row that would be refused."""
        body = await limited_body(request, MAX_MANIFEST_BYTES)
        kind = "json" if "json" in request.headers.get("content-type", "") else "csv"
        try:
            rows = parse_manifest(body, kind)
        except ManifestFormatError as exc:
            raise InvalidInput(str(exc)) from exc
        try:
            report = await run_in_threadpool(
                intake.import_manifest,
                uow,
                caller,
                reference,
                asset_owner,
                rows,
                skip_invalid=skip_invalid,
                dry_run=dry_run,
            )
        except ManifestRejected as exc:
            return _problem_with_rows(exc)
        answer = ImportOut(
            consignment_id=report.consignment_id,
            imported=report.imported,
            rejected=[RowProblemOut.model_validate(p) for p in report.problems],
            dry_run=dry_run,
            accepted=[AcceptedRowOut(line=n, device_id=d.id.value) for n, d in report.accepted],
        )
        if dry_run:
            return JSONResponse(answer.model_dump(mode="json"), status_code=200)
        return answer

    @router.get("/consignments", tags=["intake"], **access("service"))
    def list_consignments(
        caller: Operator, offset: Offset = 0, limit: Limit = 50
    ) -> Page[ConsignmentOut]:
        """Consignments, oldest first."""
        items, total = consignment_views.consignments(uow, caller, offset, limit)
        return Page(
            items=[ConsignmentOut(**ConsignmentOut.fields_of(c)) for c in items],
            total=total,
            offset=offset,
            limit=limit,
        )

    @router.get(
        "/consignments/{consignment_id}",
        tags=["intake"],
        **access("service"),
    )
    def get_consignment(
        consignment_id: str, caller: Operator, asset_owner: OwnerQuery = None
    ) -> ConsignmentDetailOut:
        """One consignment (by its reference, or its id), with the devices still expected and
        those arrived; asset_owner names whose reference when two owners used it."""
        found = consignment_views.consignment_detail(uow, caller, consignment_id, asset_owner)
        return ConsignmentDetailOut(
            **ConsignmentOut.fields_of(found.consignment),
            not_arrived=found.not_arrived,
            arrived_devices=found.arrived,
        )

    @router.post(
        "/consignments/{consignment_id}/close",
        tags=["intake"],
        **requires(application, Permission.CONSIGNMENT_CLOSE),
    )
    def close_consignment(
        consignment_id: str, caller: Operator, asset_owner: OwnerQuery = None
    ) -> ClosedConsignmentOut:
        """Close a consignment (by its reference, or its id): the report lists every device
        expected but never arrived."""
        closed, missing = intake.close_consignment(uow, caller, consignment_id, asset_owner)
        return ClosedConsignmentOut(**ConsignmentOut.fields_of(closed), never_arrived=missing)

    # -- devices ----------------------------------------------------------------------------
    @router.get("/devices", tags=["devices"], **access("service"))
    def list_devices(
        caller: Operator,
        filters: Annotated[DeviceFiltersIn, Query()],
        cursor: Annotated[str, Query(max_length=200, description=CURSOR)] = "",
        limit: Annotated[int, Query(description="Rows a page (1 to 500).")] = 50,
    ) -> DeviceListOut:
        """Devices received, newest first, searched by id (whole or its start), consignment,
        state, asset owner and the local day received; a page at a time by cursor."""
        found = device_list.search(uow, caller, device_list.Filters(**dict(filters)), cursor, limit)
        return DeviceListOut(
            items=[ListedDeviceOut.model_validate(d) for d in found.items],
            next_cursor=found.next_cursor,
        )

    @router.get(
        "/devices.csv",
        tags=["devices"],
        response_class=StreamingResponse,
        responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
        **access("service"),
    )
    def export_devices(
        caller: Operator, filters: Annotated[DeviceFiltersIn, Query()]
    ) -> StreamingResponse:
        """Every device the same search finds, as CSV (streamed; cells that a spreadsheet would
        run as a formula start with a quote)."""
        lines = device_list.export_csv(uow, caller, device_list.Filters(**dict(filters)))
        return StreamingResponse(
            lines,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="devices.csv"'},
        )

    @router.post("/devices/scan", tags=["devices"], **requires(application, Permission.DEVICE_SCAN))
    @quick
    def scan(body: ScanIn, caller: Operator) -> ScanOut:
        """A device arrives: opens its job, or raises an unexpected-device exception."""
        result = intake.scan_device(uow, caller, body.device_id)
        return ScanOut(
            device_id=result.device_id,
            created=result.created,
            job=JobOut.of(result.job) if result.job else None,
            exception_id=result.exception_id,
            message=result.message,
        )

    @router.get(
        "/devices/{device_id}/history",
        tags=["devices"],
        **access("service"),
    )
    def device_history(
        device_id: str, caller: Operator, offset: Offset = 0, limit: Limit = 200
    ) -> DeviceHistoryOut:
        """Every ledger entry about a device across all its jobs, oldest first."""
        found = history.device_history(uow, caller, device_id)
        page = found.entries[offset : offset + limit]
        return DeviceHistoryOut(
            device_id=found.device_id,
            jobs=[JobOut.of(j) for j in found.jobs],
            items=[HistoryItemOut(index=i, entry=e.to_json()) for i, e in page],
            total=len(found.entries),
            offset=offset,
            limit=limit,
        )

    @router.get(
        "/devices/{device_id}/receipt",
        tags=["devices"],
        response_class=Response,
        responses={200: {"content": {"application/json": {"schema": RECEIPT_SCHEMA}}}},
        **access("service"),
    )
    def device_receipt(device_id: str, caller: Operator) -> Response:
        """An offline receipt: the entries, their inclusion proofs and a signed checkpoint."""
        receipt = documents.receipt(application.uow, caller, device_id, application.issuer())
        return Response(receipt, media_type="application/json")

    @router.get(
        "/devices/{device_id}/certificate",
        tags=["devices"],
        response_class=Response,
        # 409 until the device is released: only a released device has a certificate.
        responses={200: {"content": {"application/pdf": {}}}, **problems.responses(409)},
        **access("service"),
    )
    def device_certificate(device_id: str, caller: Operator) -> Response:
        """The triage certificate (PDF, with the receipt's digest as a QR code) of a released
        device."""
        found = documents.certificate(
            application.uow, caller, device_id, application.issuer(), application.documents
        )
        return pdf(found)

    @router.get(
        "/devices/{device_id}/certificate-of-destruction",
        tags=["devices"],
        response_class=Response,
        # 409 unless the device was destroyed: only a destroyed device has one.
        responses={200: {"content": {"application/pdf": {}}}, **problems.responses(409)},
        **access("service"),
    )
    def device_destruction_certificate(device_id: str, caller: Operator) -> Response:
        """The certificate of destruction (PDF, with the receipt's digest as a QR code) of a
        destroyed device: who destroyed it, how, the reference recorded at disposal, and the
        ledger entry with the checkpoint that proves it."""
        found = disposals.certificate(
            application.uow, caller, device_id, application.issuer(), application.documents
        )
        return pdf(found)

    # -- jobs -------------------------------------------------------------------------------
    @router.get("/jobs", tags=["jobs"], **access("service"))
    def list_jobs(
        caller: Operator,
        state: JobState | None = None,
        offset: Offset = 0,
        limit: Limit = 50,
    ) -> Page[JobOut]:
        """Triage jobs, optionally in one state (the supervisor's queues)."""
        items, total = job_views.jobs(uow, caller, state, offset, limit)
        return Page(items=[JobOut.of(j) for j in items], total=total, offset=offset, limit=limit)

    @router.get(
        "/jobs/{job_id}",
        tags=["jobs"],
        response_model=JobDetailOut,
        responses=NOT_MODIFIED,
        description="One job, with its reset results." + WAITING_DOC,
        **access("service"),
    )
    async def get_job(job_id: str, request: Request, caller: Operator) -> Response:
        """One job, with its reset results; a waiting read (a bench waits for the reset)."""

        def read() -> bytes:
            found = job_views.job_detail(uow, caller, job_id)
            answer = JobDetailOut(
                **dict(JobOut.of(found.job)),
                resets=[ResetOut.model_validate(r) for r in found.resets],
            )
            return answer.model_dump_json().encode()

        return await waiting.answer(request, caller, read, [("job", job_id)])

    @router.post(
        "/jobs/{job_id}/inspection",
        tags=["jobs"],
        **_with_body(requires(application, Permission.DEVICE_INSPECT), EVIDENCE_BODY),
    )
    async def inspect(job_id: str, request: Request, caller: Operator) -> DecisionOut:
        """Record the inspection; the tamper policy decides and says why."""
        evidence = _json_object(await limited_body(request, MAX_JSON_BYTES))
        decision = await quick.run(job_steps.inspect, uow, caller, job_id, evidence)
        return DecisionOut.of(decision)

    @router.post(
        "/jobs/{job_id}/override",
        tags=["jobs"],
        **requires(application, Permission.DECISION_OVERRIDE),
    )
    @quick
    def override(job_id: str, body: OverrideIn, caller: Operator) -> JobOut:
        """A supervisor overrides the decision, with a written justification."""
        return JobOut.of(job_steps.override(uow, caller, job_id, body.outcome, body.justification))

    @router.post(
        "/jobs/{job_id}/work-orders",
        tags=["jobs"],
        status_code=201,
        **requires(application, Permission.RESET_REQUEST),
    )
    @quick
    def work_order(job_id: str, body: WorkOrderIn, caller: Operator) -> WorkOrderIssuedOut:
        """Issue a signed work order for one tool to reset this device."""
        signed = job_steps.authorise_reset(
            uow, caller, job_id, body.tool_id, application.signer_key()
        )
        return WorkOrderIssuedOut(work_order=signed)

    @router.post(
        "/jobs/{job_id}/seal", tags=["jobs"], **requires(application, Permission.DEVICE_SEAL)
    )
    @quick
    def seal(job_id: str, body: SealIn, caller: Operator) -> JobOut:
        """Record the tamper-protection seal fitted to a verified device."""
        return JobOut.of(job_steps.seal(uow, caller, job_id, body.serial))

    @router.post(
        "/jobs/{job_id}/release", tags=["jobs"], **requires(application, Permission.DEVICE_RELEASE)
    )
    @quick
    def release(job_id: str, caller: Operator) -> JobOut:
        """Release a sealed device."""
        return JobOut.of(job_steps.release(uow, caller, job_id))

    @router.post(
        "/jobs/{job_id}/quarantine",
        tags=["jobs"],
        **requires(application, Permission.DEVICE_QUARANTINE),
    )
    @quick
    def quarantine(job_id: str, body: ReasonIn, caller: Operator) -> JobOut:
        """Set a device aside."""
        return JobOut.of(job_steps.quarantine(uow, caller, job_id, body.reason))

    @router.post(
        "/jobs/{job_id}/disposal", tags=["jobs"], **requires(application, Permission.DEVICE_DISPOSE)
    )
    def disposal(job_id: str, body: DisposalIn, caller: Operator) -> JobOut:
        """Return a quarantined device to its manufacturer, or destroy it."""
        return JobOut.of(job_steps.dispose(uow, caller, job_id, body.action, body.reference))

    # -- exceptions -------------------------------------------------------------------------
    @router.get("/exceptions", tags=["exceptions"], **requires(application, Permission.TRIAGE_READ))
    def list_exceptions(
        caller: Operator,
        status: Literal["open", "resolved"] | None = None,
        offset: Offset = 0,
        limit: Limit = 50,
    ) -> Page[IntakeExceptionOut]:
        """Unexpected devices and other exceptions."""
        items, total = consignment_views.exceptions(uow, caller, status, offset, limit)
        return Page(
            items=[IntakeExceptionOut.model_validate(e) for e in items],
            total=total,
            offset=offset,
            limit=limit,
        )

    @router.post(
        "/exceptions/{exception_id}/resolve",
        tags=["exceptions"],
        **requires(application, Permission.EXCEPTION_RESOLVE),
    )
    def resolve(exception_id: str, body: ResolutionIn, caller: Operator) -> StatusOut:
        """Record how an exception was dealt with."""
        intake.resolve_exception(uow, caller, exception_id, body.resolution)
        return StatusOut(status="resolved")

    # -- bench agents -----------------------------------------------------------------------
    # Requests that do not verify, past a burst from one address, are answered 429.
    AGENT = problems.responses(429)

    @router.get(
        "/agent/work-orders",
        tags=["agent"],
        response_model=SignedOrdersOut,
        responses={**AGENT, **NOT_MODIFIED},
        description="Signed work orders waiting for the calling tool (signed request)."
        + WAITING_DOC,
        **access("tool"),
    )
    async def agent_work_orders(request: Request, signed: Tool) -> Response:
        """Signed work orders waiting for the calling tool (signed request); a waiting read
        (the agent waits for its next order)."""
        caller = signed.caller

        def read() -> bytes:
            orders = SignedOrdersOut(items=job_steps.work_orders_for_tool(uow, caller))
            return orders.model_dump_json().encode()

        return await waiting.answer(request, caller, read, [("tool", caller.id)])

    @router.post("/agent/results", tags=["agent"], responses=AGENT, **access("tool"))
    @quick
    def agent_result(body: ResultIn, signed: Tool) -> JobOut:
        """A tool's signed result of a work order (signed request)."""
        with signed.acting(uow) as acting:
            return JobOut.of(job_steps.record_tool_result(acting, signed.caller, body.result))

    @router.post("/agent/refusals", tags=["agent"], responses=AGENT, **access("tool"))
    @quick
    def agent_refusal(body: RefusalIn, signed: Tool) -> StatusOut:
        """The agent refused a work order and says why (signed request)."""
        with signed.acting(uow) as acting:
            job_steps.record_refusal(acting, signed.caller, body.work_order_id, body.reason)
        return StatusOut(status="recorded")

    return router


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"body: not JSON ({exc})") from exc
    if not isinstance(obj, dict):
        raise InvalidInput("body: must be a JSON object")
    return obj


def _problem_with_rows(exc: ManifestRejected) -> JSONResponse:
    return JSONResponse(
        {
            "type": "about:blank",
            "title": exc.title,
            "status": status_of(exc),
            "detail": str(exc),
            "rows": [RowProblemOut.model_validate(p).model_dump() for p in exc.problems],
        },
        status_code=status_of(exc),
        media_type="application/problem+json",
    )
