"""Projection handlers for anomaly thresholds, counted activity, alerts and suspensions.

The ``activity`` table counts the events the thresholds watch (``activity_total`` keeps how many
each tool and operator has of each kind, ever). Its rows come from the entries
that record those events (work orders, refusals, failed verifications, observed anomalies), so a
replay rebuilds the same counts. Row ids are numbered from the table itself rather than by a
database sequence, which on PostgreSQL would leave gaps after a rollback that a replay would not.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, select

from triage.adapters.projector import (
    Insert,
    Op,
    Run,
    add_counts,
    canonical,
    handles,
    insert_numbered,
    set_values,
)
from triage.adapters.tables import (
    activity,
    activity_total,
    alert,
    anomaly_threshold,
    facility_settings,
    operator,
    work_order,
)
from triage.domain.thresholds import Metric
from triage.ledger.entry import Entry


def _count(kind: Metric, tool_id: str | None, operator_id: str | None, entry: Entry) -> Run:
    def run(conn: Connection) -> None:
        row = {"kind": kind.value, "tool_id": tool_id, "operator_id": operator_id, "at": entry.at}
        insert_numbered(conn, activity, row)
        add_counts(
            conn,
            activity_total,
            [
                {"kind": kind.value, "scope": scope, "subject_id": subject_id, "count": 1}
                for scope, subject_id in (("tool", tool_id), ("operator", operator_id))
                if subject_id is not None
            ],
        )

    return Run(run)


@handles("threshold.set")
def _threshold_set(entry: Entry) -> list[Op]:
    data = entry.data
    key = (
        (anomaly_threshold.c.scope == data["scope"])
        & (anomaly_threshold.c.subject_id == data["subject_id"])
        & (anomaly_threshold.c.metric == data["metric"])
    )

    def run(conn: Connection) -> None:
        conn.execute(delete(anomaly_threshold).where(key))

    row = {
        "scope": data["scope"],
        "subject_id": data["subject_id"],
        "metric": data["metric"],
        "max_count": data["max_count"],
        "window_minutes": data["window_minutes"],
    }
    return [Run(run), Insert(anomaly_threshold, row)]


@handles("facility.working_hours_set")
def _working_hours_set(entry: Entry) -> list[Op]:
    hours = entry.data["working_hours"]
    return [
        set_values(
            facility_settings,
            facility_settings.c.facility_id == entry.subject.id,
            working_hours=None if hours is None else canonical(hours),
        )
    ]


@handles("reset.authorised")
def _reset_issued(entry: Entry) -> list[Op]:
    return [_count(Metric.RESETS, entry.data["tool_id"], entry.data["operator_id"], entry)]


@handles("tool.command_refused")
def _tool_refused_order(entry: Entry) -> list[Op]:
    # The agent refusing a work order speaks for its tool.
    return [_count(Metric.REFUSED_COMMANDS, entry.actor.id, None, entry)]


@handles("tool.result_refused", "auth.refused")
def _tool_refused(entry: Entry) -> list[Op]:
    if entry.subject.kind != "tool":
        return []
    return [_count(Metric.REFUSED_COMMANDS, entry.subject.id, None, entry)]


@handles("reset.verification_failed")
def _verification_failed(entry: Entry) -> list[Op]:
    order_id = entry.data["work_order_id"]

    def run(conn: Connection) -> None:
        found = conn.execute(
            select(work_order.c.tool_id, work_order.c.operator_id).where(
                work_order.c.id == order_id
            )
        ).first()
        tool_id, operator_id = (None, None) if found is None else (found[0], found[1])
        _count(Metric.FAILED_VERIFICATIONS, tool_id, operator_id, entry).run(conn)

    return [Run(run)]


@handles("anomaly.observed")
def _observed(entry: Entry) -> list[Op]:
    data = entry.data
    return [_count(Metric(data["metric"]), data.get("tool_id"), data.get("operator_id"), entry)]


@handles("alert.raised")
def _alert_raised(entry: Entry) -> list[Op]:
    data = entry.data
    detail = {
        "count": data["count"],
        "max_count": data["max_count"],
        "window_minutes": data["window_minutes"],
        "action": data["action"],
    }
    if "detail" in data:  # an alert that is not a threshold's says what happened
        detail["detail"] = data["detail"]
    row = {
        "id": data["alert_id"],
        "metric": data["metric"],
        "subject_kind": entry.subject.kind,
        "subject_id": entry.subject.id,
        "detail": canonical(detail),
        "status": "open",
        "raised_at": entry.at,
        "resolved_by": None,
        "resolution": None,
        "resolved_at": None,
    }
    return [Insert(alert, row)]


@handles("alert.resolved")
def _alert_resolved(entry: Entry) -> list[Op]:
    return [
        set_values(
            alert,
            alert.c.id == entry.data["alert_id"],
            status="resolved",
            resolved_by=entry.actor.id,
            resolution=entry.data["resolution"],
            resolved_at=entry.at,
        )
    ]


@handles("operator.suspended", "operator.reinstated")
def _operator_suspension(entry: Entry) -> list[Op]:
    suspended = entry.type == "operator.suspended"
    return [set_values(operator, operator.c.id == entry.subject.id, suspended=suspended)]
