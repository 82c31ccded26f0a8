"""The auditor's pages: the ledger's status and a receipt checked by upload, offline against
the facility's verifier key (nothing the facility's database says is trusted for it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.roles import Permission
from triage.errors import NotFound
from triage.ledger.errors import VerificationError
from triage.ledger.receipt import verify_receipt
from triage.services import security_log
from triage.services.proof_encoding import inclusion_json
from triage.services.views import assurance, devices

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Form, Site, Visit


def register(router: APIRouter, site: Site) -> None:
    application = site.application
    uow = application.uow
    page = site.page

    def status(visit: Visit) -> assurance.LedgerOverview:
        return assurance.ledger_overview(uow, visit.caller, application.verifier_key())

    @router.get("/auditor")
    @page(Permission.ASSURANCE_READ)
    def overview(visit: Visit, form: dict[str, str]) -> Response:
        return site.render("auditor.html", visit, ledger=status(visit), verified=None, problem=None)

    @router.get("/auditor/assessments")
    @page(Permission.ASSURANCE_READ)
    def assessments_page(visit: Visit, form: dict[str, str]) -> Response:
        shown = assurance.assessments_overview(uow, visit.caller, application.evidence_store())
        return site.render(
            "auditor_assessments.html",
            visit,
            assessments=shown.assessments,
            readiness=shown.readiness,
            summary=shown.summary,
        )

    @router.get("/auditor/device")
    @page(Permission.HISTORY_READ)
    def device_page(visit: Visit, form: dict[str, str]) -> Response:
        return site.render("auditor_device.html", visit, story=None, proofs={})

    @router.post("/auditor/device")
    @page(Permission.HISTORY_READ)
    def device_story(visit: Visit, form: dict[str, str]) -> Response:
        shown = devices.proven_history(uow, visit.caller, form.get("device_id", ""))
        proofs = {index: inclusion_json(proof) for index, proof in shown.proofs.items()}
        return site.render("auditor_device.html", visit, story=shown.story, proofs=proofs)

    @router.get("/jobs/{job_id}/security-log/{sha256}/raw")
    # The raw bytes a decision's digest names, for whoever may read a device's history.
    @page(Permission.HISTORY_READ)
    def raw_security_log(visit: Visit, form: Form, job_id: str, sha256: str) -> Response:
        try:
            content = security_log.raw(
                uow, visit.caller, application.evidence_store(), job_id, sha256
            )
        except NotFound:
            return site.render("error.html", visit, 404, title="No such log", message=sha256)
        return Response(
            content,
            media_type="application/octet-stream",
            headers={
                "Content-Disposition": f'attachment; filename="security-log-{sha256}.gbcs"',
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "private",
            },
        )

    @router.post("/auditor/receipt")
    @page(Permission.ASSURANCE_READ)
    def check_receipt(visit: Visit, form: Form) -> Response:
        uploaded = form.files.get("receipt_file", b"")
        text = uploaded.decode("utf-8", errors="replace") or form.get("receipt", "")
        try:
            verified = verify_receipt(text, [application.verifier_key()])
        except VerificationError as exc:
            return site.render(
                "auditor.html", visit, 422, ledger=status(visit), verified=None, problem=str(exc)
            )
        return site.render(
            "auditor.html", visit, ledger=status(visit), verified=verified, problem=None
        )
