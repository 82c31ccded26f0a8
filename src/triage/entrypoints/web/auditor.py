"""The auditor's pages: the ledger's status and a receipt checked by upload, offline against
the facility's verifier key (nothing the facility's database says is trusted for it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.roles import Permission
from triage.entrypoints.encoding import inclusion_json
from triage.ledger.errors import VerificationError
from triage.ledger.receipt import verify_receipt
from triage.services import assessment, assurance, history
from triage.services import ledger as ledger_service

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Site, Visit


def register(router: APIRouter, site: Site) -> None:
    application = site.application
    page = site.page

    def status() -> dict[str, object]:
        current = ledger_service.status(application.uow)
        latest = current.latest_checkpoint
        with application.uow(write=False) as unit:
            checks, total = unit.assurance.evidence_list("ledger_verification", 0, 1)
            if total > 1:
                checks, _ = unit.assurance.evidence_list("ledger_verification", total - 1, 1)
        last = checks[-1] if checks else None
        return {
            "size": current.size,
            "checkpoint": None if latest is None else latest.note,
            "verifier_key": application.verifier_key(),
            "last_verification": None
            if last is None
            else {"at": last["recorded_at"], "ok": last["summary"].get("ok"), "id": last["id"]},
        }

    @router.get("/auditor")
    @page(Permission.ASSURANCE_READ)
    def overview(visit: Visit, form: dict[str, str]) -> Response:
        return site.render("auditor.html", visit, ledger=status(), verified=None, problem=None)

    @router.get("/auditor/assessments")
    @page(Permission.ASSURANCE_READ)
    def assessments_page(visit: Visit, form: dict[str, str]) -> Response:
        found = assessment.list_all(application.uow, visit.caller)
        rows = assurance.control_readiness(
            application.uow, visit.caller, application.evidence_store()
        )
        summary: dict[str, int] = {}
        for row in rows:
            summary[row["status"]] = summary.get(row["status"], 0) + 1
        return site.render(
            "auditor_assessments.html", visit, assessments=found, readiness=rows, summary=summary
        )

    @router.get("/auditor/device")
    @page(Permission.HISTORY_READ)
    def device_page(visit: Visit, form: dict[str, str]) -> Response:
        return site.render("auditor_device.html", visit, story=None, proofs={})

    @router.post("/auditor/device")
    @page(Permission.HISTORY_READ)
    def device_story(visit: Visit, form: dict[str, str]) -> Response:
        story = history.device_history(application.uow, visit.caller, form.get("device_id", ""))
        size = ledger_service.status(application.uow).size
        proofs = {
            index: inclusion_json(ledger_service.prove_inclusion(application.uow, index, size))
            for index, _ in story.entries
        }
        return site.render("auditor_device.html", visit, story=story, proofs=proofs)

    @router.post("/auditor/receipt")
    @page(Permission.ASSURANCE_READ)
    def check_receipt(visit: Visit, form: dict[str, str]) -> Response:
        uploaded = getattr(form, "files", {}).get("receipt_file", b"")
        text = uploaded.decode("utf-8", errors="replace") or form.get("receipt", "")
        try:
            verified = verify_receipt(text, [application.verifier_key()])
        except VerificationError as exc:
            return site.render(
                "auditor.html", visit, 422, ledger=status(), verified=None, problem=str(exc)
            )
        return site.render("auditor.html", visit, ledger=status(), verified=verified, problem=None)
