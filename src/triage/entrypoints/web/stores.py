"""The stores' pages: seal batches, issue and return, void, lost and broken seals, a seal's
history, the stocktake by scanning, and the reconciliation's discrepancies with their
resolution (by a security manager)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.roles import Permission
from triage.entrypoints.web.form_values import listed
from triage.services import seals
from triage.services.views import seals as seal_views

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Site, Visit

# The seal classes offered when a batch is received: (value, what the form shows).
SEAL_CLASSES = (
    ("I", "ISO 17712 I (indicative)"),
    ("S", "ISO 17712 S (security)"),
    ("H", "ISO 17712 H (high security)"),
    ("other", "other (describe)"),
)


def _seals(count: int) -> str:
    return f"{count} seal" if count == 1 else f"{count} seals"


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
            seal_classes=SEAL_CLASSES,
        )

    @router.post("/stores/batches")
    @page(Permission.SEAL_STOCK, back=overview)
    def receive(visit: Visit, form: dict[str, str]) -> Response:
        scanned = listed(form, "serials")
        batch = seals.receive_batch(
            uow,
            visit.caller,
            supplier=form.get("supplier", ""),
            delivery_reference=form.get("delivery_reference", ""),
            iso_class=form.get("seal_class", ""),
            class_description=form.get("class_description") or None,
            store=form.get("store", ""),
            first=None if scanned else form.get("first") or None,
            last=None if scanned else form.get("last") or None,
            serials=scanned or None,
        )
        return site.redirect("/stores", done=f"Received {_seals(batch.size)} into {batch.store}")

    @router.post("/stores/issue")
    @page(Permission.SEAL_STOCK, back=overview)
    def issue(visit: Visit, form: dict[str, str]) -> Response:
        operator_id = form.get("operator_id", "").strip()
        issued = seals.issue(uow, visit.caller, operator_id, serials=listed(form, "serials"))
        return site.redirect("/stores", done=f"Issued {_seals(len(issued))} to {operator_id}")

    @router.post("/stores/return")
    @page(Permission.SEAL_STOCK, back=overview)
    def return_seals(visit: Visit, form: dict[str, str]) -> Response:
        returned = seals.return_to_stock(
            uow,
            visit.caller,
            store=form.get("store", "").strip() or None,
            serials=listed(form, "serials"),
        )
        into = ", ".join(sorted({s.store or "" for s in returned}))
        return site.redirect("/stores", done=f"Returned {_seals(len(returned))} to stock at {into}")

    @router.post("/stores/void")
    @page(Permission.SEAL_REPORT, back=overview)
    def void(visit: Visit, form: dict[str, str]) -> Response:
        done = seals.void(uow, visit.caller, form.get("serial", ""), form.get("reason", ""))
        return site.redirect("/stores", done=f"Seal {done.serial} is void: out of use for good")

    @router.post("/stores/lost")
    @page(Permission.SEAL_REPORT, back=overview)
    def lost(visit: Visit, form: dict[str, str]) -> Response:
        done = seals.lose(uow, visit.caller, form.get("serial", ""), form.get("reason", ""))
        return site.redirect(
            "/stores",
            done=f"Seal {done.serial} recorded as lost: a discrepancy is open until a security "
            "manager resolves it",
        )

    @router.post("/stores/broken")
    @page(Permission.SEAL_REPORT, back=overview)
    def broken(visit: Visit, form: dict[str, str]) -> Response:
        done = seals.report_broken(
            uow, visit.caller, form.get("serial", ""), form.get("detail", "")
        )
        return site.redirect(
            "/stores",
            done=f"Seal {done.serial} on device {done.device_id} recorded as broken: a "
            "discrepancy is open until a security manager resolves it",
        )

    @router.post("/stores/seals")
    @page(Permission.SEAL_READ, back=overview)
    def find_seal(visit: Visit, form: dict[str, str]) -> Response:
        """A seal looked up by its serial (scanned): on to its page, or refused beside it."""
        found = seals.seal_detail(uow, visit.caller, form.get("serial", ""))
        return site.redirect(f"/stores/seals/{found.seal.serial}")

    @router.get("/stores/seals/{serial}")
    @page(Permission.SEAL_READ)
    def seal_page(visit: Visit, form: dict[str, str], serial: str) -> Response:
        found = seals.seal_detail(uow, visit.caller, serial)
        return site.render(
            "seal.html", visit, seal=found.seal, batch=found.batch, events=found.events
        )

    @router.get("/stores/discrepancies")
    @page(Permission.SEAL_READ)
    def discrepancies(visit: Visit, form: dict[str, str]) -> Response:
        board = seal_views.discrepancy_board(uow, visit.caller)
        return site.render("discrepancies.html", visit, board=board)

    @router.post("/stores/discrepancies/{discrepancy_id}/resolve")
    @page(Permission.SEAL_DISCREPANCY_RESOLVE, back=discrepancies)
    def resolve(visit: Visit, form: dict[str, str], discrepancy_id: str) -> Response:
        done = seals.resolve_discrepancy(
            uow, visit.caller, discrepancy_id, form.get("resolution", "")
        )
        return site.redirect(
            "/stores/discrepancies",
            done=f"The {done.kind.value.replace('_', ' ')} discrepancy on seal {done.serial} "
            "is resolved",
        )

    @router.get("/stores/stocktake")
    @page(Permission.SEAL_STOCK)
    def stocktake_page(visit: Visit, form: dict[str, str]) -> Response:
        return site.render("stocktake.html", visit, result=None)

    @router.post("/stores/stocktake")
    @page(Permission.SEAL_STOCK, back=stocktake_page)
    def stocktake(visit: Visit, form: dict[str, str]) -> Response:
        result = seals.stocktake(uow, visit.caller, form.get("store", ""), listed(form, "serials"))
        return site.render("stocktake.html", visit, result=result)
