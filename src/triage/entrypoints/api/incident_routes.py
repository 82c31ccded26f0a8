"""REST endpoints: the incident and vulnerability register (issue 20, D).

No "from __future__ import annotations" here: FastAPI must see the dependency types.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.entrypoints.api.fields import Limit, Offset, Timestamp
from triage.entrypoints.api.routing import ThreadedRoute
from triage.entrypoints.api.security import operator_dependency, requires
from triage.entrypoints.schemas.common import Page
from triage.entrypoints.schemas.incidents import (
    ClosureIn,
    IncidentIn,
    IncidentOut,
    RulesIn,
    RulesOut,
    SeverityChangeIn,
    SweepOut,
    TextIn,
    VulnerabilityIn,
)
from triage.entrypoints.schemas.incidents import (
    NotificationIn as _NotificationBase,
)
from triage.services import incidents

Filter = Annotated[str | None, Query(max_length=40)]


class NotificationIn(_NotificationBase):
    notified_at: Timestamp | None = None  # RFC 3339; without a zone, UTC


def build_incident_router(application: App) -> APIRouter:
    """The incident register's routes of one facility. Routes of one incident are
    /incidents/{id} (GET) and /incidents/{id}/<act> (POST): another GET under /incidents needs
    two segments, or to be declared before them."""
    uow = application.uow
    Operator = Annotated[Caller, Depends(operator_dependency(application))]
    router = APIRouter(prefix="/api/v1", tags=["incidents"], route_class=ThreadedRoute)
    read = requires(application, Permission.INCIDENT_READ)
    report = requires(application, Permission.INCIDENT_REPORT)
    manage = requires(application, Permission.INCIDENT_MANAGE)

    @router.get("/incidents", **read)
    def register(
        caller: Operator,
        kind: Filter = None,
        status: Filter = None,
        severity: Filter = None,
        source: Filter = None,
        overdue: bool = False,
        offset: Offset = 0,
        limit: Limit = 100,
    ) -> Page[IncidentOut]:
        """The register, newest first; ``overdue``: only those with a notification past its
        deadline."""
        page = incidents.register(
            uow,
            caller,
            kind=kind,
            status=status,
            severity=severity,
            source=source,
            overdue=overdue,
            offset=offset,
            limit=limit,
        )
        return Page(
            items=[IncidentOut.of(i, page.at) for i in page.incidents],
            total=page.total,
            offset=offset,
            limit=limit,
        )

    @router.post("/incidents", status_code=201, **report)
    def raise_incident(body: IncidentIn, caller: Operator) -> IncidentOut:
        """Raise an incident by hand; the rules in force give its notification deadlines."""
        found = incidents.raise_incident(
            uow,
            caller,
            title=body.title,
            summary=body.summary,
            severity=body.severity,
            category=body.category,
        )
        return IncidentOut.of(found, uow.clock.now())

    @router.post("/incidents/vulnerabilities", status_code=201, **report)
    def record_vulnerability(body: VulnerabilityIn, caller: Operator) -> IncidentOut:
        """Record a vulnerability: its component, reference and remediation day."""
        found = incidents.record_vulnerability(
            uow,
            caller,
            title=body.title,
            summary=body.summary,
            severity=body.severity,
            component=body.component,
            reference=body.reference,
            remediation_due=body.remediation_due,
            category=body.category,
        )
        return IncidentOut.of(found, uow.clock.now())

    @router.get("/incidents/rules", **read)
    def rules(caller: Operator) -> RulesOut:
        """The notification rules in force (the product's default until the facility records
        its own)."""
        found = incidents.rules(uow, caller)
        return RulesOut(
            version=found.rules.version,
            sha256=found.rules.sha256,
            default=found.is_default,
            text=found.rules.text,
        )

    @router.put("/incidents/rules", **manage)
    def change_rules(body: RulesIn, caller: Operator) -> RulesOut:
        """Record the facility's own notification rules; incidents raised from now on follow
        them."""
        found = incidents.change_rules(uow, caller, body.text)
        return RulesOut(version=found.version, sha256=found.sha256, default=False, text=found.text)

    @router.post("/incidents/sweep", **manage)
    def sweep(caller: Operator) -> SweepOut:
        """Raise an alert for each notification past its deadline, once each (the server's
        own sweep does this too)."""
        return SweepOut(alerts=incidents.sweep(uow, caller=caller))

    @router.get("/incidents/{incident_id}", **read)
    def show(incident_id: str, caller: Operator) -> IncidentOut:
        """One incident with its notifications."""
        shown = incidents.show(uow, caller, incident_id)
        return IncidentOut.of(shown.incident, shown.at)

    @router.post("/incidents/{incident_id}/notifications", **manage)
    def notify(incident_id: str, body: NotificationIn, caller: Operator) -> IncidentOut:
        """Record a notification made: to whom, when, the recipient's reference (once per
        recipient)."""
        found = incidents.notify(
            uow, caller, incident_id, body.recipient, body.reference, body.notified_at
        )
        return IncidentOut.of(found, uow.clock.now())

    @router.post("/incidents/{incident_id}/severity", **manage)
    def change_severity(incident_id: str, body: SeverityChangeIn, caller: Operator) -> IncidentOut:
        """Change the severity; notifications not yet made follow the new one."""
        found = incidents.change_severity(uow, caller, incident_id, body.severity, body.reason)
        return IncidentOut.of(found, uow.clock.now())

    @router.post("/incidents/{incident_id}/containment", **manage)
    def contain(incident_id: str, body: TextIn, caller: Operator) -> IncidentOut:
        """Record what contained the incident."""
        found = incidents.contain(uow, caller, incident_id, body.text)
        return IncidentOut.of(found, uow.clock.now())

    @router.post("/incidents/{incident_id}/closure", **manage)
    def close(incident_id: str, body: ClosureIn, caller: Operator) -> IncidentOut:
        """Close the incident; refused (409) while a required notification is missing, unless
        a justification is given."""
        found = incidents.close(uow, caller, incident_id, body.text, body.justification)
        return IncidentOut.of(found, uow.clock.now())

    return router
