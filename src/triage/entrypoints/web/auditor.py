"""The auditor's pages: the ledger's status and a receipt checked by upload, offline against
the facility's verifier key (nothing the facility's database says is trusted for it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.roles import Permission
from triage.ledger.errors import VerificationError
from triage.ledger.receipt import verify_receipt
from triage.services import ledger as ledger_service

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Site, Visit


def register(router: APIRouter, site: Site) -> None:
    application = site.application
    page = site.page

    def status() -> dict[str, object]:
        current = ledger_service.status(application.uow)
        latest = current.latest_checkpoint
        return {
            "size": current.size,
            "checkpoint": None if latest is None else latest.note,
            "verifier_key": application.verifier_key(),
        }

    @router.get("/auditor")
    @page(Permission.ASSURANCE_READ)
    def overview(visit: Visit, form: dict[str, str]) -> Response:
        return site.render("auditor.html", visit, ledger=status(), verified=None, problem=None)

    @router.post("/auditor/receipt")
    @page(Permission.ASSURANCE_READ)
    def check_receipt(visit: Visit, form: dict[str, str]) -> Response:
        text = form.get("receipt_file") or form.get("receipt", "")
        try:
            verified = verify_receipt(text, [application.verifier_key()])
        except VerificationError as exc:
            return site.render(
                "auditor.html", visit, 422, ledger=status(), verified=None, problem=str(exc)
            )
        return site.render("auditor.html", visit, ledger=status(), verified=verified, problem=None)
