"""The device list: search the devices received by id, consignment, state, asset owner and the
day received; newest first, a page at a time ("Next page" carries the cursor), each device
linking to its own page, and the same search as a CSV download (the API's export)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.lifecycle import JobState
from triage.entrypoints.statuses import status_of
from triage.errors import InvalidInput
from triage.services.views import device_list

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Site, Visit

# The search form's fields, as the service's Filters names them.
FIELDS = ("device_id", "consignment", "state", "asset_owner", "received_from", "received_to")
STATES = [(s.value, s.value.replace("_", " ")) for s in JobState]
_LONGEST_FIELD = 200


def register(router: APIRouter, site: Site) -> None:
    from triage.entrypoints.web.pages import Failure  # pages imports this module first

    uow = site.application.uow
    page = site.page

    @router.get("/devices")
    @page(None)  # the service: a facility reader's, or an asset owner's own devices
    def device_search(visit: Visit, form: dict[str, str]) -> Response:
        typed = {name: form.get(name, "")[:_LONGEST_FIELD] for name in FIELDS}
        asked = {name: value for name, value in typed.items() if value.strip()}
        cursor = form.get("cursor", "")[:_LONGEST_FIELD]
        try:
            found = device_list.search(uow, visit.caller, device_list.Filters(**typed), cursor)
        except InvalidInput as exc:
            failed = Failure("/devices", str(exc), exc.field, typed)
            return site.render(
                "devices.html",
                replace(visit, failed=failed),
                status_of(exc),
                filters=typed,
                states=STATES,
                items=None,
                next_href=None,
                first_href=None,
                csv_href=None,
            )
        following = None
        if found.next_cursor is not None:
            following = "/devices?" + urlencode({**asked, "cursor": found.next_cursor})
        return site.render(
            "devices.html",
            visit,
            filters=typed,
            states=STATES,
            items=found.items,
            next_href=following,
            first_href=("/devices?" + urlencode(asked)) if cursor else None,
            csv_href="/api/v1/devices.csv" + ("?" + urlencode(asked) if asked else ""),
        )
