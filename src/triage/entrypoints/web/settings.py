"""The facility's settings: the working hours in the facility's local time (a security
manager's, as they are what the out-of-hours threshold watches), the reset attempts and work
order validity (an administrator's), and, read-only, what the environment sets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.roles import Permission
from triage.domain.thresholds import DAYS
from triage.entrypoints.web.form_values import whole
from triage.errors import InvalidInput
from triage.services import anomaly, facility
from triage.services.views import facility_settings

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Site, Visit


def register(router: APIRouter, site: Site) -> None:
    uow = site.application.uow
    page = site.page

    @router.get("/settings")
    @page(Permission.ACCESS_REVIEW)
    def overview(visit: Visit, form: dict[str, str]) -> Response:
        shown = facility_settings.facility_settings(uow, visit.caller)
        return site.render("settings.html", visit, shown=shown, days=DAYS)

    @router.post("/settings/working-hours")
    @page(Permission.THRESHOLD_MANAGE, back=overview)
    def working_hours(visit: Visit, form: dict[str, str]) -> Response:
        if form.get("clear"):
            anomaly.set_working_hours(uow, visit.caller, None, None, None)
            return site.redirect("/settings", done="Working hours cleared: every hour counts")
        start, end = form.get("start", "").strip(), form.get("end", "").strip()
        if not start:
            raise InvalidInput("start: give the time work starts, as HH:MM")
        days = [day for day in DAYS if form.get(f"day_{day}")]
        hours = anomaly.set_working_hours(uow, visit.caller, start, end, days)
        shown = hours.describe() if hours is not None else ""
        return site.redirect("/settings", done=f"Working hours set: {shown}")

    @router.post("/settings/triage")
    @page(Permission.FACILITY_MANAGE, back=overview)
    def triage_settings(visit: Visit, form: dict[str, str]) -> Response:
        attempts, minutes = facility.change_settings(
            uow,
            visit.caller,
            whole(form, "max_reset_attempts", "a whole number from 1 to 10"),
            whole(form, "work_order_minutes", "a whole number from 1 to 240"),
        )
        return site.redirect(
            "/settings",
            done=f"Settings changed: {attempts} reset attempts a job; work orders valid for "
            f"{minutes} minutes",
        )
