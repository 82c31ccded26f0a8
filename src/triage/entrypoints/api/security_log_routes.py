"""REST endpoints of the device's security log: read orders for the bench tool, the tool's
signed readings, a supervisor's upload of the supplier's 6.13 response, and reading it back.

No "from __future__ import annotations" here: FastAPI must see the dependency types that are
defined inside ``build_security_log_router``.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.entrypoints.api import problems
from triage.entrypoints.api.routing import Quick, ThreadedRoute
from triage.entrypoints.api.security import access, operator_dependency, requires
from triage.entrypoints.api.triage_routes import tool_dependency
from triage.entrypoints.api.waiting import NOT_MODIFIED, WAITING_DOC, WaitingReads
from triage.entrypoints.schemas.security_log import JobSecurityLogOut, SecurityLogRecordOut
from triage.entrypoints.schemas.triage import WorkOrderIssuedOut
from triage.errors import NotFound
from triage.services import security_log
from triage.services.agent_auth import SignedToolRequest

# A security log answer is at most 64 KiB: as hex text, twice that.
MAX_HEX = 2 * 64 * 1024


class ReadOrderIn(BaseModel):
    tool_id: str = Field(max_length=64, description="The tool at this bench that reads the log.")


class ReadingIn(BaseModel):
    reading: str = Field(
        description="The tool's signed security log reading (a C2SP signed note).",
        max_length=200_000,
    )


class UploadIn(BaseModel):
    reference: str = Field(
        max_length=100, description="Where the response came from (the supplier's request)."
    )
    gbcs_hex: str = Field(
        max_length=MAX_HEX,
        description=(
            "The supplier's DUIS 6.13 security log response: GBCS hex text, or the DUIS "
            "response XML (sr:Response with a GBCSPayload)."
        ),
    )


def build_security_log_router(application: App) -> APIRouter:
    """The security log routes for one facility."""
    uow = application.uow
    Operator = Annotated[Caller, Depends(operator_dependency(application))]
    Tool = Annotated[SignedToolRequest, Depends(tool_dependency(application))]
    waiting = WaitingReads(application)
    quick = Quick.of(application.database)
    router = APIRouter(prefix="/api/v1", tags=["security logs"], route_class=ThreadedRoute)

    @router.post(
        "/jobs/{job_id}/security-log/read-orders",
        status_code=201,
        **requires(application, Permission.DEVICE_INSPECT),
    )
    @quick
    def read_order(job_id: str, body: ReadOrderIn, caller: Operator) -> WorkOrderIssuedOut:
        """Order the bench's tool to read the device's security log (before the inspection)."""
        signed = security_log.request_read(
            uow, caller, job_id, body.tool_id, application.signer_key()
        )
        return WorkOrderIssuedOut(work_order=signed)

    @router.post(
        "/jobs/{job_id}/security-log",
        status_code=201,
        **requires(application, Permission.SECURITY_LOG_UPLOAD),
    )
    def upload(job_id: str, body: UploadIn, caller: Operator) -> SecurityLogRecordOut:
        """Record a supplier's 6.13 security log response for a device the bench cannot read."""
        record = security_log.upload(
            uow, caller, application.evidence_store(), job_id, body.gbcs_hex, body.reference
        )
        return SecurityLogRecordOut.of(record)

    @router.get(
        "/jobs/{job_id}/security-log",
        response_model=JobSecurityLogOut,
        responses={**problems.responses(404), **NOT_MODIFIED},
        description="The security log the job's inspection uses, entry by entry with the "
        "device's times; 404 until one is recorded." + WAITING_DOC + " With `Prefer: wait` "
        "and no log recorded yet, the request is held until one is (or it is answered 404).",
        **requires(application, Permission.TRIAGE_READ),
    )
    async def get_log(job_id: str, request: Request, caller: Operator) -> Response:
        """The security log the job's inspection uses; a waiting read (a bench waits for the
        tool's reading)."""

        def read() -> bytes | None:
            found = security_log.for_job(uow, caller, job_id)
            return None if found is None else JobSecurityLogOut.of(found).model_dump_json().encode()

        def missing() -> NotFound:
            return NotFound(f"no security log was recorded for job {job_id} yet")

        return await waiting.answer(request, caller, read, [("job", job_id)], missing)

    @router.get(
        "/jobs/{job_id}/security-log/{sha256}/raw",
        response_class=Response,
        responses={200: {"content": {"application/octet-stream": {}}}, **problems.responses(404)},
        **requires(application, Permission.HISTORY_READ),
    )
    def get_raw(job_id: str, sha256: str, caller: Operator) -> Response:
        """The raw GBCS bytes of a log recorded for the job (their SHA-256 is ``sha256``)."""
        content = security_log.raw(uow, caller, application.evidence_store(), job_id, sha256)
        filename = f"security-log-{sha256[:12]}.gbcs"
        return Response(
            content,
            media_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @router.post(
        "/agent/security-logs",
        tags=["agent"],
        responses=problems.responses(429),
        **access("tool"),
    )
    @quick
    def agent_reading(body: ReadingIn, signed: Tool) -> SecurityLogRecordOut:
        """A tool's signed reading of a device's security log under a read order (signed
        request)."""
        with signed.acting(uow) as acting:
            record = security_log.record_reading(
                acting, signed.caller, application.evidence_store(), body.reading
            )
        return SecurityLogRecordOut.of(record)

    return router
