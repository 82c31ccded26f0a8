"""Pages: Smart Metering Inventory readings (DUIS 8.2 in) (issue 20, A).

/inventory: a supervisor or stores uploads the DCC's Read Inventory response (each device's
outcome, its differences from the manifest and the SMI gate's refusal shown once); everyone
who reads triage sees the recent readings and the statuses in which triage is refused; an
administrator changes them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.device import InventoryStatus
from triage.domain.roles import Permission
from triage.duis.xml import MAX_BYTES
from triage.entrypoints.duis_files import configured_schema
from triage.entrypoints.request_bodies import KiB
from triage.services import inventory

# The message shown after an import (pages.DONE_LONGEST shows at most 400 characters).
MAX_SUMMARY = 400

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Form, Site, Visit


def register(router: APIRouter, site: Site) -> None:
    """Add the pages of this area to ``router``."""
    application = site.application
    uow = application.uow
    page = site.page

    @router.get("/inventory")
    @page(Permission.TRIAGE_READ)
    def overview(visit: Visit, form: Form) -> Response:
        shown = inventory.overview(uow, visit.caller)
        return site.render(
            "inventory.html",
            visit,
            recent=shown.recent,
            refused=shown.refused,
            is_default=shown.is_default,
            statuses=[s.value for s in InventoryStatus],
        )

    @router.post("/inventory/responses")
    @page(Permission.INVENTORY_IMPORT, limit=MAX_BYTES + 16 * KiB, back=overview)
    def upload(visit: Visit, form: Form) -> Response:
        done = inventory.import_response(
            uow,
            visit.caller,
            application.evidence_store(),
            form.files.get("response", b""),
            configured_schema(application),
            form.get("reference") or None,
        )
        return site.redirect("/inventory", done=_summary(done))

    @router.post("/inventory/smi-policy")
    @page(Permission.POLICY_MANAGE, back=overview)
    def set_policy(visit: Visit, form: Form) -> Response:
        chosen = [s.value for s in InventoryStatus if form.get(f"refuse-{s.value}") == "on"]
        found = inventory.set_smi_policy(uow, visit.caller, chosen)
        done = ", ".join(found) or "no status"
        return site.redirect("/inventory", done=f"Triage is now refused in: {done}")


def _summary(done: inventory.InventoryImport) -> str:
    """What an import did, in a few lines: what was recorded, what was not, what is refused."""
    recorded = [d for d in done.devices if d.recorded]
    exceptions = sum(len(d.exception_ids) for d in recorded)
    # The refusals first: they are what the bench must not miss.
    parts = [f"Triage refused for {d.device_id}: {d.refusal}." for d in recorded if d.refusal]
    parts.append(
        f"Response imported: {len(recorded)} device(s) recorded, {exceptions} difference(s) "
        "from the manifest raised as exceptions."
    )
    if done.not_held:
        parts.append(f"Not held, not recorded: {', '.join(done.not_held)}.")
    text = " ".join(parts)
    return text if len(text) <= MAX_SUMMARY else text[: MAX_SUMMARY - 3] + "..."
