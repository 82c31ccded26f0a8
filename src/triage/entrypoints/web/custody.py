"""Web pages of device custody: devices by location (idle ones first), a move by scanning, the
device stocktake and past stocktakes, the locations and the custody settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.custody import LocationKind
from triage.domain.roles import Permission
from triage.entrypoints.web.form_values import listed, whole
from triage.services import custody

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Site, Visit


def register(router: APIRouter, site: Site) -> None:
    uow = site.application.uow
    page = site.page

    @router.get("/custody")
    @page(Permission.TRIAGE_READ)
    def overview(visit: Visit, form: dict[str, str]) -> Response:
        shown = custody.overview(uow, visit.caller, form.get("location") or None)
        return site.render(
            "custody.html", visit, shown=shown, kinds=[(k.value, k.value) for k in LocationKind]
        )

    @router.post("/custody/move")
    @page(Permission.DEVICE_MOVE, back=overview)
    def move(visit: Visit, form: dict[str, str]) -> Response:
        moved = custody.move(
            uow,
            visit.caller,
            form.get("device_id", ""),
            form.get("location", ""),
            form.get("reason", ""),
        )
        return site.redirect("/custody", done=f"Device {moved.device_id} is at {moved.location}")

    @router.post("/custody/stocktake")
    @page(Permission.DEVICE_STOCKTAKE, back=overview)
    def stocktake(visit: Visit, form: dict[str, str]) -> Response:
        taken = custody.stocktake(
            uow, visit.caller, form.get("location", ""), listed(form, "device_ids")
        )
        outcome = (
            "everything is where it is recorded"
            if taken.agrees
            else f"{len(taken.missing)} missing, {len(taken.unexpected)} unexpected"
        )
        return site.redirect(
            f"/custody/stocktakes/{taken.id}", done=f"Stocktake of {taken.location}: {outcome}"
        )

    @router.get("/custody/stocktakes/{stocktake_id}")
    @page(Permission.TRIAGE_READ)
    def stocktake_page(visit: Visit, form: dict[str, str], stocktake_id: str) -> Response:
        found = custody.device_stocktake(uow, visit.caller, stocktake_id)
        return site.render("custody_stocktake.html", visit, result=found)

    @router.post("/custody/locations")
    @page(Permission.FACILITY_MANAGE, back=overview)
    def define(visit: Visit, form: dict[str, str]) -> Response:
        made = custody.define_location(
            uow, visit.caller, form.get("code", ""), form.get("name", ""), form.get("kind", "")
        )
        return site.redirect("/custody", done=f"Location {made.code} ({made.name}) defined")

    @router.post("/custody/idle-days")
    @page(Permission.FACILITY_MANAGE, back=overview)
    def idle_days(visit: Visit, form: dict[str, str]) -> Response:
        days = whole(form, "idle_device_days", "a whole number of days from 1 to 365")
        changed = custody.change_settings(uow, visit.caller, idle_device_days=days)
        return site.redirect(
            "/custody", done=f"Devices not moved for {changed.idle_device_days} days are idle"
        )

    @router.post("/custody/random-seals")
    @page(Permission.SEAL_STOCK, back=overview)
    def random_seals(visit: Visit, form: dict[str, str]) -> Response:
        on = form.get("random_seal_issue") == "on"
        custody.change_settings(uow, visit.caller, random_seal_issue=on)
        said = "the bench draws each seal at random" if on else "the bench fits any seal issued"
        return site.redirect("/custody", done=f"Seal issue changed: {said}")
