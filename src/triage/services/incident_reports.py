"""The incident and vulnerability register as an assessor reads it (issue 20, E): every incident
and vulnerability with its notifications (to whom, by when, whether made and how late), what is
overdue now, and each closure; as JSON, as CSV (one row a notification, formula cells kept as
text) and as a PDF. The same register feeds the OSCAL assessment results (observations) and the
automatic evidence ``incident_register`` of the G3 controls.

The register is read from the projections of the ``incident.*`` entries (helper D's
``uow.incidents``); nothing here records anything.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from triage.domain.caller import Caller
from triage.domain.incident import Incident, IncidentKind, IncidentStatus, Notification
from triage.domain.roles import Permission
from triage.ledger.entry import format_time
from triage.services.ports import Document, UnitOfWork, UnitOfWorkFactory
from triage.services.spreadsheet import cell

REGISTER_FORMAT = "triage-incident-register/1"
_PAGE = 500  # the repository's page, read until the register is whole


class RegisterPrinter(Protocol):
    """Prints the register (``adapters.pdf.documents.PdfDocuments``)."""

    def incident_register(self, register: Mapping[str, Any], facility_name: str) -> Document:
        """The register (``Register.to_json()``) as a PDF."""
        ...


def _time(value: datetime | None) -> str | None:
    return None if value is None else format_time(value)


def notification_json(
    incident: Incident, notification: Notification, at: datetime
) -> dict[str, Any]:
    """One of the incident's notifications as the register shows it, judged at ``at``."""
    state = incident.state_of(notification, at)
    return {
        "recipient": notification.recipient,
        "deadline": _time(notification.deadline),
        "notified_at": _time(notification.notified_at),
        "notified_by": notification.notified_by,
        "reference": notification.reference,
        "state": state,
        "overdue": state == "overdue",
        "late": notification.late,
    }


def incident_json(incident: Incident, at: datetime) -> dict[str, Any]:
    """One incident or vulnerability as the register shows it, judged at ``at``."""
    notifications = [notification_json(incident, n, at) for n in incident.notifications]
    return {
        "id": incident.id,
        "kind": incident.kind.value,
        "source": incident.source,
        "severity": incident.severity.value,
        "category": incident.category,
        "title": incident.title,
        "summary": incident.summary,
        "status": incident.status.value,
        "about": None
        if incident.about_kind is None
        else f"{incident.about_kind} {incident.about_id}",
        "component": incident.component,
        "reference": incident.reference,
        "remediation_due": None
        if incident.remediation_due is None
        else incident.remediation_due.isoformat(),
        "raised_by": incident.raised_by,
        "raised_at": _time(incident.raised_at),
        "contained_by": incident.contained_by,
        "contained_at": _time(incident.contained_at),
        "containment": incident.containment,
        "closed_by": incident.closed_by,
        "closed_at": _time(incident.closed_at),
        "closure": incident.closure,
        "closure_justification": incident.closure_justification,
        "rules_version": incident.rules_version,
        "notifications": notifications,
        "overdue": any(n["overdue"] for n in notifications),
    }


@dataclass(frozen=True)
class Register:
    """The whole register, judged at ``at`` (when it was read)."""

    at: datetime
    incidents: tuple[Incident, ...]

    def rows(self) -> list[dict[str, Any]]:
        return [incident_json(i, self.at) for i in self.incidents]

    def counts(self, rows: Sequence[Mapping[str, Any]] | None = None) -> dict[str, int]:
        found = self.rows() if rows is None else rows
        return {
            "incidents": sum(r["kind"] == IncidentKind.INCIDENT.value for r in found),
            "vulnerabilities": sum(r["kind"] == IncidentKind.VULNERABILITY.value for r in found),
            "open": sum(r["status"] != IncidentStatus.CLOSED.value for r in found),
            "closed": sum(r["status"] == IncidentStatus.CLOSED.value for r in found),
            "notifications_required": sum(
                n["deadline"] is not None for r in found for n in r["notifications"]
            ),
            "notifications_made": sum(
                n["notified_at"] is not None for r in found for n in r["notifications"]
            ),
            "notifications_overdue": sum(n["overdue"] for r in found for n in r["notifications"]),
            "notifications_late": sum(n["late"] for r in found for n in r["notifications"]),
        }

    def to_json(self) -> dict[str, Any]:
        rows = self.rows()
        return {
            "format": REGISTER_FORMAT,
            "generated_at": format_time(self.at),
            "counts": self.counts(rows),
            "incidents": rows,
        }

    def digest(self) -> str:
        """The SHA-256 of the register's JSON (keys sorted, compact): the PDF prints it."""
        return register_digest(self.to_json())


