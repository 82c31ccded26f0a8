"""Web pages: Dispatches, manifests, VVTT checks, handovers, acknowledgements
(issue 19 item 2).

Stores and supervisors open dispatches, pack each device with its seal scanned and the four
VVTT checks ticked, close, download the note and record the handover; a person of the asset
owner sees its own dispatches and acknowledges receipt, naming a discrepancy per device, or
uploads an acknowledgement signed with its key."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.dispatch import CHECKS, Destination, DiscrepancyKind, SealChecks
from triage.domain.roles import Permission
from triage.domain.signed_document import MAX_BYTES
from triage.entrypoints.downloads import attachment, pdf
from triage.services import dispatches

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Form, Site, Visit

LISTED = 200
UPLOAD = MAX_BYTES + 64 * 1024
KINDS = [(k.value, k.value.replace("_", " ")) for k in DiscrepancyKind]


def href(dispatch_id: str) -> str:
    """The page of one dispatch."""
    return f"/dispatches/{quote(dispatch_id, safe='')}"


def register(router: APIRouter, site: Site) -> None:
    uow = site.application.uow
    page = site.page

    @router.get("/dispatches")
    @page(None)  # the service: every dispatch for the facility's readers, its own for an owner
    def overview(visit: Visit, form: Form) -> Response:
        shown = dispatches.overview(uow, visit.caller, LISTED)
        return site.render(
            "dispatches.html",
            visit,
            dispatches=[(d, href(d.id)) for d in shown.dispatches],
            total=shown.total,
            owners=[(o.id, f"{o.id} ({o.name})") for o in shown.owners],
            destinations=[(d.value, d.value.replace("_", " ")) for d in Destination],
        )

    @router.post("/dispatches")
    @page(Permission.DISPATCH_MANAGE, back=overview)
    def create(visit: Visit, form: Form) -> Response:
        found = dispatches.create(
            uow,
            visit.caller,
            form.get("asset_owner", ""),
            form.get("destination", ""),
            form.get("reference") or None,
        )
        return site.redirect(href(found.id), done=f"Opened a dispatch for {found.asset_owner}")

    @router.get("/dispatches/{dispatch_id}")
    @page(None)  # the service: 404 for another owner's person
    def detail(visit: Visit, form: Form, dispatch_id: str) -> Response:
        found = dispatches.dispatch(uow, visit.caller, dispatch_id)
        return site.render(
            "dispatch.html",
            visit,
            dispatch=found,
            here=href(found.id),
            checks=CHECKS,
            kinds=KINDS,
        )

    @router.post("/dispatches/{dispatch_id}/pack")
    @page(Permission.DISPATCH_MANAGE, back=detail)
    def pack(visit: Visit, form: Form, dispatch_id: str) -> Response:
        checks = SealChecks(*(form.get(name) == "yes" for name in CHECKS))
        found = dispatches.pack(
            uow,
            visit.caller,
            dispatch_id,
            form.get("device_id", ""),
            form.get("seal_serial", ""),
            checks,
        )
        return site.redirect(
            href(found.id), done=f"Packed {found.devices[-1].device_id}: seal checks passed"
        )

    @router.post("/dispatches/{dispatch_id}/unpack")
    @page(Permission.DISPATCH_MANAGE, back=detail)
    def unpack(visit: Visit, form: Form, dispatch_id: str) -> Response:
        device = form.get("device_id", "")
        found = dispatches.unpack(uow, visit.caller, dispatch_id, device)
        return site.redirect(href(found.id), done=f"Took {device.strip()} out of the dispatch")

    @router.post("/dispatches/{dispatch_id}/cancel")
    @page(Permission.DISPATCH_MANAGE, back=detail)
    def cancel(visit: Visit, form: Form, dispatch_id: str) -> Response:
        found = dispatches.cancel(uow, visit.caller, dispatch_id)
        return site.redirect(href(found.id), done="Dispatch cancelled")

    @router.post("/dispatches/{dispatch_id}/close")
    @page(Permission.DISPATCH_MANAGE, back=detail)
    def close(visit: Visit, form: Form, dispatch_id: str) -> Response:
        application = site.application
        found = dispatches.close(
            uow, visit.caller, dispatch_id, application.issuer(), application.documents
        )
        return site.redirect(href(found.id), done="Dispatch closed: the note is signed")

    @router.get("/dispatches/{dispatch_id}/note.json")
    @page(None)  # the service: the facility's readers, or a person of the dispatch's owner
    def note_json(visit: Visit, form: Form, dispatch_id: str) -> Response:
        content = dispatches.note(uow, visit.caller, dispatch_id)
        name = f"dispatch-note-{dispatch_id[:36]}.json"
        return attachment(content, "application/json", name)

    @router.get("/dispatches/{dispatch_id}/note.pdf")
    @page(None)
    def note_pdf(visit: Visit, form: Form, dispatch_id: str) -> Response:
        application = site.application
        return pdf(
            dispatches.note_pdf(
                uow, visit.caller, dispatch_id, application.issuer(), application.documents
            )
        )

    @router.post("/dispatches/{dispatch_id}/hand-over")
    @page(Permission.DISPATCH_MANAGE, back=detail)
    def hand_over(visit: Visit, form: Form, dispatch_id: str) -> Response:
        found = dispatches.hand_over(
            uow,
            visit.caller,
            dispatch_id,
            form.get("carrier", ""),
            form.get("vehicle", ""),
            form.get("container_seal", ""),
        )
        return site.redirect(href(found.id), done="Handover recorded: the devices have left")

    @router.post("/dispatches/{dispatch_id}/acknowledge")
    @page(Permission.DISPATCH_ACKNOWLEDGE, back=detail)
    def acknowledge(visit: Visit, form: Form, dispatch_id: str) -> Response:
        listed = [
            (key.removeprefix("kind-"), kind, form.get(f"text-{key.removeprefix('kind-')}", ""))
            for key, kind in form.items()
            if key.startswith("kind-") and kind
        ]
        extra = form.get("unexpected_device", "").strip()
        if extra:
            listed.append((extra, "unexpected_device", form.get("unexpected_text", "")))
        done = dispatches.acknowledge(uow, visit.caller, dispatch_id, listed)
        return site.redirect(
            href(done.id),
            done=f"Receipt acknowledged with {len(done.discrepancies)} discrepancy(ies)",
        )

    def signed(visit: Visit, form: Form, dispatch_id: str) -> Response:
        data = form.files.get("acknowledgement", b"")
        found = dispatches.acknowledge_signed(uow, visit.caller, dispatch_id, data)
        return site.redirect(
            href(found.id),
            done=f"Signed acknowledgement recorded with {len(found.discrepancies)} "
            "discrepancy(ies)",
        )

    # The owner's person uploads it; stores upload one received by mail.
    router.post("/dispatches/{dispatch_id}/acknowledge-signed")(
        page(Permission.DISPATCH_ACKNOWLEDGE, limit=UPLOAD, back=detail)(signed)
    )
    router.post("/dispatches/{dispatch_id}/acknowledge-received")(
        page(Permission.DISPATCH_MANAGE, limit=UPLOAD, back=detail)(signed)
    )
