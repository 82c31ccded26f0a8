"""Web pages of asset owners as parties (issue 19 item 1): the administrator registers them,
changes their contact and verifier key and deactivates them; the facility's readers list them;
a person of an asset owner has a home page ("/") of their own devices and consignments."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.roles import Permission
from triage.entrypoints.web.consignments import href
from triage.services import asset_owners
from triage.services.views import owner_home

if TYPE_CHECKING:
    from collections.abc import Callable

    from triage.entrypoints.web.pages import Form, Site, Visit
    from triage.services.ports import UnitOfWorkFactory


def owner_href(owner_id: str) -> str:
    """The page of one asset owner."""
    return f"/asset-owners/{quote(owner_id, safe='')}"


def home_page(uow: UnitOfWorkFactory, visit: Visit, render: Callable[..., Response]) -> Response:
    """The home page of a person of an asset owner: its own devices and consignments."""
    shown = owner_home.owner_home(uow, visit.caller)
    consignments = [(c, href(c)) for c in shown.consignments]
    return render("owner_home.html", visit, shown=shown, consignments=consignments)


def register(router: APIRouter, site: Site) -> None:
    uow = site.application.uow
    page = site.page

    @router.get("/asset-owners")
    @page(None)  # the service: every owner for the facility's readers, its own for its people
    def overview(visit: Visit, form: Form) -> Response:
        found = asset_owners.owners(uow, visit.caller)
        return site.render(
            "asset_owners.html", visit, owners=[(o, owner_href(o.id)) for o in found]
        )

    @router.post("/asset-owners")
    @page(Permission.ASSET_OWNER_MANAGE, back=overview)
    def add(visit: Visit, form: Form) -> Response:
        added = asset_owners.register(
            uow,
            visit.caller,
            form.get("owner_id", ""),
            form.get("name", ""),
            form.get("contact", ""),
            form.get("verifier_key", "").strip() or None,
        )
        return site.redirect(
            owner_href(added.id), done=f"Registered asset owner {added.id} ({added.name})"
        )

    @router.get("/asset-owners/{owner_id}")
    @page(None)  # the service: 404 for another owner's person
    def detail(visit: Visit, form: Form, owner_id: str) -> Response:
        found = asset_owners.owner(uow, visit.caller, owner_id)
        return site.render("asset_owner.html", visit, owner=found, here=owner_href(found.id))

    @router.post("/asset-owners/{owner_id}")
    @page(Permission.ASSET_OWNER_MANAGE, back=detail)
    def change(visit: Visit, form: Form, owner_id: str) -> Response:
        status = form.get("active", "")
        changed = asset_owners.update(
            uow,
            visit.caller,
            owner_id,
            name=form.get("name") or None,
            contact=form.get("contact"),
            verifier_key=form.get("verifier_key", "").strip() or None,
            active=None if status == "" else status == "yes",
        )
        state = "" if changed.active else " (deactivated)"
        return site.redirect(owner_href(changed.id), done=f"Updated {changed.id}{state}")
