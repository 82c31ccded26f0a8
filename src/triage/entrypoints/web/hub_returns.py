"""Pages: communications hubs back to the DCC (issue 20, C).

/hubs lists the hubs returned to the DCC (the facility's readers see all, a person of an asset
owner its own devices') and the hub policy, which an administrator changes there. A supervisor
returns a hub from its device page ("Return to the DCC"), whose form ``hub_form`` describes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.caller import Caller
from triage.domain.device import Device
from triage.domain.hub_return import (
    ConnectionMethod,
    FaultReason,
    FaultReturnType,
    NoFaultReturnType,
    returnable,
)
from triage.domain.job import TriageJob
from triage.domain.roles import Permission
from triage.services import hub_returns

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Form, Site, Visit

Options = list[tuple[str, str]]


@dataclass(frozen=True)
class HubForm:
    """The device page's "Return to the DCC" form: where it posts and its choices."""

    action: str
    kinds: Options
    return_types: Options
    reasons: Options
    connections: Options


def _options(*kinds: type[FaultReturnType] | type[NoFaultReturnType]) -> Options:
    return [(m.value, m.value) for kind in kinds for m in kind]


def hub_form(caller: Caller, device: Device | None, open_job: TriageJob | None) -> HubForm | None:
    """The form, when the device is a hub whose open job may go back to the DCC now and the
    reader may send it (the service checks again)."""
    if device is None or open_job is None or not caller.can(Permission.DEVICE_DISPOSE):
        return None
    if not returnable(device.type, open_job.state):
        return None
    return HubForm(
        action=f"/devices/{device.id.value}/return-to-dcc",
        kinds=[("fault", "fault return (DUIS 8.14.3)"), ("no_fault", "no-fault return (8.14.4)")],
        return_types=_options(FaultReturnType, NoFaultReturnType),
        reasons=[(m.value, m.value) for m in FaultReason],
        connections=[(m.value, m.value) for m in ConnectionMethod],
    )


def register(router: APIRouter, site: Site) -> None:
    """Add the pages of this area to ``router``."""
    application = site.application
    uow = application.uow
    page = site.page

    @router.get("/hubs")
    @page(None)  # the service: every return for the facility's readers, its own for an owner
    def overview(visit: Visit, form: Form) -> Response:
        shown = hub_returns.overview(uow, visit.caller)
        return site.render("hubs.html", visit, returns=shown.returns, policy=shown.policy)

    @router.post("/hubs/policy")
    @page(Permission.POLICY_MANAGE, back=overview)
    def set_policy(visit: Visit, form: Form) -> Response:
        allow = form.get("allow_reset", "") == "yes"
        hub_returns.set_policy(uow, visit.caller, allow)
        what = "may be reset like a meter" if allow else "are never reset"
        return site.redirect("/hubs", done=f"Hub policy set: communications hubs {what}")


def register_device_form(router: APIRouter, site: Site, device_page: Callable[..., Any]) -> None:
    """The device page's "Return to the DCC" form's POST (its GET page is ``device_page``)."""
    application = site.application
    uow = application.uow

    @router.post("/devices/{device_id}/return-to-dcc")
    @site.page(Permission.DEVICE_DISPOSE, back=device_page)
    def return_to_dcc(visit: Visit, form: Form, device_id: str) -> Response:
        found = hub_returns.return_hub(
            uow,
            visit.caller,
            application.duis_schema(),
            device_id,
            form.get("kind", ""),
            form.get("return_type", ""),
            form.get("dcc_reference", ""),
            **{name: form.get(name) or None for name in hub_returns.OPTIONAL_FIELDS},
        )
        what = "fault" if found.details.kind.value == "fault" else "no-fault"
        return site.redirect(
            f"/devices/{found.device_id}",
            done=f"{found.device_id} returned to the DCC ({what} return, DCC reference "
            f"{found.details.dcc_reference})",
        )
