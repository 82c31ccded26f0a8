"""The incident register in the real headless Chromium: the bench reports a key compromise; the
security manager finds it in the register with its deadlines, records the notifications to the
SSC and the SMKI PMA through the incident's page (closing before both is refused) and closes
it; the API and the command line say the same."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Facility, Triage, running_facility
from tests.e2e.test_web import browser, signed_in
from tests.e2e.test_web_accessibility import violations

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with test_web


@pytest.fixture
def facility(triage: Triage, tmp_path: Path) -> Iterator[Facility]:
    with running_facility(triage, tmp_path, []) as running:
        yield running


def test_a_security_manager_records_the_notifications_and_closes_an_incident(
    facility: Facility, browser: Browser
) -> None:
    f = facility
    raised = f.call(
        "ben",
        "POST",
        "/incidents",
        json={
            "title": "Bench key card missing",
            "summary": "the key card of bench B1 was not in its safe this morning",
            "severity": "high",
            "category": "key_compromise",
        },
    )
    incident_id = raised["id"]
    assert {n["recipient"] for n in raised["notifications"]} == {"ssc", "smki_pma"}
    # The bench may report but not read the register.
    refused = f.client.get(
        "/api/v1/incidents", headers={"Authorization": f"Bearer {f.tokens['ben']}"}
    )
    assert refused.status_code == 403 and "incident.read" in refused.text

    page = signed_in(f, browser, "sam")
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Incidents").click()
    row = page.locator(f"#incident-{incident_id}")
    expect(row).to_contain_text("Bench key card missing")
    expect(row).to_contain_text("ssc: due")
    row.get_by_role("link", name="Bench key card missing").click()
    expect(page.locator("#status")).to_have_text("open")
    assert violations(page) == []

    # Closing while the notifications are missing is refused, with what is missing.
    page.get_by_label("What was done").fill("card found in the wrong safe; locks changed")
    page.get_by_role("button", name="Close").click()
    expect(page.get_by_role("alert")).to_contain_text("still needs its notification to")
    expect(page.locator("#status")).to_have_text("open")

    for recipient, reference in (("ssc", "SSC-2026-117"), ("smki_pma", "PMA-88")):
        page.get_by_label("Notified").select_option(recipient)
        page.get_by_label("The reference they gave").fill(reference)
        page.get_by_role("button", name="Record the notification").click()
        expect(page.locator(".done-message")).to_contain_text(f"Notification to {recipient}")
        expect(page.locator(f"#notification-{recipient}")).to_contain_text(reference)
        expect(page.locator(f"#notification-{recipient}")).to_contain_text("by sam")

    # Twice to the same recipient is refused.
    page.get_by_label("Notified").select_option("ssc")
    page.get_by_label("The reference they gave").fill("SSC-AGAIN")
    page.get_by_role("button", name="Record the notification").click()
    expect(page.get_by_role("alert")).to_contain_text("already recorded")

    page.get_by_label("What was done").fill("card found in the wrong safe; locks changed")
    page.get_by_role("button", name="Close").click()
    expect(page.locator("#status")).to_have_text("closed")
    expect(page.get_by_role("button", name="Record the notification")).to_have_count(0)
    page.context.close()

    shown = f.call("sam", "GET", f"/incidents/{incident_id}")
    assert shown["status"] == "closed" and shown["closed_by"] == "sam"
    assert {n["recipient"]: n["reference"] for n in shown["notifications"]} == {
        "ssc": "SSC-2026-117",
        "smki_pma": "PMA-88",
    }
    listed = json.loads(
        f.triage.run(
            "incident", "list", "--status", "closed", "--json", "--token", f.tokens["sam"]
        ).stdout
    )
    assert [i["id"] for i in listed["incidents"]] == [incident_id]
    swept = f.triage.run("incident", "sweep", "--token", f.tokens["sam"]).stdout
    assert "0 overdue notification alerts raised" in swept
