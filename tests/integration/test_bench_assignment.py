"""Benches are assigned, not declared (issue 16, attack 8), through the API on both databases.

A bench operator of bench B1 used to sign in declaring bench B2, or get a token naming it, and
order a reset on a B2 tool. Now an administrator assigns each operator's benches (recorded and
replayed); sign-in, bench tokens and work orders are checked against the assignment of now.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from tests.integration.conftest import Staffed
from triage.adapters import tables
from triage.adapters.replay import replay_check
from triage.domain.tool import tool_key_name
from triage.entrypoints.asgi import create_app
from triage.ledger import note
from triage.services import auth, tools

PASSWORD = "Kettle-Harbour-Lantern-47"
DEVICE = "BC-33-AC-FF-FE-FA-55-3D"


@dataclass
class Session:
    """A signed-in person's web session, used by hand as a browser on HTTPS would."""

    client: TestClient
    cookie: str
    csrf: str

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Cookie": f"triage_session={self.cookie}", "X-CSRF-Token": self.csrf}
        response: httpx.Response = self.client.request(
            method, f"/api/v1{path}", headers=headers, **kwargs
        )
        return response


class Site:
    """The facility's API, and each enrolled person's unused recovery codes."""

    def __init__(self, staffed: Staffed) -> None:
        self.staffed = staffed
        self.client = TestClient(create_app(staffed.app))
        self.codes: dict[str, list[str]] = {}

    def enrol(self, operator_id: str) -> None:
        app = self.staffed.app
        code = auth.issue_activation(app.uow, self.staffed.admin, operator_id)
        secret, _ = auth.activate(app.uow, operator_id, code, PASSWORD, box=app.secret_box())
        self.codes[operator_id] = auth.confirm_mfa(
            app.uow, operator_id, code, pyotp.TOTP(secret).now(), box=app.secret_box()
        )

    def login(self, operator_id: str, bench: str | None = None) -> httpx.Response:
        body = {
            "operator_id": operator_id,
            "password": PASSWORD,
            "second_factor": self.codes[operator_id].pop(),
            "bench": bench,
        }
        response: httpx.Response = self.client.post("/api/v1/auth/login", json=body)
        self.client.cookies.clear()  # each session is sent by hand
        return response

    def session(self, operator_id: str, bench: str | None = None) -> Session:
        response = self.login(operator_id, bench)
        assert response.status_code == 200, response.text
        cookie = response.cookies.get("triage_session") or _cookie(response)
        return Session(self.client, cookie, response.json()["csrf_token"])


def _cookie(response: httpx.Response) -> str:
    first = response.headers["set-cookie"].split(";")[0]
    name, _, value = first.partition("=")
    assert name == "triage_session"
    return value


@pytest.fixture
def site(staffed: Staffed) -> Iterator[Site]:
    """Ben (bench operator at B1), sup (supervisor at B1) and the administrator, enrolled; tool
    BENCH-1 sits at bench B1 and BENCH-2 at bench B2; a device waits for its reset."""
    _, verifier = note.generate_key(tool_key_name("BENCH-2"))
    tools.enrol_tool(staffed.app.uow, staffed.admin, "BENCH-2", "B2", verifier)
    staffed.manifest("C-1", [DEVICE])
    staffed.receive(DEVICE)
    found = Site(staffed)
    for operator_id in ("admin", "ben", "sup"):
        found.enrol(operator_id)
    with found.client:
        yield found


def _job_id(site: Site) -> str:
    with site.staffed.app.uow(write=False) as uow:
        job = uow.jobs.open_for_device(DEVICE)
    assert job is not None
    return job.id


def test_a_b1_operator_declaring_bench_b2_at_sign_in_is_refused_and_recorded(site: Site) -> None:
    refused = site.login("ben", bench="B2")
    assert refused.status_code == 403, refused.text
    assert refused.json()["detail"] == (
        "operator ben is not assigned to bench B2; ask an administrator"
    )
    assert "set-cookie" not in refused.headers
    recorded = [
        e
        for e in site.staffed.entries("auth.login_failed")
        if e.data.get("reason") == "bench_not_assigned"
    ]
    assert [(e.subject.id, e.data["bench"]) for e in recorded] == [("ben", "B2")]
    # Signed in at bench B1, ben orders work only from the tool at B1, never from B2's.
    at_b1 = site.session("ben", bench="B1")
    job_id = _job_id(site)
    elsewhere = at_b1.call("POST", f"/jobs/{job_id}/work-orders", json={"tool_id": "BENCH-2"})
    assert elsewhere.status_code == 403, elsewhere.text
    assert "its bench, B2" in elsewhere.json()["detail"]
    assert site.staffed.entries("reset.authorised") == []
    ordered = at_b1.call("POST", f"/jobs/{job_id}/work-orders", json={"tool_id": "BENCH-1"})
    assert ordered.status_code == 201, ordered.text


