"""The access review: who may do what, with which credentials, and how misuse is watched.

A report for a security manager or an auditor: every operator with their roles, benches, last
login, second-factor state and whether they may act; every API token still outstanding (never
its hash); every tool with its state and why; the anomaly thresholds and working hours in force;
and the alerts still open. Exported as JSON or as one CSV table that loads in a spreadsheet.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from triage.domain.alert import Alert
from triage.domain.caller import Caller
from triage.domain.people import Operator
from triage.domain.roles import Permission
from triage.domain.thresholds import WorkingHours
from triage.domain.token import StoredToken
from triage.domain.tool import Tool
from triage.ledger.entry import format_time
from triage.services import anomaly
from triage.services.ports import UnitOfWorkFactory
from triage.services.spreadsheet import cell

CSV_COLUMNS = (
    "kind",
    "id",
    "name",
    "operator_id",
    "roles",
    "status",
    "mfa_enrolled",
    "last_login_at",
    "label",
    "scopes",
    "bench",
    "created_at",
    "expires_at",
    "reason",
    "changed_at",
    "metric",
    "applies_to",
    "max_count",
    "window_minutes",
    "source",
    "subject",
    "detail",
)


@dataclass(frozen=True)
class AccessReview:
    """The report: who holds which role at which benches, outstanding tokens, tools, the
    thresholds in force and the open alerts."""

    facility: str
    generated_at: datetime
    generated_by: str
    operators: list[Operator]
    benches: dict[str, list[str]]  # each operator's assigned benches, by operator id
    tokens: list[StoredToken]
    tools: list[Tool]
    thresholds: anomaly.ThresholdView
    open_alerts: list[Alert]


def access_review(uow_factory: UnitOfWorkFactory, caller: Caller) -> AccessReview:
    """Build the access review (security managers, auditors and administrators)."""
    caller.require(Permission.ACCESS_REVIEW)
    at = uow_factory.clock.now()
    with uow_factory(write=False) as uow:
        benches = uow.operators.bench_assignments()
        operators = uow.operators.all()
        tokens = [t for t in uow.tokens.all() if t.state(at) == "active"]
        tools = uow.security.tools()
        view = anomaly.threshold_view(uow)
        alerts, _ = uow.security.alerts("open", 0, 10_000)
        facility = uow.facility_id
    return AccessReview(
        facility=facility,
        generated_at=at,
        generated_by=caller.id,
        operators=operators,
        benches=benches,
        tokens=tokens,
        tools=tools,
        thresholds=view,
        open_alerts=alerts,
    )


# The review is a JSON document (the API's answer and automatic assurance evidence, whose
# digest is in the ledger): its shape is a file format, kept here beside the review.
def to_dict(review: AccessReview) -> dict[str, Any]:
    """The review as one JSON object."""
    return {
        "facility": review.facility,
        "generated_at": format_time(review.generated_at),
        "generated_by": review.generated_by,
        "operators": [_operator(o, review.benches.get(o.id, [])) for o in review.operators],
        "tokens": [_token(t) for t in review.tokens],
        "tools": [tool_json(t) for t in review.tools],
        "thresholds": review.thresholds.to_json(),
        "open_alerts": [a.to_json() for a in review.open_alerts],
    }


def to_json(review: AccessReview) -> str:
    """The review as JSON text."""
    return json.dumps(to_dict(review), indent=2, sort_keys=True) + "\n"


def to_csv(review: AccessReview) -> str:
    """The review as one CSV table: a row per operator, token, tool, threshold and alert."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in _csv_rows(review):
        writer.writerow({k: cell(row.get(k)) for k in CSV_COLUMNS})
    return out.getvalue()


def _csv_rows(found: AccessReview) -> list[dict[str, object]]:
    # Rows from the JSON document, so that the table says exactly what the JSON does.
    review = to_dict(found)
    rows: list[dict[str, object]] = []
    for o in review["operators"]:
        rows.append(
            {
                "kind": "operator",
                "id": o["id"],
                "name": o["name"],
                "roles": " ".join(o["roles"]),
                "bench": " ".join(o["benches"]),
                "status": o["status"],
                "mfa_enrolled": o["mfa_enrolled"],
                "last_login_at": o["last_login_at"],
                "created_at": o["created_at"],
            }
        )
    for t in review["tokens"]:
        rows.append(
            {
                "kind": "token",
                **{k: t[k] for k in ("id", "operator_id", "label", "bench")},
                "scopes": " ".join(t["scopes"]),
                "status": "active",
                "created_at": t["created_at"],
                "expires_at": t["expires_at"],
            }
        )
    for t in review["tools"]:
        rows.append(
            {
                "kind": "tool",
                "id": t["id"],
                "bench": t["bench"],
                "status": t["status"],
                "reason": t["status_reason"],
                "changed_at": t["status_changed_at"],
                "created_at": t["enrolled_at"],
            }
        )
    for f in review["thresholds"]["facility"]:
        rows.append({"kind": "threshold", "id": "facility", **f})
    for s in review["thresholds"]["overrides"]:
        rows.append(
            {
                "kind": "threshold",
                "id": s["subject_id"],
                "applies_to": s["scope"],
                "metric": s["metric"],
                "max_count": s["max_count"],
                "window_minutes": s["window_minutes"],
                "source": "subject",
            }
        )
    hours = review["thresholds"]["working_hours"]
    rows.append(
        {
            "kind": "working_hours",
            "id": "facility",
            "detail": (
                "always (no working hours set)"
                if hours is None
                else WorkingHours.from_json(hours).describe()
            ),
        }
    )
    for a in review["open_alerts"]:
        rows.append(
            {
                "kind": "alert",
                "id": a["id"],
                "subject": f"{a['subject']['kind']}:{a['subject']['id']}",
                "metric": a["metric"],
                "status": a["status"],
                "created_at": a["raised_at"],
                "detail": json.dumps(a["detail"], sort_keys=True),
            }
        )
    return rows


def _operator(found: Operator, benches: list[str]) -> dict[str, object]:
    if not found.active:
        status = "inactive"
    elif found.suspended:
        status = "suspended"
    else:
        status = "active"
    return {
        "id": found.id,
        "name": found.name,
        "roles": sorted(r.value for r in found.roles),
        "benches": benches,
        "status": status,
        "mfa_enrolled": found.mfa_enrolled,
        "last_login_at": format_time(found.last_login_at) if found.last_login_at else None,
        "created_at": format_time(found.created_at),
    }


def _token(found: StoredToken) -> dict[str, object]:
    return {
        "id": found.id,
        "operator_id": found.operator_id,
        "label": found.label,
        "scopes": ["role"] if found.scopes is None else sorted(p.value for p in found.scopes),
        "bench": found.bench,
        "created_at": format_time(found.created_at),
        "expires_at": format_time(found.expires_at),
    }


def tool_json(found: Tool) -> dict[str, object]:
    """A tool as the review and the tool inventory evidence list it (never its key)."""
    changed = found.status_changed_at
    return {
        "id": found.id,
        "bench": found.bench,
        "status": found.status.value,
        "status_reason": found.status_reason,
        "status_changed_at": format_time(changed) if changed else None,
        "enrolled_at": format_time(found.enrolled_at),
    }
