"""Issue 20 (D): the incident and vulnerability register, read from the projections
(uow.incidents)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, exists, func, select

from triage.adapters.rows import utc
from triage.adapters.tables import incident, incident_notification, incident_rules
from triage.domain.incident import (
    Incident,
    IncidentKind,
    IncidentStatus,
    Notification,
    Severity,
)

_N = incident_notification


def _notification(r: RowMapping) -> Notification:
    return Notification(
        r["recipient"],
        utc(r["deadline"]),
        utc(r["notified_at"]),
        r["notified_by"],
        r["reference"],
        utc(r["recorded_at"]),
        r["overdue_alert_id"],
    )


def _incident(r: RowMapping, notifications: Iterable[Notification]) -> Incident:
    return Incident(
        id=r["id"],
        kind=IncidentKind(r["kind"]),
        source=r["source"],
        severity=Severity(r["severity"]),
        category=r["category"],
        title=r["title"],
        summary=r["summary"],
        status=IncidentStatus(r["status"]),
        raised_by=r["raised_by"],
        raised_at=utc(r["raised_at"]),
        about_kind=r["about_kind"],
        about_id=r["about_id"],
        detail=None if r["detail"] is None else json.loads(r["detail"]),
        component=r["component"],
        reference=r["reference"],
        remediation_due=r["remediation_due"],
        contained_by=r["contained_by"],
        contained_at=utc(r["contained_at"]),
        containment=r["containment"],
        closed_by=r["closed_by"],
        closed_at=utc(r["closed_at"]),
        closure=r["closure"],
        closure_justification=r["closure_justification"],
        rules_version=r["rules_version"],
        notifications=tuple(
            sorted(notifications, key=lambda n: (n.deadline is None, n.deadline, n.recipient))
        ),
    )


class SqlIncidentRepository:
    """``IncidentRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def _with_notifications(self, rows: list[RowMapping]) -> list[Incident]:
        if not rows:
            return []
        found: dict[str, list[Notification]] = defaultdict(list)
        ids = [r["id"] for r in rows]
        for n in self._conn.execute(select(_N).where(_N.c.incident_id.in_(ids))).mappings():
            found[n["incident_id"]].append(_notification(n))
        return [_incident(r, found[r["id"]]) for r in rows]

    def get(self, incident_id: str) -> Incident | None:
        row = self._conn.execute(select(incident).where(incident.c.id == incident_id))
        first = row.mappings().first()
        return None if first is None else self._with_notifications([first])[0]

    def open_for(self, source: str, about_kind: str, about_id: str) -> str | None:
        query = select(incident.c.id).where(
            incident.c.source == source,
            incident.c.about_kind == about_kind,
            incident.c.about_id == about_id,
            incident.c.status != IncidentStatus.CLOSED.value,
        )
        return self._conn.execute(query.limit(1)).scalar()

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
        where: list[Any] = []
        if kind is not None:
            where.append(incident.c.kind == kind.value)
        if status is not None:
            where.append(incident.c.status == status.value)
        if severity is not None:
            where.append(incident.c.severity == severity.value)
        if source is not None:
            where.append(incident.c.source == source)
        if overdue_at is not None:
            where.append(incident.c.status != IncidentStatus.CLOSED.value)
            where.append(
                exists().where(
                    _N.c.incident_id == incident.c.id,
                    _N.c.notified_at.is_(None),
                    _N.c.deadline < overdue_at,
                )
            )
        total = self._conn.execute(
            select(func.count()).select_from(incident).where(and_(True, *where))
        ).scalar_one()
        query = (
            select(incident)
            .where(and_(True, *where))
            .order_by(incident.c.raised_at.desc(), incident.c.id)
            .offset(offset)
            .limit(limit)
        )
        rows = list(self._conn.execute(query).mappings())
        return self._with_notifications(rows), int(total)

    def due_alerts(self, at: datetime) -> list[tuple[str, str, datetime]]:
        query = (
            select(_N.c.incident_id, _N.c.recipient, _N.c.deadline)
            .select_from(_N.join(incident, incident.c.id == _N.c.incident_id))
            .where(
                incident.c.status != IncidentStatus.CLOSED.value,
                _N.c.notified_at.is_(None),
                _N.c.overdue_alert_id.is_(None),
                _N.c.deadline < at,
            )
            .order_by(_N.c.deadline, _N.c.incident_id, _N.c.recipient)
        )
        return [(r[0], r[1], utc(r[2])) for r in self._conn.execute(query)]

    def rules_text(self) -> str | None:
        return self._conn.execute(select(incident_rules.c.text).limit(1)).scalar()
