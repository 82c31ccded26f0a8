"""REST endpoints of the triage workflow: consignments, devices, jobs, exceptions, agents.

No "from __future__ import annotations" here: FastAPI must see the dependency types that are
defined inside ``build_router``.
"""

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from triage.adapters.certificate import certificate_filename
from triage.adapters.manifest import ManifestFormatError, parse_manifest
from triage.bootstrap import App
from triage.domain import agent_request
from triage.domain.caller import Caller
from triage.domain.job import TriageJob
from triage.domain.lifecycle import JobState, allowed_actions
from triage.domain.roles import Permission
from triage.domain.tamper_policy import Cover, SecuritySealState
from triage.entrypoints.api import problems
from triage.entrypoints.api.fields import Limit, Offset
from triage.entrypoints.api.security import access, operator_dependency, requires
from triage.errors import InvalidInput, NotFound
from triage.services import agent_auth, bench, history, intake
from triage.services.intake import ManifestRejected

MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_JSON_BYTES = 1024 * 1024


class JobOut(BaseModel):
    id: str
    device_id: str
    consignment_id: str | None
    state: str
    outcome: str | None
    inspector_id: str | None
    reset_attempts: int
    seal_serial: str | None
    opened_at: str
    closed_at: str | None
    next_steps: list[str] = Field(description="Actions the lifecycle allows from this state.")


class JobPage(BaseModel):
    items: list[JobOut]
    total: int
    offset: int
    limit: int


class ScanIn(BaseModel):
    device_id: str = Field(description="As scanned: any common EUI-64 spelling.", max_length=100)


class ScanOut(BaseModel):
    device_id: str
    created: bool
    job: JobOut | None
    exception_id: str | None
    message: str


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
                            },
                        },
                    },
                    "other_findings": {"type": ["string", "null"], "maxLength": 2000},
                },
            }
        }
    },
}


