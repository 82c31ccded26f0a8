"""SQL implementation of ``SecurityRepository`` (thresholds, activity, alerts)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, RowMapping, and_, bindparam, func, or_, select

from triage.adapters.fastsql import Statement
from triage.adapters.ledger_store import stored_entry
from triage.adapters.rows import tool_from_row, utc
from triage.adapters.tables import (
    activity,
    activity_total,
    alert,
    anomaly_threshold,
    consignment_device,
    facility_settings,
    ledger_subject,
    tool,
    triage_job,
)
from triage.domain.alert import Alert
from triage.domain.thresholds import Limit, Metric, Scope, ThresholdSetting, WorkingHours
from triage.domain.tool import Tool
from triage.ledger.entry import Entry

_SUBJECT_COLUMN = {Scope.TOOL: activity.c.tool_id, Scope.OPERATOR: activity.c.operator_id}

# The threshold checks of every work order (compiled once: fastsql): the settings, the working
# hours and, for each metric and subject, the count of its events in the window.
_THRESHOLDS = Statement(
    select(
        anomaly_threshold.c.scope,
        anomaly_threshold.c.subject_id,
        anomaly_threshold.c.metric,
        anomaly_threshold.c.max_count,
        anomaly_threshold.c.window_minutes,
    ).order_by(
        anomaly_threshold.c.scope, anomaly_threshold.c.subject_id, anomaly_threshold.c.metric
    )
)
_WORKING_HOURS = Statement(select(facility_settings.c.working_hours))
_COUNT_ACTIVITY = {
    scope: Statement(
        select(func.count())
        .select_from(activity)
        .where(
            activity.c.kind == bindparam("kind"),
            column == bindparam("subject_id"),
            activity.c.at > bindparam("since"),
        )
    )
    for scope, column in _SUBJECT_COLUMN.items()
}
# A work order's tool and operator in one read (a None id matches nothing).
_ACTIVITY_TOTALS = Statement(
    select(activity_total.c.scope, activity_total.c.kind, activity_total.c.count).where(
        or_(
            and_(
                activity_total.c.scope == Scope.TOOL.value,
                activity_total.c.subject_id == bindparam("tool_id"),
            ),
            and_(
                activity_total.c.scope == Scope.OPERATOR.value,
                activity_total.c.subject_id == bindparam("operator_id"),
            ),
        )
    )
)
_ARRIVED = Statement(
    select(consignment_device.c.arrived)
    .join(
        triage_job,
        (triage_job.c.consignment_id == consignment_device.c.consignment_id)
        & (triage_job.c.device_id == consignment_device.c.device_id),
    )
    .where(triage_job.c.id == bindparam("job_id"))
)


class SqlSecurityRepository:
    """Reads of the anomaly tables within the unit of work's transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def thresholds(self) -> list[ThresholdSetting]:
        return [
            ThresholdSetting(
                Scope(scope), subject_id, Metric(metric), Limit(int(max_count), int(minutes))
            )
            for scope, subject_id, metric, max_count, minutes in _THRESHOLDS.rows(self._conn)
        ]

    def working_hours(self) -> WorkingHours | None:
        # One facility per database: its settings row is the only one.
        text = _WORKING_HOURS.scalar(self._conn)
        return None if not text else WorkingHours.from_json(json.loads(text))

    def activity_totals(
        self, tool_id: str | None, operator_id: str | None
    ) -> dict[Scope, dict[Metric, int]]:
        found: dict[Scope, dict[Metric, int]] = {}
        rows = _ACTIVITY_TOTALS.rows(self._conn, tool_id=tool_id, operator_id=operator_id)
        for scope, kind, count in rows:
            found.setdefault(Scope(scope), {})[Metric(kind)] = int(count)
        return found

    def count_activity(self, metric: Metric, scope: Scope, subject_id: str, since: datetime) -> int:
        count = _COUNT_ACTIVITY[scope]  # KeyError for a scope without a subject column
        return int(count.scalar(self._conn, kind=metric.value, subject_id=subject_id, since=since))

    def last_entry_at(
        self, subject_kind: str, subject_id: str, entry_types: Sequence[str]
    ) -> datetime | None:
        latest = select(func.max(ledger_subject.c.idx)).where(
            ledger_subject.c.subject_kind == subject_kind,
            ledger_subject.c.subject_id == subject_id,
            ledger_subject.c.entry_type.in_(list(entry_types)),
        )
        index = self._conn.execute(latest).scalar()
        raw = None if index is None else stored_entry(self._conn, int(index))
        return None if raw is None else Entry.from_bytes(raw).at

    def arrived_as_expected(self, job_id: str) -> bool:
        return bool(_ARRIVED.scalar(self._conn, job_id=job_id))

    def alert(self, alert_id: str) -> Alert | None:
        row = self._conn.execute(select(alert).where(alert.c.id == alert_id)).mappings().first()
        return None if row is None else _alert(row)

    def alerts(self, status: str | None, offset: int, limit: int) -> tuple[list[Alert], int]:
        where = [] if status is None else [alert.c.status == status]
        total = self._conn.execute(
            select(func.count()).select_from(alert).where(*where)
        ).scalar_one()
        rows = self._conn.execute(
            select(alert)
            .where(*where)
            .order_by(alert.c.raised_at, alert.c.id)
            .offset(offset)
            .limit(limit)
        ).mappings()
        return [_alert(row) for row in rows], int(total)

    def tools(self) -> list[Tool]:
        rows = self._conn.execute(select(tool).order_by(tool.c.id)).mappings()
        return [tool_from_row(row) for row in rows]


def _alert(row: RowMapping) -> Alert:
    return Alert(
        id=row["id"],
        metric=row["metric"],
        subject_kind=row["subject_kind"],
        subject_id=row["subject_id"],
        detail=json.loads(row["detail"]),
        status=row["status"],
        raised_at=utc(row["raised_at"]),
        resolved_by=row["resolved_by"],
        resolution=row["resolution"],
        resolved_at=utc(row["resolved_at"]),
    )
