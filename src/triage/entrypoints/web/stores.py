"""The stores' pages: seal batches, issue and return, the stocktake by scanning, and the
reconciliation with its discrepancies."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.roles import Permission
from triage.services import seals
from triage.services.views import seals as seal_views

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Site, Visit


def _lines(text: str) -> list[str]:
    """Serials as a scanner typed them into a box: one a line (or separated by spaces)."""
    return [part for part in text.replace(",", " ").split() if part]


def register(router: APIRouter, site: Site) -> None:
    uow = site.application.uow
    page = site.page

    @router.get("/stores")
    @page(Permission.SEAL_STOCK)
    def overview(visit: Visit, form: dict[str, str]) -> Response:
        shown = seal_views.stores_overview(uow, visit.caller)
        return site.render(
            "stores.html",
            visit,
            batches=shown.batches,
            reconciliation=shown.reconciliation.to_json(),
        )

    @router.post("/stores/batches")
    @page(Permission.SEAL_STOCK)
    def receive(visit: Visit, form: dict[str, str]) -> Response:
        listed = _lines(form.get("serials", ""))
        seals.receive_batch(
            uow,
            visit.caller,
            supplier=form.get("supplier", ""),
            delivery_reference=form.get("delivery_reference", ""),
            iso_class=form.get("seal_class", ""),
            class_description=form.get("class_description") or None,
            store=form.get("store", ""),
            first=None if listed else form.get("first") or None,
            last=None if listed else form.get("last") or None,
            serials=listed or None,
        )
        return site.redirect("/stores")

    @router.post("/stores/issue")
    @page(Permission.SEAL_STOCK)
    def issue(visit: Visit, form: dict[str, str]) -> Response:
        seals.issue(
            uow,
            visit.caller,
            form.get("operator_id", "").strip(),
            serials=_lines(form.get("serials", "")),
        )
        return site.redirect("/stores")

    @router.post("/stores/return")
    @page(Permission.SEAL_STOCK)
    def return_seals(visit: Visit, form: dict[str, str]) -> Response:
        seals.return_to_stock(uow, visit.caller, serials=_lines(form.get("serials", "")))
        return site.redirect("/stores")

    @router.get("/stores/stocktake")
    @page(Permission.SEAL_STOCK)
    def stocktake_page(visit: Visit, form: dict[str, str]) -> Response:
        return site.render("stocktake.html", visit, result=None)

    @router.post("/stores/stocktake")
    @page(Permission.SEAL_STOCK)
    def stocktake(visit: Visit, form: dict[str, str]) -> Response:
        result = seals.stocktake(
            uow, visit.caller, form.get("store", ""), _lines(form.get("serials", ""))
        )
        return site.render("stocktake.html", visit, result=result)
