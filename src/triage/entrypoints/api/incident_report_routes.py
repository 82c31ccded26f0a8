"""REST endpoints: the incident register's exports, JSON, CSV and PDF (issue 20, E).

No "from __future__ import annotations" here: FastAPI must see the dependency types.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.entrypoints.api.routing import ThreadedRoute
from triage.entrypoints.api.security import operator_dependency, requires
from triage.entrypoints.downloads import attachment, pdf
from triage.services import incident_reports


def build_incident_report_router(application: App) -> APIRouter:
    """The register's exports for an assessor or the security manager (``incident.read``)."""
    uow = application.uow
    Operator = Annotated[Caller, Depends(operator_dependency(application))]
    router = APIRouter(prefix="/api/v1", route_class=ThreadedRoute)
    read = requires(application, Permission.INCIDENT_READ)

    @router.get("/incident-register", tags=["incidents"], **read)
    def register(caller: Operator) -> dict[str, Any]:
        """The whole register: every incident and vulnerability with its notifications
        (recipient, deadline, when made, reference, state: made, late, pending, overdue), the
        overdue flags judged now, containment and closure, and the counts. The PDF's digest is
        the SHA-256 of this JSON (keys sorted, compact)."""
        return incident_reports.register(uow, caller).to_json()

    @router.get(
        "/incident-register.csv",
        tags=["incidents"],
        response_class=Response,
        responses={200: {"content": {"text/csv": {}}}},
        **read,
    )
    def register_csv(caller: Operator) -> Response:
        """The register as CSV: the counts first, then one row a notification (cells a
        spreadsheet would run as a formula are kept as text)."""
        text, filename = incident_reports.register_csv(uow, caller)
        return attachment(text, "text/csv; charset=utf-8", filename)

    @router.get(
        "/incident-register.pdf",
        tags=["incidents"],
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}}}},
        **read,
    )
    def register_pdf(caller: Operator) -> Response:
        """The register as a PDF for an assessor, with a QR code of its JSON's digest."""
        return pdf(
            incident_reports.register_pdf(
                uow, caller, application.register_printer, application.facility.name
            )
        )

    return router
