"""The incident register's pages on both databases: a notification past its deadline is marked
OVERDUE in the register and its alert, raised once by the sweep, is in the security manager's
alert list with a link to the incident; a raise form refused keeps what was typed and records
nothing; the bench reports on its own page but does not read the register."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import move_clock
from tests.people import enrol
from triage import bootstrap
from triage.domain.caller import Caller
from triage.domain.roles import Role
from triage.entrypoints.asgi import create_app
from triage.ledger.entry import Ref
from triage.services import incidents, operators


def _signed_in(client: TestClient, app: bootstrap.App, who: str, role: Role) -> TestClient:
    admin = operators.operator_caller(app.uow, "admin")
    enrolled = enrol(app, admin, who, [role])
    signed = client.post(
        "/login",
        data={
            "operator_id": who,
            "password": enrolled.password,
            "second_factor": enrolled.recovery_codes.pop(),
            "bench": "",
        },
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    client.cookies.set("triage_session", signed.cookies["triage_session"])
    return client


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def test_an_overdue_notification_is_marked_and_alerted_once(
    app: bootstrap.App, monkeypatch: pytest.MonkeyPatch
) -> None:
    operators.create_operator(
        app.uow, Caller.system("test"), "admin", "Admin", frozenset({Role.ADMINISTRATOR})
    )
    with TestClient(create_app(app)) as client:
        sam = _signed_in(client, app, "sam", Role.SECURITY_MANAGER)
        now = app.uow.clock.now()
        move_clock(monkeypatch, app, now - timedelta(hours=73))  # raised 73 hours ago
        with app.uow(write=True) as uow:
            incident_id = incidents.raise_automatic(
                uow, "tool_suspended", Ref("tool", "BENCH-9"), "3 failed verifications"
            )
            uow.commit()
        assert incident_id is not None
        move_clock(monkeypatch, app, now)
        page = sam.get("/incidents", params={"source": "tool_suspended"})
        assert "Tool suspended: tool BENCH-9" in page.text
        assert f'id="incident-{incident_id}" class="overdue"' in page.text
        assert "ssc: OVERDUE since" in page.text
        assert "OVERDUE" in sam.get(f"/incidents/{incident_id}").text

        [alert_id] = incidents.sweep(app.uow)
        assert incidents.sweep(app.uow) == []
        alerts = sam.get("/security/tools")
        assert f'id="alert-{alert_id}"' in alerts.text
        assert f'<a href="/incidents/{incident_id}">Incident {incident_id}</a>' in alerts.text
        assert "incident notification overdue" in alerts.text
        assert sam.get("/incidents", params={"status": "closed"}).text.count("OVERDUE") == 0


def test_raising_from_the_pages(app: bootstrap.App) -> None:
    operators.create_operator(
        app.uow, Caller.system("test"), "admin", "Admin", frozenset({Role.ADMINISTRATOR})
    )
    with TestClient(create_app(app)) as client:
        ben = _signed_in(client, app, "ben", Role.BENCH_OPERATOR)
        assert ben.get("/incidents").status_code == 403
        page = ben.get("/incidents/report")
        token = _csrf(page)
        form = {
            "csrf_token": token,
            "kind": "incident",
            "title": "Strange USB stick",
            "summary": "found plugged into bench B1",
            "severity": "high",
            "category": "gossip",
        }
        refused = ben.post("/incidents/report", data=form)
        assert refused.status_code == 422
        assert 'id="category-error"' in refused.text and "Strange USB stick" in refused.text
        with app.uow(write=False) as uow:
            assert uow.incidents.find()[1] == 0
        done = ben.post(
            "/incidents/report", data={**form, "category": "other"}, follow_redirects=False
        )
        assert done.status_code == 303 and done.headers["location"] == "/incidents/report"
        with app.uow(write=False) as uow:
            [found], _ = uow.incidents.find()
        assert (found.title, found.raised_by, found.source) == (
            "Strange USB stick",
            "ben",
            "manual",
        )