def test_a_token_naming_a_bench_not_assigned_is_refused(site: Site) -> None:
    ben = site.session("ben")
    refused = ben.call("POST", "/tokens", json={"operator_id": "ben", "bench": "B2"})
    assert refused.status_code == 403, refused.text
    assert "not assigned to bench B2" in refused.json()["detail"]
    issued_b2 = [
        e for e in site.staffed.entries("operator.token_issued") if e.data["bench"] == "B2"
    ]
    assert issued_b2 == []
    issued = ben.call("POST", "/tokens", json={"operator_id": "ben", "bench": "B1"})
    assert issued.status_code == 201, issued.text


def test_a_bench_taken_away_stops_the_next_work_order_of_a_live_session(site: Site) -> None:
    ben = site.session("ben", bench="B1")
    admin = site.session("admin")
    cleared = admin.call(
        "PUT", "/operators/ben/benches", json={"benches": [], "reason": "moved to the returns desk"}
    )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json() == {"operator_id": "ben", "benches": [], "previous": ["B1"]}
    job_id = _job_id(site)
    refused = ben.call("POST", f"/jobs/{job_id}/work-orders", json={"tool_id": "BENCH-1"})
    assert refused.status_code == 403, refused.text
    assert refused.json()["detail"].startswith("operator ben is not assigned to bench B1")
    assert [e.subject.id for e in site.staffed.entries("auth.refused")] == ["ben"]
    back = admin.call(
        "PUT",
        "/operators/ben/benches",
        json={"benches": ["B1"], "reason": "back at bench B1 after training"},
    )
    assert back.status_code == 200, back.text
    ordered = ben.call("POST", f"/jobs/{job_id}/work-orders", json={"tool_id": "BENCH-1"})
    assert ordered.status_code == 201, ordered.text


def test_only_an_administrator_assigns_benches_and_never_their_own(site: Site) -> None:
    body = {"benches": ["B2"], "reason": "cover for a colleague"}
    sup, ben, admin = site.session("sup"), site.session("ben"), site.session("admin")
    assert sup.call("PUT", "/operators/ben/benches", json=body).status_code == 403
    assert ben.call("PUT", "/operators/ben/benches", json=body).status_code == 403
    own = admin.call("PUT", "/operators/admin/benches", json=body)
    assert own.status_code == 403 and "own benches" in own.json()["detail"]
    assert admin.call("PUT", "/operators/nobody/benches", json=body).status_code == 404
    long_name = {"benches": ["B" * 65], "reason": "covers the new long bench"}
    assert admin.call("PUT", "/operators/ben/benches", json=long_name).status_code == 422
    no_reason = {"benches": ["B2"], "reason": " "}
    assert admin.call("PUT", "/operators/ben/benches", json=no_reason).status_code == 422
    short = admin.call("PUT", "/operators/ben/benches", json={"benches": ["B2"], "reason": "moved"})
    assert short.status_code == 422 and "at least 10 characters" in short.json()["detail"]
    assert site.staffed.entries("operator.benches_assigned")[-1].data["benches"] == ["B1"]
    # Who holds which bench: one's own, or anyone's for the administrator.
    assert ben.call("GET", "/operators/ben/benches").json()["benches"] == ["B1"]
    assert admin.call("GET", "/operators/ben/benches").json()["benches"] == ["B1"]
    assert sup.call("GET", "/operators/ben/benches").status_code == 403


def test_an_assignment_is_recorded_and_a_table_edited_behind_it_fails_replay(site: Site) -> None:
    admin = site.session("admin")
    body = {"benches": ["B2", "B1", "B2"], "reason": "covers bench B2 on Fridays"}
    assigned = admin.call("PUT", "/operators/ben/benches", json=body)
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["benches"] == ["B1", "B2"]
    entry = site.staffed.entries("operator.benches_assigned")[-1]
    assert (entry.actor.id, entry.subject.id) == ("admin", "ben")
    assert entry.data == {
        "benches": ["B1", "B2"],
        "previous": ["B1"],
        "reason": "covers bench B2 on Fridays",
    }
    # The same set again changes nothing and records nothing.
    size = site.staffed.ledger_size()
    assert admin.call("PUT", "/operators/ben/benches", json=body).status_code == 200
    assert site.staffed.ledger_size() == size
    app = site.staffed.app
    assert replay_check(app.database, app.facility.id).differences == []
    with app.database.engine.begin() as conn:
        conn.execute(
            insert(tables.operator_bench).values(
                operator_id="sup", bench="B2", assigned_at=entry.at
            )
        )
    found = [str(d) for d in replay_check(app.database, app.facility.id).differences]
    assert found == ["operator_bench sup/B2: row exists but no entry creates it"]


def test_a_bench_taken_away_stops_a_seal_being_fitted_there(site: Site) -> None:
    job_id = _job_id(site)
    assert site.staffed.reset(job_id).state.value == "verified"
    ben, admin = site.session("ben", bench="B1"), site.session("admin")
    cleared = admin.call(
        "PUT", "/operators/ben/benches", json={"benches": [], "reason": "moved to the returns desk"}
    )
    assert cleared.status_code == 200, cleared.text
    refused = ben.call("POST", f"/jobs/{job_id}/seal", json={"serial": "SL-0001"})
    assert refused.status_code == 403, refused.text
    assert "not assigned to bench B1" in refused.json()["detail"]
    assert site.staffed.entries("seal.fitted") == []