def register_digest(document: Mapping[str, Any]) -> str:
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_register(uow: UnitOfWork, until: datetime | None = None) -> Register:
    """Every incident and vulnerability in the register, oldest first (those raised by
    ``until`` when given), within an open unit of work; no permission is checked here (the
    caller's service has)."""
    found: list[Incident] = []
    while True:
        page, total = uow.incidents.find(offset=len(found), limit=_PAGE)
        found += page
        if not page or len(found) >= total:
            break
    chosen = [i for i in found if until is None or i.raised_at <= until]
    chosen.sort(key=lambda i: (i.raised_at, i.id))
    return Register(uow.clock.now(), tuple(chosen))


def register(uow_factory: UnitOfWorkFactory, caller: Caller) -> Register:
    """The register for an assessor or the security manager (``incident.read``)."""
    caller.require(Permission.INCIDENT_READ)
    with uow_factory(write=False) as uow:
        return read_register(uow)


CSV_COLUMNS = (
    "incident_id",
    "kind",
    "severity",
    "category",
    "source",
    "status",
    "title",
    "about",
    "raised_at",
    "raised_by",
    "recipient",
    "deadline",
    "notified_at",
    "notified_by",
    "notification_reference",
    "notification_state",
    "overdue",
    "contained_at",
    "closed_at",
    "closed_by",
    "closure",
    "closure_justification",
)


def register_csv(uow_factory: UnitOfWorkFactory, caller: Caller) -> tuple[str, str]:
    """The register as CSV and its file name: the counts on the first lines, then one row a
    notification (an incident that needs none has one row with those columns empty); a cell a
    spreadsheet would run as a formula is kept as text."""
    found = register(uow_factory, caller)
    rows = found.rows()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell("# incident register generated"), cell(format_time(found.at))])
    for name, count in found.counts(rows).items():
        writer.writerow([cell(f"# {name.replace('_', ' ')}"), cell(count)])
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        head = [
            row["id"],
            row["kind"],
            row["severity"],
            row["category"],
            row["source"],
            row["status"],
            row["title"],
            row["about"],
            row["raised_at"],
            row["raised_by"],
        ]
        tail = [
            row["contained_at"],
            row["closed_at"],
            row["closed_by"],
            row["closure"],
            row["closure_justification"],
        ]
        for n in row["notifications"] or [None]:
            middle = (
                [None] * 7
                if n is None
                else [
                    n["recipient"],
                    n["deadline"],
                    n["notified_at"],
                    n["notified_by"],
                    n["reference"],
                    n["state"],
                    n["overdue"],
                ]
            )
            writer.writerow([cell(v) for v in [*head, *middle, *tail]])
    return out.getvalue(), f"incident-register-{found.at.strftime('%Y%m%d')}.csv"


def register_pdf(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    printer: RegisterPrinter,
    facility_name: str,
) -> Document:
    """The register as a PDF: the counts, each incident with its status and closure, each
    notification with its deadline and whether it was made in time, and the SHA-256 of the
    register's JSON."""
    found = register(uow_factory, caller)
    return printer.incident_register(found.to_json(), facility_name)
