"""REST endpoints: destruction methods, destroying and returning quarantined devices with their
evidence, the witness of a destruction, and the certificates of destruction (issue 19 item 4).

No "from __future__ import annotations" here: FastAPI must see the dependency types.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.disposal import MAX_EVIDENCE_BYTES
from triage.domain.roles import Permission
from triage.entrypoints.api import problems
from triage.entrypoints.api.routing import ThreadedRoute
from triage.entrypoints.api.security import access, operator_dependency, requires
from triage.entrypoints.downloads import attachment, pdf
from triage.entrypoints.request_bodies import body_limit, limited_body
from triage.entrypoints.schemas.common import SIGNED_DOCUMENT
from triage.entrypoints.schemas.disposals import (
    BatchIn,
    DestructionIn,
    DisposalOut,
    EvidenceFileOut,
    MethodIn,
    MethodOut,
    ReturnIn,
    WitnessIn,
)
from triage.services import disposals

PDF: dict[str, Any] = {"content": {"application/pdf": {}}}
Code = Annotated[str, Path(max_length=40)]


def build_disposal_router(application: App) -> APIRouter:
    """The destruction and return routes for one facility."""
    uow = application.uow
    Operator = Annotated[Caller, Depends(operator_dependency(application))]
    router = APIRouter(prefix="/api/v1", tags=["disposals"], route_class=ThreadedRoute)
    dispose = requires(application, Permission.DEVICE_DISPOSE)

    # -- methods ----------------------------------------------------------------------------
    @router.get("/destruction-methods", **requires(application, Permission.TRIAGE_READ))
    def list_methods(caller: Operator) -> list[MethodOut]:
        """Every destruction method, active or not, with its NIST SP 800-88 category."""
        return [MethodOut.of(m) for m in disposals.methods(uow, caller)]

    @router.put("/destruction-methods/{code}", **requires(application, Permission.FACILITY_MANAGE))
    def set_method(code: Code, body: MethodIn, caller: Operator) -> MethodOut:
        """Add a destruction method or change one (an administrator); ``active: false`` takes
        it out of use."""
        return MethodOut.of(disposals.set_method(uow, caller, code, **body.model_dump()))

    # -- destroying and returning -----------------------------------------------------------
    upload = {
        **dispose,
        "openapi_extra": {
            **dispose["openapi_extra"],
            "requestBody": {
                "required": True,
                "content": {"image/jpeg": {}, "image/png": {}, "video/mp4": {}, "video/webm": {}},
            },
        },
    }

    @router.post("/disposals/evidence", status_code=201, **upload)
    @body_limit(MAX_EVIDENCE_BYTES)
    async def keep_evidence(request: Request, caller: Operator) -> EvidenceFileOut:
        """Keep a photo or video of a destruction (the body) before recording the destruction
        that names it; returns its SHA-256, media type and size."""
        content = await limited_body(request, MAX_EVIDENCE_BYTES)
        kept = disposals.keep_evidence(caller, application.evidence_store(), content)
        return EvidenceFileOut(**kept.as_data())

    @router.post("/disposals/destructions", status_code=201, **dispose)
    def destroy(body: DestructionIn, caller: Operator) -> DisposalOut:
        """Destroy a quarantined device: the method (an active one), site or contractor, day
        (not in the future) and at least one photo or video kept already."""
        record = disposals.destroy(
            uow,
            caller,
            application.evidence_store(),
            body.job_id,
            reference=body.reference,
            method=body.method,
            site=body.site,
            contact=body.contact,
            destroyed_on=body.destroyed_on,
            evidence=[e.model_dump() for e in body.evidence],
        )
        return DisposalOut.of(record)

    @router.post("/disposals/returns", status_code=201, **dispose)
    def return_device(body: ReturnIn, caller: Operator) -> DisposalOut:
        """Return a quarantined device to its manufacturer under its returns authorisation
        (RMA); the manufacturer is the device's unless named."""
        record = disposals.return_to_manufacturer(
            uow, caller, body.job_id, body.reference, body.manufacturer
        )
        return DisposalOut.of(record)

    @router.post(
        "/disposals/jobs/{job_id}/witness", **requires(application, Permission.DISPOSAL_WITNESS)
    )
    def witness(job_id: str, body: WitnessIn, caller: Operator) -> DisposalOut:
        """Witness a destruction as one's own act: never the person who recorded it, once."""
        return DisposalOut.of(disposals.witness(uow, caller, job_id, body.statement))

    # -- reads ------------------------------------------------------------------------------
    @router.get("/disposals/awaiting-witness", **access("service"))
    def awaiting(caller: Operator) -> list[DisposalOut]:
        """Destructions no one has witnessed yet, oldest first (an asset owner's own only)."""
        return [DisposalOut.of(r) for r in disposals.awaiting_witness(uow, caller)]

    @router.get("/disposals/jobs/{job_id}", **access("service"))
    def get_disposal(job_id: str, caller: Operator) -> DisposalOut:
        """How the job's device left: destroyed (with its evidence and witness) or returned."""
        return DisposalOut.of(disposals.disposal(uow, caller, job_id))

    @router.get(
        "/disposals/jobs/{job_id}/evidence/{sha256}",
        response_class=Response,
        responses={200: {"content": {"image/jpeg": {}, "video/mp4": {}}}},
        **access("service"),
    )
    def evidence(job_id: str, sha256: str, caller: Operator) -> Response:
        """A photo or video of the destruction, while its file is intact."""
        content, media_type = disposals.evidence_file(
            uow, caller, application.evidence_store(), job_id, sha256
        )
        return Response(content, media_type=media_type)

    @router.get(
        "/disposals/certificates/{device_id}",
        response_class=Response,
        responses={200: PDF, **problems.responses(409)},
        **access("service"),
    )
    def certificate(device_id: str, caller: Operator) -> Response:
        """The certificate of destruction (PDF) of a destroyed device, with the NIST SP 800-88
        sec. 4.8 fields and its receipt's digest as a QR code; 409 until witnessed."""
        return pdf(
            disposals.certificate(
                uow, caller, device_id, application.issuer(), application.documents
            )
        )

    def _batch(body: BatchIn, caller: Caller) -> disposals.BatchCertificate:
        return disposals.batch_certificate(
            uow,
            caller,
            application.issuer(),
            application.documents,
            devices=body.devices,
            since=body.since,
            until=body.until,
        )

    @router.post(
        "/disposals/batch-certificate.json",
        response_class=Response,
        responses={200: SIGNED_DOCUMENT, **problems.responses(409)},
        **access("service"),
    )
    def batch_json(body: BatchIn, caller: Operator) -> Response:
        """A batch certificate of destruction as the signed document (kind destruction-batch)
        that verifies with the facility's verifier key."""
        made = _batch(body, caller)
        name = made.pdf.filename.removesuffix(".pdf") + ".json"
        return attachment(made.signed.to_json(), "application/json", name)

    @router.post(
        "/disposals/batch-certificate.pdf",
        response_class=Response,
        responses={200: PDF, **problems.responses(409)},
        **access("service"),
    )
    def batch_pdf(body: BatchIn, caller: Operator) -> Response:
        """The same batch certificate of destruction as a PDF, its digest as a QR code."""
        return pdf(_batch(body, caller).pdf)

    return router
