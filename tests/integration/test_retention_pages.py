"""Retention and outcome reports through the web pages and the API: a rule refused with the
reason beside its field and nothing recorded, then set; a hold placed and released; a purge run
from the page; a consignment's outcome report downloaded as signed JSON, CSV and PDF."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

from tests.integration.conftest import Staffed
from tests.people import enrol
from triage.domain.roles import Role
from triage.domain.signed_document import verify_document
from triage.entrypoints.asgi import create_app

DEVICE = "BC-33-AC-FF-FE-00-20-01"


def _signed_in(client: TestClient, staffed: Staffed, who: str, role: Role) -> TestClient:
    enrolled = enrol(staffed.app, staffed.admin, who, [role])
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


def test_a_security_manager_keeps_retention_on_its_page(staffed: Staffed) -> None:
    staffed.manifest("C-R", [DEVICE])
    staffed.receive(DEVICE)
    with TestClient(create_app(staffed.app)) as client:
        sam = _signed_in(client, staffed, "sam", Role.SECURITY_MANAGER)
        page = sam.get("/retention")
        assert page.status_code == 200 and "raw GBCS security logs" in page.text
        token = _csrf(page)

        refused = sam.post(
            "/retention/rules", data={"csrf_token": token, "kind": "security_log", "days": "0"}
        )
        assert 'id="days-error"' in refused.text and "whole number of days from 1" in refused.text
        assert staffed.entries("retention.rule_set") == []

        done = sam.post(
            "/retention/rules",
            data={"csrf_token": token, "kind": "security_log", "days": "90"},
            follow_redirects=False,
        )
        assert done.status_code == 303
        [rule] = staffed.entries("retention.rule_set")
        assert rule.data["days"] == 90

        held = sam.post(
            "/retention/holds",
            data={
                "csrf_token": token,
                "scope": "device",
                "target": DEVICE,
                "reason": "an insurer asked to keep it",
            },
            follow_redirects=False,
        )
        assert held.status_code == 303
        [placed] = staffed.entries("legal_hold.placed")
        shown = sam.get("/retention")
        assert "an insurer asked to keep it" in shown.text
        released = sam.post(
            f"/retention/holds/{placed.data['hold_id']}/release",
            data={"csrf_token": token, "reason": "the insurer closed the claim"},
            follow_redirects=False,
        )
        assert released.status_code == 303
        assert len(staffed.entries("legal_hold.released")) == 1

        purged = sam.post("/retention/purge", data={"csrf_token": token}, follow_redirects=False)
        assert purged.status_code == 303  # nothing is due yet: nothing recorded
        assert staffed.entries("evidence.purged") == []


def test_the_outcome_report_is_linked_from_its_consignment_and_served_by_the_api(
    staffed: Staffed,
) -> None:
    staffed.manifest("C-R", [DEVICE])
    staffed.receive(DEVICE)
    auditor = enrol(staffed.app, staffed.admin, "audra", [Role.AUDITOR])
    sup = enrol(staffed.app, staffed.admin, "sup")
    with TestClient(create_app(staffed.app)) as client:
        _signed_in(client, staffed, "pat", Role.SUPERVISOR)
        page = client.get("/consignments/MAP-1/C-R")
        links = re.findall(r'href="(/outcome-reports/[^"]+)"', page.text)
        assert links == [f"/outcome-reports/{f}/MAP-1/C-R" for f in ("json", "csv", "pdf")]
        signed = client.get(links[0])
        assert verify_document(signed.content, [staffed.app.verifier_key()]).kind == (
            "consignment-outcome"
        )
        assert f"\r\n{DEVICE},unfinished," in client.get(links[1]).text
        assert client.get(links[2]).content.startswith(b"%PDF")

        api = {"Authorization": f"Bearer {sup.token}"}
        report = client.get("/api/v1/consignments/C-R/outcome", headers=api)
        assert report.status_code == 200
        document = verify_document(report.content, [staffed.app.verifier_key()]).document
        assert document["counts"]["arrived"] == 1
        csv = client.get("/api/v1/consignments/C-R/outcome.csv", headers=api)
        assert csv.headers["content-type"].startswith("text/csv")
        assert client.get("/api/v1/consignments/NONE/outcome", headers=api).status_code == 404

        refused = client.put(
            "/api/v1/retention/rules/security_log",
            json={"days": 30},
            headers={"Authorization": f"Bearer {auditor.token}"},
        )
        assert refused.status_code == 403
        rules = client.get(
            "/api/v1/retention/rules", headers={"Authorization": f"Bearer {auditor.token}"}
        ).json()
        assert {r["kind"] for r in rules} >= {"device_photo", "security_log"}