def _with_body(options: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Route options with the request body the route reads itself."""
    return {**options, "openapi_extra": {**options["openapi_extra"], "requestBody": body}}


def job_json(job: TriageJob) -> JobOut:
    """A job as the API shows it."""
    return JobOut(
        id=job.id,
        device_id=job.device_id,
        consignment_id=job.consignment_id,
        state=job.state.value,
        outcome=job.outcome,
        inspector_id=job.inspector_id,
        reset_attempts=job.reset_attempts,
        seal_serial=job.seal_serial,
        opened_at=job.opened_at.isoformat(),
        closed_at=job.closed_at.isoformat() if job.closed_at else None,
        next_steps=[a.value for a in allowed_actions(job.state)],
    )


def build_router(application: App) -> APIRouter:
    """The workflow routes for one facility."""
    uow = application.uow
    operator = operator_dependency(application)

    async def tool(request: Request) -> Caller:
        body = await request.body()
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        headers = request.headers
        # The services are synchronous: run them in the thread pool, never on the event loop.
        return await run_in_threadpool(
            agent_auth.authenticate_tool,
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

    Operator = Annotated[Caller, Depends(operator)]
    Tool = Annotated[Caller, Depends(tool)]
    router = APIRouter(prefix="/api/v1")

    # -- consignments -----------------------------------------------------------------------
    @router.post(
        "/consignments",
        tags=["intake"],
        status_code=201,
        **_with_body(requires(application, Permission.CONSIGNMENT_IMPORT), MANIFEST_BODY),
    )
    async def import_consignment(
        request: Request,
        caller: Operator,
        reference: Annotated[str, Query(max_length=100)],
        asset_owner: Annotated[str, Query(max_length=100)],
        skip_invalid: bool = False,
    ) -> JSONResponse:
        """Import a manifest: CSV (text/csv) or a JSON list of objects (application/json)."""
        caller.require(Permission.CONSIGNMENT_IMPORT)
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
            )
        except ManifestRejected as exc:
            return _problem_with_rows(exc)
        return JSONResponse(
            {
                "consignment_id": report.consignment_id,
                "imported": report.imported,
                "rejected": [_row_problem(p) for p in report.problems],
            },
            status_code=201,
        )

    @router.get("/consignments", tags=["intake"], **requires(application, Permission.TRIAGE_READ))
    def list_consignments(
        caller: Operator, offset: Offset = 0, limit: Limit = 50
    ) -> dict[str, Any]:
        """Consignments, oldest first."""
        caller.require(Permission.TRIAGE_READ)
        with uow(write=False) as unit:
            items, total = unit.triage.consignments(offset, limit)
        return {
            "items": [_consignment_json(c) for c in items],
            "total": total,
            "offset": offset,
            "limit": limit,
        }

    @router.get(
        "/consignments/{consignment_id}",
        tags=["intake"],
        **requires(application, Permission.TRIAGE_READ),
    )
    def get_consignment(consignment_id: str, caller: Operator) -> dict[str, Any]:
        """One consignment, with the devices still expected."""
        caller.require(Permission.TRIAGE_READ)
        with uow(write=False) as unit:
            found = unit.triage.consignment(consignment_id)
            if found is None:
                raise NotFound(f"no consignment {consignment_id!r}")
            missing = unit.triage.missing_devices(consignment_id)
        return {**_consignment_json(found), "not_arrived": missing}

    @router.post(
        "/consignments/{consignment_id}/close",
        tags=["intake"],
        **requires(application, Permission.CONSIGNMENT_CLOSE),
    )
    def close_consignment(consignment_id: str, caller: Operator) -> dict[str, Any]:
        """Close a consignment: the report lists every device expected but never arrived."""
        closed, missing = intake.close_consignment(uow, caller, consignment_id)
        return {**_consignment_json(closed), "never_arrived": missing}

    # -- devices ----------------------------------------------------------------------------
    @router.post("/devices/scan", tags=["devices"], **requires(application, Permission.DEVICE_SCAN))
    def scan(body: ScanIn, caller: Operator) -> ScanOut:
        """A device arrives: opens its job, or raises an unexpected-device exception."""
        result = intake.scan_device(uow, caller, body.device_id)
        return ScanOut(
            device_id=result.device_id,
            created=result.created,
            job=job_json(result.job) if result.job else None,
            exception_id=result.exception_id,
            message=result.message,
        )

    @router.get(
        "/devices/{device_id}/history",
        tags=["devices"],
        **requires(application, Permission.HISTORY_READ),
    )
    def device_history(
        device_id: str, caller: Operator, offset: Offset = 0, limit: Limit = 200
    ) -> dict[str, Any]:
        """Every ledger entry about a device across all its jobs, oldest first."""
        found = history.device_history(uow, caller, device_id)
        page = found.entries[offset : offset + limit]
        return {
            "device_id": found.device_id,
            "jobs": [job_json(j).model_dump() for j in found.jobs],
            "items": [{"index": i, "entry": e.to_json()} for i, e in page],
            "total": len(found.entries),
            "offset": offset,
            "limit": limit,
        }

    @router.get(
        "/devices/{device_id}/receipt",
        tags=["devices"],
        **requires(application, Permission.RECEIPT_ISSUE),
    )
    def device_receipt(device_id: str, caller: Operator) -> Response:
        """An offline receipt: the entries, their inclusion proofs and a signed checkpoint."""
        return Response(application.receipt(caller, device_id), media_type="application/json")

    @router.get(
        "/devices/{device_id}/certificate",
        tags=["devices"],
        response_class=Response,
        # 409 until the device is released: only a released device has a certificate.
        responses={200: {"content": {"application/pdf": {}}}, **problems.responses(409)},
        **requires(application, Permission.RECEIPT_ISSUE),
    )
    def device_certificate(device_id: str, caller: Operator) -> Response:
        """The triage certificate (PDF, with the receipt's digest as a QR code) of a released
        device."""
        name = certificate_filename(device_id)
        return Response(
            application.certificate(caller, device_id),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    # -- jobs -------------------------------------------------------------------------------
    @router.get("/jobs", tags=["jobs"], **requires(application, Permission.TRIAGE_READ))
    def list_jobs(
        caller: Operator,
        state: JobState | None = None,
        offset: Offset = 0,
        limit: Limit = 50,
    ) -> JobPage:
        """Triage jobs, optionally in one state (the supervisor's queues)."""
        caller.require(Permission.TRIAGE_READ)
        with uow(write=False) as unit:
            items, total = unit.triage.jobs(state, offset, limit)
        return JobPage(items=[job_json(j) for j in items], total=total, offset=offset, limit=limit)

    @router.get("/jobs/{job_id}", tags=["jobs"], **requires(application, Permission.TRIAGE_READ))
    def get_job(job_id: str, caller: Operator) -> dict[str, Any]:
        """One job, with its reset results."""
        caller.require(Permission.TRIAGE_READ)
        with uow(write=False) as unit:
            found = unit.triage.job(job_id)
            if found is None:
                raise NotFound(f"no triage job {job_id!r}")
            results = unit.triage.reset_results(job_id)
        return {
            **job_json(found).model_dump(),
            "resets": [
                {
                    "work_order_id": r["work_order_id"],
                    "outcome": r["outcome"],
                    "verified": r["verified"],
                    "failures": r["failures"],
                    "detail": r["detail"],
                }
                for r in results
            ],
        }

    @router.post(
        "/jobs/{job_id}/inspection",
        tags=["jobs"],
        **_with_body(requires(application, Permission.DEVICE_INSPECT), EVIDENCE_BODY),
    )
    async def inspect(job_id: str, request: Request, caller: Operator) -> dict[str, Any]:
        """Record the inspection; the tamper policy decides and says why."""
        caller.require(Permission.DEVICE_INSPECT)
        evidence = _json_object(await limited_body(request, MAX_JSON_BYTES))
        decision = await run_in_threadpool(bench.inspect, uow, caller, job_id, evidence)
        return decision.to_json()

    @router.post(
        "/jobs/{job_id}/override",
        tags=["jobs"],
        **requires(application, Permission.DECISION_OVERRIDE),
    )
    def override(job_id: str, body: OverrideIn, caller: Operator) -> JobOut:
        """A supervisor overrides the decision, with a written justification."""
        return job_json(bench.override(uow, caller, job_id, body.outcome, body.justification))

    @router.post(
        "/jobs/{job_id}/work-orders",
        tags=["jobs"],
        status_code=201,
        **requires(application, Permission.RESET_REQUEST),
    )
    def work_order(job_id: str, body: WorkOrderIn, caller: Operator) -> dict[str, str]:
        """Issue a signed work order for one tool to reset this device."""
        signed = bench.authorise_reset(uow, caller, job_id, body.tool_id, application.signer_key())
        return {"work_order": signed}

    @router.post(
        "/jobs/{job_id}/seal", tags=["jobs"], **requires(application, Permission.DEVICE_SEAL)
    )
    def seal(job_id: str, body: SealIn, caller: Operator) -> JobOut:
        """Record the tamper-protection seal fitted to a verified device."""
        return job_json(bench.seal(uow, caller, job_id, body.serial))

    @router.post(
        "/jobs/{job_id}/release", tags=["jobs"], **requires(application, Permission.DEVICE_RELEASE)
    )
    def release(job_id: str, caller: Operator) -> JobOut:
        """Release a sealed device."""
        return job_json(bench.release(uow, caller, job_id))

    @router.post(
        "/jobs/{job_id}/quarantine",
        tags=["jobs"],
        **requires(application, Permission.DEVICE_QUARANTINE),
    )
    def quarantine(job_id: str, body: ReasonIn, caller: Operator) -> JobOut:
        """Set a device aside."""
        return job_json(bench.quarantine(uow, caller, job_id, body.reason))

    @router.post(
        "/jobs/{job_id}/disposal", tags=["jobs"], **requires(application, Permission.DEVICE_DISPOSE)
    )
    def disposal(job_id: str, body: DisposalIn, caller: Operator) -> JobOut:
        """Return a quarantined device to its manufacturer, or destroy it."""
        return job_json(bench.dispose(uow, caller, job_id, body.action, body.reference))

    # -- exceptions -------------------------------------------------------------------------
    @router.get("/exceptions", tags=["exceptions"], **requires(application, Permission.TRIAGE_READ))
    def list_exceptions(
        caller: Operator,
        status: Literal["open", "resolved"] | None = None,
        offset: Offset = 0,
        limit: Limit = 50,
    ) -> dict[str, Any]:
        """Unexpected devices and other exceptions."""
        caller.require(Permission.TRIAGE_READ)
        with uow(write=False) as unit:
            items, total = unit.triage.exceptions(status, offset, limit)
        return {
            "items": [{k: _plain(v) for k, v in item.items()} for item in items],
            "total": total,
            "offset": offset,
            "limit": limit,
        }

    @router.post(
        "/exceptions/{exception_id}/resolve",
        tags=["exceptions"],
        **requires(application, Permission.EXCEPTION_RESOLVE),
    )
    def resolve(exception_id: str, body: ResolutionIn, caller: Operator) -> dict[str, str]:
        """Record how an exception was dealt with."""
        intake.resolve_exception(uow, caller, exception_id, body.resolution)
        return {"status": "resolved"}

    # -- bench agents -----------------------------------------------------------------------
    # Requests that do not verify, past a burst from one address, are answered 429.
    AGENT = problems.responses(429)

    @router.get("/agent/work-orders", tags=["agent"], responses=AGENT, **access("tool"))
    def agent_work_orders(caller: Tool) -> dict[str, list[str]]:
        """Signed work orders waiting for the calling tool (signed request)."""
        return {"items": bench.work_orders_for_tool(uow, caller)}

    @router.post("/agent/results", tags=["agent"], responses=AGENT, **access("tool"))
    def agent_result(body: ResultIn, caller: Tool) -> JobOut:
        """A tool's signed result of a work order (signed request)."""
        return job_json(bench.record_tool_result(uow, caller, body.result))

    @router.post("/agent/refusals", tags=["agent"], responses=AGENT, **access("tool"))
    def agent_refusal(body: RefusalIn, caller: Tool) -> dict[str, str]:
        """The agent refused a work order and says why (signed request)."""
        bench.record_refusal(uow, caller, body.work_order_id, body.reason)
        return {"status": "recorded"}

    return router


async def limited_body(request: Request, limit: int) -> bytes:
    """The request body, refused before it is read past ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise InvalidInput(f"body: larger than {limit} bytes")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InvalidInput(f"body: larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"body: not JSON ({exc})") from exc
    if not isinstance(obj, dict):
        raise InvalidInput("body: must be a JSON object")
    return obj


def _row_problem(problem: Any) -> dict[str, Any]:
    return {"line": problem.line, "field": problem.field, "problem": problem.problem}


def _problem_with_rows(exc: ManifestRejected) -> JSONResponse:
    return JSONResponse(
        {
            "type": "about:blank",
            "title": exc.title,
            "status": exc.status,
            "detail": str(exc),
            "rows": [_row_problem(p) for p in exc.problems],
        },
        status_code=exc.status,
        media_type="application/problem+json",
    )


def _consignment_json(found: Any) -> dict[str, Any]:
    return {
        "id": found.id,
        "reference": found.reference,
        "asset_owner": found.asset_owner,
        "status": found.status.value,
        "created_at": found.created_at.isoformat(),
        "closed_at": found.closed_at.isoformat() if found.closed_at else None,
        "expected": found.expected,
        "arrived": found.arrived,
    }


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
