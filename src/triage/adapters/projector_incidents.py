"""Issue 20 (D): projections of the incident and vulnerability register.

``incident.raised`` writes the incident and the notifications its rules required (the entry
carries the deadlines: nothing here reads the rules); ``incident.severity_changed`` replaces the
notifications not yet made; ``incident.notified`` records one made; ``incident.contained`` and
``incident.closed`` move it on; ``incident.rules_changed`` keeps the facility's own rules; an
``alert.raised`` about an overdue notification marks it alerted (raised once).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select

from triage.adapters.projector import Insert, Op, Run, canonical, handles, set_values
from triage.adapters.tables import incident, incident_notification, incident_rules
from triage.domain.incident import OVERDUE_METRIC, IncidentStatus
from triage.ledger.entry import Entry, parse_time


def _day(value: Any) -> Any:
    return None if value is None else date.fromisoformat(value)


def _notifications(incident_id: str, items: list[dict[str, str]]) -> list[Op]:
    return [
        Insert(
            incident_notification,
            {
                "incident_id": incident_id,
                "recipient": n["recipient"],
                "deadline": parse_time(n["deadline"]),
                "notified_at": None,
                "notified_by": None,
                "reference": None,
                "recorded_at": None,
                "overdue_alert_id": None,
            },
        )
        for n in items
    ]


@handles("incident.raised")
def _raised(entry: Entry) -> list[Op]:
    data = entry.data
    row = {
        "id": entry.subject.id,
        "kind": data["kind"],
        "source": data["source"],
        "severity": data["severity"],
        "category": data["category"],
        "title": data["title"],
        "summary": data["summary"],
        "status": IncidentStatus.OPEN.value,
        "about_kind": data.get("about_kind"),
        "about_id": data.get("about_id"),
        "detail": None if data.get("detail") is None else canonical(data["detail"]),
        "component": data.get("component"),
        "reference": data.get("reference"),
        "remediation_due": _day(data.get("remediation_due")),
        "rules_version": data.get("rules_version"),
        "raised_by": entry.actor.id,
        "raised_at": entry.at,
        "contained_by": None,
        "contained_at": None,
        "containment": None,
        "closed_by": None,
        "closed_at": None,
        "closure": None,
        "closure_justification": None,
    }
    return [Insert(incident, row), *_notifications(entry.subject.id, data["notifications"])]


@handles("incident.severity_changed")
def _severity(entry: Entry) -> list[Op]:
    incident_id = entry.subject.id
    pending = and_(
        incident_notification.c.incident_id == incident_id,
        incident_notification.c.notified_at.is_(None),
    )

    def run(conn: Connection) -> None:
        conn.execute(delete(incident_notification).where(pending))

    return [
        set_values(incident, incident.c.id == incident_id, severity=entry.data["severity"]),
        Run(run),
        *_notifications(incident_id, entry.data["notifications"]),
    ]


@handles("incident.notified")
def _notified(entry: Entry) -> list[Op]:
    incident_id, recipient = entry.subject.id, entry.data["recipient"]
    values = {
        "notified_at": parse_time(entry.data["notified_at"]),
        "notified_by": entry.actor.id,
        "reference": entry.data["reference"],
        "recorded_at": entry.at,
    }
    where = and_(
        incident_notification.c.incident_id == incident_id,
        incident_notification.c.recipient == recipient,
    )

    def run(conn: Connection) -> None:
        if conn.execute(select(incident_notification.c.recipient).where(where)).first():
            conn.execute(incident_notification.update().where(where).values(**values))
        else:  # a notification the rules did not require
            row = {"incident_id": incident_id, "recipient": recipient, "deadline": None}
            conn.execute(
                insert(incident_notification).values(**row, **values, overdue_alert_id=None)
            )

    return [Run(run)]


@handles("incident.contained")
def _contained(entry: Entry) -> list[Op]:
    return [
        set_values(
            incident,
            incident.c.id == entry.subject.id,
            status=IncidentStatus.CONTAINED.value,
            contained_by=entry.actor.id,
            contained_at=entry.at,
            containment=entry.data["text"],
        )
    ]


@handles("incident.closed")
def _closed(entry: Entry) -> list[Op]:
    return [
        set_values(
            incident,
            incident.c.id == entry.subject.id,
            status=IncidentStatus.CLOSED.value,
            closed_by=entry.actor.id,
            closed_at=entry.at,
            closure=entry.data["text"],
            closure_justification=entry.data.get("justification"),
        )
    ]


@handles("incident.rules_changed")
def _rules(entry: Entry) -> list[Op]:
    facility_id = entry.subject.id
    values = {
        "version": entry.data["version"],
        "sha256": entry.data["sha256"],
        "text": entry.data["text"],
        "set_by": entry.actor.id,
        "set_at": entry.at,
    }

    def run(conn: Connection) -> None:
        where = incident_rules.c.facility_id == facility_id
        conn.execute(delete(incident_rules).where(where))
        conn.execute(insert(incident_rules).values(facility_id=facility_id, **values))

    return [Run(run)]


@handles("alert.raised")
def _overdue_alert(entry: Entry) -> list[Op]:
    if entry.data["metric"] != OVERDUE_METRIC or entry.subject.kind != "incident":
        return []
    return [
        set_values(
            incident_notification,
            and_(
                incident_notification.c.incident_id == entry.subject.id,
                incident_notification.c.recipient == entry.data["recipient"],
            ),
            overdue_alert_id=entry.data["alert_id"],
        )
    ]
