"""Pages: the incident and vulnerability register (issue 20, D).

/incidents is the register (filters, overdue notifications marked) with a form to raise an
incident or record a vulnerability; /incidents/report is that form alone, for those who may
report but not read the register (the bench, stores); /incidents/{id} shows one incident, where
a security manager records a notification, changes the severity, contains and closes it."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.incident import SOURCES, IncidentKind, IncidentStatus, Severity
from triage.domain.roles import Permission
from triage.errors import InvalidInput
from triage.services import incidents

if TYPE_CHECKING:
    from triage.entrypoints.web.pages import Form, Site, Visit

FILTERS = ("kind", "status", "severity", "source")
PAGE_SIZE = 100


def _options(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(v, v.replace("_", " ")) for v in values]


def _day(text: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput("remediation_due: a day", field="remediation_due") from None


def _offset(text: str) -> int:
    return int(text) if text.isdigit() and len(text) < 10 else 0


def register(router: APIRouter, site: Site) -> None:
    """Add the pages of this area to ``router``."""
    uow = site.application.uow
    page = site.page
    choices: dict[str, Any] = {
        "kinds": _options(tuple(k.value for k in IncidentKind)),
        "statuses": _options(tuple(s.value for s in IncidentStatus)),
        "severities": _options(tuple(s.value for s in Severity)),
        "sources": _options(SOURCES),
    }

    @router.get("/incidents")
    @page(Permission.INCIDENT_READ)
    def overview(visit: Visit, form: Form) -> Response:
        chosen = {k: form.get(k, "") for k in FILTERS}
        overdue = form.get("overdue", "") == "yes"
        offset = _offset(form.get("offset", "0"))
        shown = incidents.register(
            uow,
            visit.caller,
            **{k: v or None for k, v in chosen.items()},
            overdue=overdue,
            offset=offset,
            limit=PAGE_SIZE,
        )
        return site.render(
            "incidents.html",
            visit,
            shown=shown,
            chosen=chosen,
            overdue=overdue,
            offset=offset,
            page_size=PAGE_SIZE,
            categories=_options(shown.categories),
            **choices,
        )

    @router.get("/incidents/report")
    @page(Permission.INCIDENT_REPORT)
    def report(visit: Visit, form: Form) -> Response:
        categories = incidents.categories(uow, visit.caller)
        return site.render(
            "incident_report.html", visit, categories=_options(categories), **choices
        )

    def _raise(visit: Visit, form: Form) -> str:
        if form.get("kind", "") == IncidentKind.VULNERABILITY.value:
            found = incidents.record_vulnerability(
                uow,
                visit.caller,
                title=form.get("title", ""),
                summary=form.get("summary", ""),
                severity=form.get("severity", ""),
                component=form.get("component", ""),
                reference=form.get("reference") or None,
                remediation_due=_day(form.get("remediation_due", "")),
                category=form.get("category", "") or "software_vulnerability",
            )
        else:
            found = incidents.raise_incident(
                uow,
                visit.caller,
                title=form.get("title", ""),
                summary=form.get("summary", ""),
                severity=form.get("severity", ""),
                category=form.get("category", ""),
            )
        due = ", ".join(n.recipient for n in found.notifications)
        needs = f"; to be notified: {due}" if due else ""
        what = found.kind.value.capitalize()
        return f"{what} {found.id} recorded ({found.severity.value}{needs})"

    @router.post("/incidents")
    @page(Permission.INCIDENT_REPORT, back=overview)
    def raise_from_register(visit: Visit, form: Form) -> Response:
        return site.redirect("/incidents", done=_raise(visit, form))

    @router.post("/incidents/report")
    @page(Permission.INCIDENT_REPORT, back=report)
    def raise_from_report(visit: Visit, form: Form) -> Response:
        return site.redirect("/incidents/report", done=_raise(visit, form))

    @router.get("/incidents/{incident_id}")
    @page(Permission.INCIDENT_READ)
    def incident_page(visit: Visit, form: Form, incident_id: str) -> Response:
        shown = incidents.show(uow, visit.caller, incident_id)
        return site.render(
            "incident.html",
            visit,
            shown=shown,
            found=shown.incident,
            recipients=list(shown.recipients.items()),
            severities=choices["severities"],
        )

    def _back(incident_id: str, done: str) -> Response:
        return site.redirect(f"/incidents/{incident_id}", done=done)

    @router.post("/incidents/{incident_id}/notify")
    @page(Permission.INCIDENT_MANAGE, back=incident_page)
    def notify(visit: Visit, form: Form, incident_id: str) -> Response:
        recipient = form.get("recipient", "")
        incidents.notify(uow, visit.caller, incident_id, recipient, form.get("reference", ""))
        return _back(incident_id, f"Notification to {recipient} recorded")

    @router.post("/incidents/{incident_id}/severity")
    @page(Permission.INCIDENT_MANAGE, back=incident_page)
    def severity(visit: Visit, form: Form, incident_id: str) -> Response:
        found = incidents.change_severity(
            uow, visit.caller, incident_id, form.get("severity", ""), form.get("reason", "")
        )
        return _back(incident_id, f"Severity changed to {found.severity.value}")

    @router.post("/incidents/{incident_id}/contain")
    @page(Permission.INCIDENT_MANAGE, back=incident_page)
    def contain(visit: Visit, form: Form, incident_id: str) -> Response:
        incidents.contain(uow, visit.caller, incident_id, form.get("text", ""))
        return _back(incident_id, "Containment recorded")

    @router.post("/incidents/{incident_id}/close")
    @page(Permission.INCIDENT_MANAGE, back=incident_page)
    def close(visit: Visit, form: Form, incident_id: str) -> Response:
        incidents.close(
            uow,
            visit.caller,
            incident_id,
            form.get("text", ""),
            form.get("justification") or None,
        )
        return _back(incident_id, "Incident closed")
