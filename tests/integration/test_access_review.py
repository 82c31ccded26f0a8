"""The access review: roles, credentials, tools, thresholds and alerts, as JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from tests.integration.conftest import Staffed
from tests.people import enrol, sign_in_token
from triage.adapters.tables import api_token
from triage.domain.caller import Caller
from triage.domain.roles import Role
from triage.domain.token import READ_ONLY
from triage.errors import PermissionDenied
from triage.services import access_review, anomaly, job_steps, operators, tokens


@pytest.fixture
def reviewed(staffed: Staffed) -> tuple[Staffed, dict[str, str]]:
    """A facility with tokens live, revoked and expired, a suspended tool and an open alert."""
    uow = staffed.app.uow
    system = Caller.system("test")
    operators.create_operator(uow, system, "sam", "Sam", frozenset({Role.SECURITY_MANAGER}))
    operators.create_operator(uow, system, "eve", "=HYPERLINK(1)", frozenset({Role.STORES}))
    sam = operators.operator_caller(uow, "sam")
    # Each person's tokens are their own, minted from their sign-ins; ben never enrolled.
    sup = enrol(staffed.app, staffed.admin, "sup", bench="B1", label="tablet")
    audit = enrol(staffed.app, staffed.admin, "audrey", scopes=READ_ONLY, label="audit")
    revoked = sign_in_token(staffed.app, sup, label="old")
    tokens.revoke_token(uow, staffed.admin, revoked.token_id, "tablet lost on site")
    expired = sign_in_token(staffed.app, sup, label="stale")
    with staffed.app.database.engine.begin() as conn:
        conn.execute(
            update(api_token)
            .where(api_token.c.id == expired.token_id)
            .values(expires_at=datetime(2020, 1, 1, tzinfo=UTC))
        )
    anomaly.set_threshold(uow, sam, "tool", "BENCH-1", "refused_commands", 0, 60)
    anomaly.set_working_hours(uow, sam, "07:00", "19:00", ["mon", "tue", "wed", "thu", "fri"])
    job_steps.record_refusal(uow, staffed.tool, "no-such-order", "device not at the bench")
    return staffed, {
        "live": sup.token_id,
        "audit": audit.token_id,
        "revoked": revoked.token_id,
        "expired": expired.token_id,
        "secret": sup.token,
    }


def test_access_review_shows_who_may_do_what(reviewed: tuple[Staffed, dict[str, str]]) -> None:
    staffed, tokens = reviewed
    with pytest.raises(PermissionDenied, match=r"access\.review"):
        access_review.access_review(staffed.app.uow, staffed.ben)
    review = access_review.access_review(staffed.app.uow, staffed.auditor)
    data = json.loads(access_review.to_json(review))

    operators = {o["id"]: o for o in data["operators"]}
    assert set(operators) == {"admin", "sup", "sup2", "ben", "audrey", "stella", "sam", "eve"}
    assert operators["sam"]["roles"] == ["security_manager"]
    assert operators["ben"]["status"] == "active"
    assert operators["ben"]["benches"] == ["B1"] and operators["sam"]["benches"] == []
    assert operators["ben"]["mfa_enrolled"] is False
    assert operators["ben"]["last_login_at"] is None

    outstanding = {t["id"]: t for t in data["tokens"]}
    assert set(outstanding) == {tokens["live"], tokens["audit"]}
    assert outstanding[tokens["live"]]["bench"] == "B1"
    assert outstanding[tokens["live"]]["scopes"] == ["role"]
    assert "access.review" in outstanding[tokens["audit"]]["scopes"]
    text = access_review.to_json(review)
    assert tokens["secret"] not in text and "hash" not in text

    [tool] = data["tools"]
    assert tool["id"] == "BENCH-1" and tool["status"] == "suspended"
    assert tool["status_reason"].startswith("anomaly: 1 refused commands")

    assert data["thresholds"]["overrides"] == [
        {
            "scope": "tool",
            "subject_id": "BENCH-1",
            "metric": "refused_commands",
            "max_count": 0,
            "window_minutes": 60,
        }
    ]
    assert data["thresholds"]["working_hours"] == {
        "start": "07:00",
        "end": "19:00",
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "zone": "Europe/London",
    }
    [alert] = data["open_alerts"]
    assert alert["metric"] == "refused_commands"
    assert alert["subject"] == {"kind": "tool", "id": "BENCH-1"}
    assert data["generated_by"] == "audrey"


def test_access_review_csv_loads_as_one_table(reviewed: tuple[Staffed, dict[str, str]]) -> None:
    staffed, tokens = reviewed
    review = access_review.access_review(staffed.app.uow, staffed.admin)
    text = access_review.to_csv(review)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0].keys()) == access_review.CSV_COLUMNS
    kinds = {r["kind"] for r in rows}
    assert kinds == {"operator", "token", "tool", "threshold", "working_hours", "alert"}
    by_id = {(r["kind"], r["id"]): r for r in rows}
    assert by_id[("operator", "ben")]["roles"] == "bench_operator"
    assert by_id[("operator", "ben")]["bench"] == "B1"
    assert by_id[("operator", "ben")]["mfa_enrolled"] == "no"
    assert by_id[("token", tokens["live"])]["bench"] == "B1"
    assert ("token", tokens["revoked"]) not in by_id
    assert ("token", tokens["expired"]) not in by_id
    assert by_id[("tool", "BENCH-1")]["status"] == "suspended"
    assert "07:00-19:00 Europe/London" in by_id[("working_hours", "facility")]["detail"]
    # A name that a spreadsheet would run as a formula is written as text.
    assert by_id[("operator", "eve")]["name"] == "'=HYPERLINK(1)"
    assert tokens["secret"] not in text
