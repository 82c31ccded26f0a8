"""Intake's pages: consignments (a manifest uploaded, previewed with its bad rows shown by line,
then imported, its invalid rows skipped only when asked), each consignment's expected, arrived
and missing devices and its closing, and the exceptions queue with resolution.

A consignment's page is named by its asset owner and reference, as people say it, not by an id
nobody sees."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.bounded import InputLimitError
from triage.domain.consignment import Consignment, ManifestRow
from triage.domain.manifest import ManifestFormatError, parse_manifest
from triage.domain.roles import Permission
from triage.entrypoints.request_bodies import MiB
from triage.errors import InvalidInput
from triage.services import intake
from triage.services.views import consignments as views

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Form, Site, Visit

# A manifest uploaded in the browser (about 20,000 devices), and the import form that carries
# it back after the preview (URL-encoded, so up to three times larger).
MANIFEST_BYTES = 2 * MiB
IMPORT_FORM_BYTES = 3 * MANIFEST_BYTES + MiB
LISTED = 500
PREVIEW_ROWS = 200


def href(found: Consignment) -> str:
    """The consignment's page: its asset owner and reference."""
    return f"/consignments/{quote(found.asset_owner, safe='')}/{quote(found.reference, safe='')}"


def _manifest(fields: Mapping[str, str], files: Mapping[str, bytes]) -> tuple[str, str]:
    """The manifest's text and format: the file uploaded, or the text the preview carried."""
    uploaded = files.get("manifest")
    if uploaded:
        if len(uploaded) > MANIFEST_BYTES:
            raise InvalidInput(f"manifest: larger than {MANIFEST_BYTES // MiB} MiB")
        text = uploaded.decode("utf-8", errors="replace")
    else:
        text = fields.get("manifest_text", "")
    if not text.strip():
        raise InvalidInput("manifest: choose the manifest file (CSV or JSON)")
    kind = "json" if text.lstrip().startswith(("[", "{")) else "csv"
    return text, kind


def _rows(text: str, kind: str) -> list[ManifestRow]:
    try:
        return parse_manifest(text.encode(), kind)
    except (ManifestFormatError, InputLimitError) as exc:
        raise InvalidInput(f"manifest: {exc}") from exc


def register(router: APIRouter, site: Site) -> None:
    uow = site.application.uow
    page = site.page

    # -- consignments ------------------------------------------------------------------------
    @router.get("/consignments")
    @page(None)  # the service: a facility reader's, or an asset owner's own consignments
    def overview(visit: Visit, form: Form) -> Response:
        items, total = views.consignments(uow, visit.caller, 0, LISTED)
        return site.render(
            "consignments.html",
            visit,
            consignments=[(c, href(c)) for c in items],
            total=total,
            preview=None,
        )

    @router.post("/consignments/preview")
    @page(Permission.CONSIGNMENT_IMPORT, limit=MANIFEST_BYTES + 64 * 1024, back=overview)
    def preview(visit: Visit, form: Form) -> Response:
        """What the manifest would import and which rows are invalid; nothing is recorded.
        Shown again, from what was carried, when the import after it is refused."""
        fields = form if form.files or "manifest_text" in form else _carried(visit)
        text, kind = _manifest(fields, form.files)
        reference = fields.get("reference", "")
        asset_owner = fields.get("asset_owner", "")
        report = intake.import_manifest(
            uow, visit.caller, reference, asset_owner, _rows(text, kind), dry_run=True
        )
        return site.render(
            "consignments.html",
            visit,
            consignments=[],
            total=0,
            preview={
                "reference": reference.strip(),
                "asset_owner": asset_owner.strip(),
                "report": report,
                "shown": report.accepted[:PREVIEW_ROWS],
                "manifest_text": text,
            },
        )

    @router.post("/consignments/import")
    @page(Permission.CONSIGNMENT_IMPORT, limit=IMPORT_FORM_BYTES, back=preview)
    def import_manifest(visit: Visit, form: Form) -> Response:
        text, kind = _manifest(form, form.files)
        report = intake.import_manifest(
            uow,
            visit.caller,
            form.get("reference", ""),
            form.get("asset_owner", ""),
            _rows(text, kind),
            skip_invalid=form.get("skip_invalid") == "yes",
        )
        reference, owner = form.get("reference", "").strip(), form.get("asset_owner", "").strip()
        done = f"Imported consignment {reference} of {owner}: {report.imported} device(s) expected"
        if report.problems:
            done += f"; {len(report.problems)} invalid row(s) skipped"
        to = f"/consignments/{quote(owner, safe='')}/{quote(reference, safe='')}"
        return site.redirect(to, done=done)

    @router.get("/consignments/{asset_owner}/{reference:path}")
    @page(None)  # the service: a facility reader, or a person of that asset owner
    def detail(visit: Visit, form: Form, asset_owner: str, reference: str) -> Response:
        shown = views.consignment_detail(uow, visit.caller, reference, asset_owner)
        return site.render(
            "consignment.html",
            visit,
            consignment=shown.consignment,
            href=href(shown.consignment),
            arrived=shown.arrived,
            missing=shown.not_arrived,
        )

    @router.post("/consignments/{asset_owner}/{reference:path}/close")
    @page(Permission.CONSIGNMENT_CLOSE, back=detail)
    def close(visit: Visit, form: Form, asset_owner: str, reference: str) -> Response:
        closed, missing = intake.close_consignment(uow, visit.caller, reference, asset_owner)
        done = (
            f"Closed consignment {closed.reference}: {closed.arrived} of {closed.expected} "
            f"arrived, {len(missing)} never arrived"
        )
        return site.redirect(href(closed), done=done)

    # -- the exceptions queue ----------------------------------------------------------------
    @router.get("/exceptions")
    @page(Permission.TRIAGE_READ)
    def exceptions(visit: Visit, form: Form) -> Response:
        queue = views.exceptions_queue(uow, visit.caller)
        return site.render("exceptions.html", visit, queue=queue)

    @router.post("/exceptions/{exception_id}/resolve")
    @page(Permission.EXCEPTION_RESOLVE, back=exceptions)
    def resolve(visit: Visit, form: Form, exception_id: str) -> Response:
        intake.resolve_exception(uow, visit.caller, exception_id, form.get("resolution", ""))
        return site.redirect("/exceptions", done="Exception resolved: what was done is recorded")


def _carried(visit: Visit) -> Mapping[str, str]:
    """What the refused import form carried (its manifest, reference and owner), to show its
    preview again with the refusal."""
    return visit.failed.typed if visit.failed is not None else {}
