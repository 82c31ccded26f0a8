"""Issue 20 (D): the fake repository of the incident and vulnerability register (uow.incidents)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
from triage.domain.incident import (
    OVERDUE_METRIC,
    Incident,
    IncidentKind,
    IncidentStatus,
    Notification,
    Severity,
)
from triage.ledger.entry import Entry, parse_time


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _required(items: list[dict[str, str]]) -> dict[str, Notification]:
    return {n["recipient"]: Notification(n["recipient"], parse_time(n["deadline"])) for n in items}


@area("incidents")
class FakeIncidentRepository(FakeTables):
    """``IncidentRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.incidents: dict[str, Incident] = {}
        self.notifications: dict[str, dict[str, Notification]] = {}
        self.rules: str | None = None

    # -- the port ------------------------------------------------------------------------------
    def get(self, incident_id: str) -> Incident | None:
        found = self.incidents.get(incident_id)
        if found is None:
            return None
        made = sorted(
            self.notifications[incident_id].values(),
            key=lambda n: (n.deadline is None, n.deadline, n.recipient),
        )
        return dataclasses.replace(found, notifications=tuple(made))

    def open_for(self, source: str, about_kind: str, about_id: str) -> str | None:
        for i in self.incidents.values():
            same = (i.source, i.about_kind, i.about_id) == (source, about_kind, about_id)
            if same and i.status is not IncidentStatus.CLOSED:
                return i.id
        return None

    def find(
        self,
        *,
        kind: IncidentKind | None = None,
        status: IncidentStatus | None = None,
        severity: Severity | None = None,
        source: str | None = None,
        overdue_at: datetime | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[Incident], int]:
        found = [
            i
            for i in (self.get(k) for k in self.incidents)
            if i is not None
            and (kind is None or i.kind is kind)
            and (status is None or i.status is status)
            and (severity is None or i.severity is severity)
            and (source is None or i.source == source)
            and (overdue_at is None or i.overdue(overdue_at))
        ]
        found.sort(key=lambda i: i.id)
        found.sort(key=lambda i: i.raised_at, reverse=True)
        return found[offset : offset + limit], len(found)

    def due_alerts(self, at: datetime) -> list[tuple[str, str, datetime]]:
        due = [
            (i.id, n.recipient, n.deadline)
            for i in (self.get(k) for k in self.incidents)
            if i is not None
            for n in i.overdue(at)
            if n.overdue_alert_id is None and n.deadline is not None
        ]
        return sorted(due, key=lambda d: (d[2], d[0], d[1]))

    def rules_text(self) -> str | None:
        return self.rules

    # -- projections ---------------------------------------------------------------------------
    def _change(self, entry: Entry, **values: object) -> None:
        found = self.incidents[entry.subject.id]
        self.incidents[found.id] = dataclasses.replace(found, **values)  # type: ignore[arg-type]

    @projects("incident.raised")
    def _raised(self, entry: Entry, index: int) -> None:
        data = entry.data
        self.incidents[entry.subject.id] = Incident(
            id=entry.subject.id,
            kind=IncidentKind(data["kind"]),
            source=data["source"],
            severity=Severity(data["severity"]),
            category=data["category"],
            title=data["title"],
            summary=data["summary"],
            status=IncidentStatus.OPEN,
            raised_by=entry.actor.id,
            raised_at=entry.at,
            about_kind=data.get("about_kind"),
            about_id=data.get("about_id"),
            detail=data.get("detail"),
            component=data.get("component"),
            reference=data.get("reference"),
            remediation_due=_day(data.get("remediation_due")),
            rules_version=data.get("rules_version"),
        )
        self.notifications[entry.subject.id] = _required(data["notifications"])

    @projects("incident.severity_changed")
    def _severity(self, entry: Entry, index: int) -> None:
        self._change(entry, severity=Severity(entry.data["severity"]))
        kept = {r: n for r, n in self.notifications[entry.subject.id].items() if n.done}
        self.notifications[entry.subject.id] = {**kept, **_required(entry.data["notifications"])}

    @projects("incident.notified")
    def _notified(self, entry: Entry, index: int) -> None:
        data = entry.data
        made = self.notifications[entry.subject.id]
        before = made.get(data["recipient"], Notification(data["recipient"], None))
        made[data["recipient"]] = dataclasses.replace(
            before,
            notified_at=parse_time(data["notified_at"]),
            notified_by=entry.actor.id,
            reference=data["reference"],
            recorded_at=entry.at,
        )

    @projects("incident.contained")
    def _contained(self, entry: Entry, index: int) -> None:
        self._change(
            entry,
            status=IncidentStatus.CONTAINED,
            contained_by=entry.actor.id,
            contained_at=entry.at,
            containment=entry.data["text"],
        )

    @projects("incident.closed")
    def _closed(self, entry: Entry, index: int) -> None:
        self._change(
            entry,
            status=IncidentStatus.CLOSED,
            closed_by=entry.actor.id,
            closed_at=entry.at,
            closure=entry.data["text"],
            closure_justification=entry.data.get("justification"),
        )

    @projects("incident.rules_changed")
    def _rules(self, entry: Entry, index: int) -> None:
        self.rules = entry.data["text"]

    @projects("alert.raised")
    def _alert(self, entry: Entry, index: int) -> None:
        if entry.data["metric"] != OVERDUE_METRIC or entry.subject.kind != "incident":
            return
        made = self.notifications[entry.subject.id]
        recipient = entry.data["recipient"]
        made[recipient] = dataclasses.replace(
            made[recipient], overdue_alert_id=entry.data["alert_id"]
        )
