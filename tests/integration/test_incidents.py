"""The incident register on both databases: raised automatically and by hand, notified,
closed; deadlines from the rules; one alert per overdue notification, shown in the security
manager's alert list; a replay rebuilds the same tables, and so does the migration's
projection of the recorded entries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete

from tests.integration.conftest import move_clock
from triage import bootstrap
from triage.adapters.projector import project_recorded
from triage.adapters.replay import replay_check
from triage.adapters.tables import incident, incident_notification, incident_rules
from triage.domain.caller import Caller
from triage.domain.incident import OVERDUE_METRIC, IncidentStatus
from triage.domain.roles import Role
from triage.errors import Conflict, PermissionDenied
from triage.ledger.entry import Ref
from triage.services import anomaly, incidents, operators

RULES = """
version: site-2
recipients: {ssc: Security Sub-Committee, smki_pma: SMKI PMA}
categories: [tool_compromise, key_compromise, other]
sources:
  tool_suspended: {severity: high, category: tool_compromise}
  operator_suspended: null
  seal_discrepancy: null
  suspicious_quarantine: null
  checkpoint_refused: null
notifications:
  - when: {severity: high}
    notify: {ssc: 4}
  - when: {category: key_compromise}
    notify: {ssc: 24, smki_pma: 12}
"""


@pytest.fixture
def people(app: bootstrap.App) -> dict[str, Caller]:
    system = Caller.system("test")
    made = {}
    for operator_id, role in [
        ("sec", Role.SECURITY_MANAGER),
        ("audrey", Role.AUDITOR),
        ("ben", Role.BENCH_OPERATOR),
    ]:
        operators.create_operator(
            app.uow, system, operator_id, operator_id.title(), frozenset({role})
        )
        made[operator_id] = operators.operator_caller(app.uow, operator_id)
    return made


def _tool_suspended(app: bootstrap.App, tool_id: str = "BENCH-1") -> str | None:
    with app.uow(write=True) as uow:
        found = incidents.raise_automatic(
            uow, "tool_suspended", Ref("tool", tool_id), "3 failed verifications", {"n": 3}
        )
        uow.commit()
    return found


def test_raise_notify_close_and_replay_agrees(
    app: bootstrap.App, people: dict[str, Caller]
) -> None:
    sec = people["sec"]
    incident_id = _tool_suspended(app)
    assert incident_id is not None and _tool_suspended(app) is None
    manual = incidents.raise_incident(
        app.uow,
        people["ben"],
        title="Key card lost",
        summary="a bench key card is missing",
        severity="high",
        category="key_compromise",
    )
    assert {n.recipient for n in manual.notifications} == {"ssc", "smki_pma"}
    found = incidents.show(app.uow, people["audrey"], incident_id).incident
    [ssc] = found.notifications
    assert ssc.deadline == found.raised_at + timedelta(hours=72)
    assert found.detail == {"n": 3}

    with pytest.raises(Conflict, match="still needs its notification"):
        incidents.close(app.uow, sec, incident_id, "tool replaced")
    incidents.notify(app.uow, sec, incident_id, "ssc", "SSC-REF-1")
    with pytest.raises(Conflict, match="already recorded"):
        incidents.notify(app.uow, sec, incident_id, "ssc", "SSC-REF-2")
    with pytest.raises(PermissionDenied):
        incidents.notify(app.uow, people["audrey"], incident_id, "ssc", "x")
    incidents.contain(app.uow, sec, incident_id, "tool off the bench")
    closed = incidents.close(app.uow, sec, incident_id, "tool re-imaged")
    assert closed.status is IncidentStatus.CLOSED
    assert closed.notifications[0].reference == "SSC-REF-1"
    incidents.change_severity(app.uow, sec, manual.id, "critical", "more cards gone")
    incidents.close(app.uow, sec, manual.id, "cards revoked", justification="reported by phone")

    page = incidents.register(app.uow, people["audrey"], status="closed")
    assert {i.id for i in page.incidents} == {incident_id, manual.id} and page.total == 2
    assert replay_check(app.database, app.facility.id).differences == []


def test_rules_as_data_and_one_alert_per_overdue_notification(
    app: bootstrap.App, people: dict[str, Caller], monkeypatch: pytest.MonkeyPatch
) -> None:
    sec = people["sec"]
    incidents.change_rules(app.uow, sec, RULES)
    assert incidents.rules(app.uow, people["audrey"]).rules.version == "site-2"
    incident_id = _tool_suspended(app)
    assert incident_id is not None
    found = incidents.show(app.uow, sec, incident_id).incident
    assert found.notifications[0].deadline == found.raised_at + timedelta(hours=4)
    assert found.rules_version == "site-2"

    move_clock(monkeypatch, app, found.raised_at + timedelta(hours=4))
    assert incidents.sweep(app.uow) == []
    move_clock(monkeypatch, app, found.raised_at + timedelta(hours=4, seconds=1))
    [alert_id] = incidents.sweep(app.uow)
    assert incidents.sweep(app.uow) == []
    alerts = [a for a in anomaly.alerts(app.uow, sec)[0] if a.metric == OVERDUE_METRIC]
    assert [(a.id, a.subject_kind, a.subject_id) for a in alerts] == [
        (alert_id, "incident", incident_id)
    ]
    overdue = incidents.register(app.uow, sec, overdue=True)
    assert [i.id for i in overdue.incidents] == [incident_id]

    projected = incidents.show(app.uow, sec, incident_id).incident
    with app.database.engine.begin() as conn:
        for table in (incident_notification, incident, incident_rules):
            conn.execute(delete(table))
        assert project_recorded(conn, "triage.adapters.projector_incidents") > 0
    assert incidents.show(app.uow, sec, incident_id).incident == projected
    assert replay_check(app.database, app.facility.id).differences == []
