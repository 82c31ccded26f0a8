"""Web pages: Retention of evidence files, legal holds and consignment outcome reports
(issue 19 items 3 and 7).

/retention shows the rules per kind of evidence file, the legal holds, what the next purge
would delete and the purges done; a security manager or administrator changes a rule, places
or releases a hold and runs a purge there. A consignment's outcome report is downloaded as
signed JSON, CSV or PDF from its consignment page."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.retention import KINDS, HoldScope
from triage.domain.roles import Permission
from triage.entrypoints.downloads import attachment, pdf
from triage.errors import InvalidInput, NotFound
from triage.services import outcome_reports, retention

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Form, Site, Visit

FORMATS = ("json", "csv", "pdf")


def outcome_href(asset_owner: str, reference: str, fmt: str) -> str:
    """Where a consignment's outcome report is downloaded in ``fmt`` (json, csv or pdf)."""
    return f"/outcome-reports/{fmt}/{quote(asset_owner, safe='')}/{quote(reference, safe='')}"


def _days(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise InvalidInput("days: a whole number of days", field="days") from None


def register(router: APIRouter, site: Site) -> None:
    application = site.application
    uow = application.uow
    page = site.page

    @router.get("/retention")
    @page(Permission.TRIAGE_READ)
    def overview(visit: Visit, form: Form) -> Response:
        shown = retention.overview(uow, visit.caller, application.evidence_store())
        return site.render(
            "retention.html",
            visit,
            rules=shown.rules,
            holds=shown.holds,
            plan=shown.plan,
            history=shown.history,
            kinds=[(k.name, k.title) for k in KINDS.values()],
            scopes=[(s.value, s.value) for s in HoldScope],
        )

    @router.post("/retention/rules")
    @page(Permission.RETENTION_MANAGE, back=overview)
    def set_rule(visit: Visit, form: Form) -> Response:
        found = retention.set_rule(
            uow, visit.caller, form.get("kind", ""), _days(form.get("days", ""))
        )
        return site.redirect(
            "/retention", done=f"Files of {found.kind.name} are now kept {found.rule.days} days"
        )

    @router.post("/retention/holds")
    @page(Permission.RETENTION_MANAGE, back=overview)
    def place_hold(visit: Visit, form: Form) -> Response:
        held = retention.place_hold(
            uow,
            visit.caller,
            form.get("scope", ""),
            form.get("target", ""),
            form.get("reason", ""),
        )
        return site.redirect(
            "/retention", done=f"Legal hold placed on {held.scope.value} {held.target}"
        )

    @router.post("/retention/holds/{hold_id}/release")
    @page(Permission.RETENTION_MANAGE, back=overview)
    def release_hold(visit: Visit, form: Form, hold_id: str) -> Response:
        released = retention.release_hold(uow, visit.caller, hold_id, form.get("reason", ""))
        return site.redirect(
            "/retention",
            done=f"Legal hold on {released.scope.value} {released.target} released",
        )

    @router.post("/retention/purge")
    @page(Permission.RETENTION_MANAGE, back=overview)
    def purge(visit: Visit, form: Form) -> Response:
        run = retention.purge(uow, visit.caller, application.evidence_store())
        return site.redirect(
            "/retention",
            done=f"Purged {len(run.purged)} file(s); {run.deleted} deleted from the store",
        )

    @router.get("/outcome-reports/{fmt}/{asset_owner}/{reference:path}")
    @page(None)  # the service: a facility reader, or a person of that asset owner
    def outcome(visit: Visit, form: Form, fmt: str, asset_owner: str, reference: str) -> Response:
        issuer = application.issuer()
        if fmt == "csv":
            text, filename = outcome_reports.outcome_csv(
                uow, visit.caller, reference, issuer, asset_owner
            )
            return attachment(text, "text/csv; charset=utf-8", filename)
        if fmt == "pdf":
            return pdf(
                outcome_reports.outcome_pdf(
                    uow, visit.caller, reference, issuer, application.documents, asset_owner
                )
            )
        if fmt not in FORMATS:
            raise NotFound(f"no outcome report as {fmt[:10]!r}: json, csv or pdf")
        report = outcome_reports.outcome_report(uow, visit.caller, reference, issuer, asset_owner)
        filename = f"outcome-{report.consignment.id}.json"
        return attachment(report.signed.to_json(), "application/json", filename)
