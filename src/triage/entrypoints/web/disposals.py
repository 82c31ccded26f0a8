"""Web pages of destruction and return evidence (issue 19 item 4): the destruction form of a
quarantined device (method, site, day, evidence), the destructions awaiting a witness with the
witness's form, batch certificates of destruction, and the destruction methods an
administrator keeps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.disposal import DEFAULT_CONFIDENTIALITY, MAX_EVIDENCE_BYTES
from triage.domain.roles import Permission
from triage.entrypoints.downloads import attachment
from triage.entrypoints.downloads import pdf as _pdf
from triage.entrypoints.request_bodies import KiB
from triage.services import disposals

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Form, Site, Visit


def register(router: APIRouter, site: Site) -> None:
    application = site.application
    uow = application.uow
    page = site.page

    @router.get("/disposals")
    @page(None)  # the service: every destruction for the facility's readers, an owner's own
    def overview(visit: Visit, form: Form) -> Response:
        awaiting = disposals.awaiting_witness(uow, visit.caller)
        return site.render("disposals.html", visit, awaiting=awaiting)

    @router.post("/disposals/jobs/{job_id}/witness")
    @page(Permission.DISPOSAL_WITNESS, back=overview)
    def witness(visit: Visit, form: Form, job_id: str) -> Response:
        seen = disposals.witness(uow, visit.caller, job_id, form.get("statement", ""))
        return site.redirect(
            "/disposals", done=f"You witnessed the destruction of {seen.device_id}."
        )

    @router.post("/disposals/batch-certificate")
    @page(Permission.RECEIPT_ISSUE, back=overview)
    def batch_certificate(visit: Visit, form: Form) -> Response:
        """The batch certificate of destruction: the PDF, or its signed JSON."""
        devices = form.get("devices", "").split()
        made = disposals.batch_certificate(
            uow,
            visit.caller,
            application.issuer(),
            application.documents,
            devices=devices or None,
            since=form.get("since") or None,
            until=form.get("until") or None,
        )
        if form.get("format") == "json":
            name = made.pdf.filename.removesuffix(".pdf") + ".json"
            return attachment(made.signed.to_json(), "application/json", name)
        return _pdf(made.pdf)

    @router.get("/disposals/jobs/{job_id}/destroy")
    @page(Permission.DEVICE_DISPOSE)
    def destruction(visit: Visit, form: Form, job_id: str) -> Response:
        shown = disposals.destruction_form(uow, visit.caller, job_id)
        options = [(m.code, f"{m.name} (NIST {m.category.value})") for m in shown.methods]
        return site.render("destruction.html", visit, shown=shown, method_options=options)

    @router.post("/disposals/jobs/{job_id}/destroy")
    @page(Permission.DEVICE_DISPOSE, limit=MAX_EVIDENCE_BYTES + 64 * KiB, back=destruction)
    def destroy(visit: Visit, form: Form, job_id: str) -> Response:
        evidence = form.files.get("evidence", b"")
        record = disposals.destroy(
            uow,
            visit.caller,
            application.evidence_store(),
            job_id,
            reference=form.get("reference", ""),
            method=form.get("method", ""),
            site=form.get("site", ""),
            destroyed_on=form.get("destroyed_on", ""),
            contact=form.get("contact", ""),
            files=[evidence] if evidence else [],
        )
        return site.redirect(
            f"/devices/{record.device_id}",
            done=f"{record.device_id} destroyed; its destruction awaits a witness.",
        )

    @router.get("/disposals/jobs/{job_id}/evidence/{sha256}")
    @page(None)  # the service: the facility's readers, or the device's owner
    def evidence(visit: Visit, form: Form, job_id: str, sha256: str) -> Response:
        content, media_type = disposals.evidence_file(
            uow, visit.caller, application.evidence_store(), job_id, sha256
        )
        return Response(content, media_type=media_type)

    @router.get("/disposals/methods")
    @page(Permission.TRIAGE_READ)
    def methods(visit: Visit, form: Form) -> Response:
        found = disposals.methods(uow, visit.caller)
        return site.render(
            "destruction_methods.html",
            visit,
            methods=found,
            default_confidentiality=DEFAULT_CONFIDENTIALITY,
        )

    @router.post("/disposals/methods")
    @page(Permission.FACILITY_MANAGE, back=methods)
    def set_method(visit: Visit, form: Form) -> Response:
        made = disposals.set_method(
            uow,
            visit.caller,
            form.get("code", ""),
            name=form.get("name", ""),
            category=form.get("category", ""),
            description=form.get("description", ""),
            tool=form.get("tool", ""),
            verification=form.get("verification", ""),
            destination=form.get("destination", ""),
            confidentiality=form.get("confidentiality", ""),
            active=form.get("active", "yes") == "yes",
        )
        state = "in use" if made.active else "out of use"
        return site.redirect("/disposals/methods", done=f"Method {made.code} saved ({state}).")
