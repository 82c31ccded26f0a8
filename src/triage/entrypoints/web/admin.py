"""The administrator's page: the facility, the provider as a SEC Party, and commissioning
mode."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.assessment import PARTY_ROLES
from triage.domain.roles import Permission
from triage.domain.tamper_policy import PolicyError, TamperPolicy
from triage.errors import InvalidInput
from triage.services import assessment, tamper_policy
from triage.services.views import dashboard

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Form, Site, Visit


def register(router: APIRouter, site: Site) -> None:
    application = site.application
    uow = application.uow
    page = site.page

    @router.get("/admin")
    @page(Permission.FACILITY_MANAGE)
    def facility(visit: Visit, form: dict[str, str]) -> Response:
        shown = dashboard.facility_overview(uow, visit.caller)
        return site.render(
            "admin.html",
            visit,
            facility=application.facility,
            standing=shown.standing,
            roles=PARTY_ROLES,
            policy=shown.policy,
        )

    @router.post("/admin/policy")
    @page(Permission.POLICY_MANAGE)
    def policy(visit: Visit, form: Form) -> Response:
        source = form.files.get("policy", b"")
        if not source:
            raise InvalidInput("policy: choose the policy's YAML file")
        try:
            chosen = TamperPolicy.load(source)
        except PolicyError as exc:
            raise InvalidInput(f"policy: {exc}") from None
        tamper_policy.activate_policy(uow, visit.caller, chosen)
        return site.redirect("/admin")

    @router.post("/admin/party")
    @page(Permission.FACILITY_MANAGE)
    def party(visit: Visit, form: dict[str, str]) -> Response:
        assessment.record_party(
            uow,
            visit.caller,
            form.get("party_id", ""),
            form.get("name", ""),
            [form.get("role", "")],
        )
        return site.redirect("/admin")

    @router.post("/admin/commissioning")
    @page(Permission.FACILITY_MANAGE)
    def commissioning(visit: Visit, form: dict[str, str]) -> Response:
        if form.get("end"):
            assessment.end_commissioning(uow, visit.caller, form.get("reason", ""))
            return site.redirect("/admin")
        try:
            until = datetime.fromisoformat(form.get("until", "").strip())
        except ValueError:
            raise InvalidInput("until: a date and time such as 2027-01-31T18:00") from None
        until = until if until.tzinfo else until.replace(tzinfo=UTC)  # the form's times are UTC
        assessment.start_commissioning(uow, visit.caller, until, form.get("reason", ""))
        return site.redirect("/admin")
