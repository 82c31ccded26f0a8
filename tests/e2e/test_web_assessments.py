"""The security manager's assessments and the facility's settings, in the real headless Chromium:
an assessment planned, its fieldwork, a finding with the facility's response and a remedial
action, and the outcome, all in the browser; working hours set in local time, a mistyped time
refused beside its field with what was typed kept; the administrator's triage settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Facility, Triage, running_facility
from tests.e2e.test_web import browser, shot, signed_in
from tests.e2e.test_web_accessibility import violations

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with test_web


@pytest.fixture
def facility(triage: Triage, tmp_path: Path) -> Iterator[Facility]:
    with running_facility(triage, tmp_path, []) as running:
        yield running


def test_a_security_manager_plans_and_records_an_assessment(
    facility: Facility, browser: Browser
) -> None:
    f = facility
    page = signed_in(f, browser, "sam")
    page.get_by_role("link", name="Assessments").first.click()
    expect(page.get_by_role("heading", name="Security assessments")).to_be_visible()
    page.get_by_label("Kind").select_option("FUSA")
    page.get_by_label("Assessor").fill("Northgate Assurance Ltd")
    page.get_by_label("Scope", exact=True).fill("The site, bench B1 and the seal store")
    page.get_by_label("Planned for").fill("2027-01-18")
    page.get_by_role("button", name="Plan the assessment").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Planned the FUSA by Northgate Assurance Ltd for 2027-01-18"
    )
    page.get_by_label("First day at the facility").fill("2027-01-18")
    page.get_by_label("Last day").fill("2027-01-19")
    page.get_by_role("button", name="Record the fieldwork").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Recorded fieldwork 2027-01-18 to 2027-01-19"
    )

    # A finding too short to say anything is refused beside its field, the control kept.
    finding = page.locator("form[action$='/findings']")
    control = finding.get_by_label("Control").input_value()
    finding.get_by_label("Severity").select_option("high")
    finding.get_by_label("What the assessor found").fill("door")
    finding.get_by_role("button", name="Record the finding").click()
    described = page.locator("form[action$='/findings']").get_by_label("What the assessor found")
    expect(described).to_have_attribute("aria-invalid", "true")
    expect(described).to_have_value("door")
    expect(page.locator("form[action$='/findings'] .field-error")).to_contain_text(
        "description: 10-4000 characters"
    )
    expect(page.locator("form[action$='/findings']").get_by_label("Severity")).to_have_value("high")
    described.fill("The seal store door was found unlocked overnight")
    page.locator("form[action$='/findings']").get_by_role(
        "button", name="Record the finding"
    ).click()
    expect(page.get_by_role("status")).to_contain_text(f"Recorded a high finding on {control}")

    card = page.locator("section[id^=finding-]")
    card.get_by_label("The facility's response").fill("A keypad lock is fitted and audited weekly")
    card.get_by_label("Remedied by").fill("2027-02-28")
    card.get_by_role("button", name="Record the response").click()
    expect(card).to_contain_text("to be remedied by 2027-02-28")
    card.get_by_label("Remedial action").fill("Fit a keypad lock to the seal store door")
    card.get_by_label("Owner").fill("stella")
    card.get_by_label("Due", exact=True).fill("2027-02-14")
    card.get_by_role("button", name="Plan the action").click()
    expect(page.get_by_role("status")).to_contain_text("Planned a remedial action for stella")
    assert violations(page) == []
    shot(page, "assessment")
    card.get_by_role("button", name="Mark the action of stella done").click()
    expect(card).to_contain_text("done")
    card.get_by_label("Why it is remedied").fill("Lock fitted and seen by the assessor")
    card.get_by_role("button", name="Close the finding").click()
    expect(page.get_by_role("status")).to_contain_text(f"Closed the finding on {control}")

    page.get_by_label("Result").select_option("approval")
    page.get_by_role("button", name="Record the outcome").click()
    expect(page.locator("#outcome")).to_contain_text("Approval")
    assert violations(page) == []
    page.context.close()

    # What the browser did is what the API (and so the ledger's projection) holds.
    [recorded] = f.call("sam", "GET", "/assessments")["items"]
    assert (recorded["kind"], recorded["assessor"], recorded["outcome"]["result"]) == (
        "FUSA",
        "Northgate Assurance Ltd",
        "approval",
    )
    [found] = recorded["findings"]
    assert (found["control_id"], found["severity"], found["status"]) == (control, "high", "closed")
    assert found["response"]["due"] == "2027-02-28"
    assert [(a["owner"], a["status"]) for a in recorded["actions"]] == [("stella", "done")]


def test_working_hours_are_set_in_local_time_and_a_bad_time_is_kept_beside_its_field(
    facility: Facility, browser: Browser
) -> None:
    f = facility
    page = signed_in(f, browser, "sam")
    page.get_by_role("link", name="Settings").first.click()
    expect(page.locator("#zone")).to_have_text("Europe/London")
    expect(page.locator("#working-hours")).to_contain_text("Not set")
    page.get_by_label("Work starts").fill("25:00")
    page.get_by_label("Work ends").fill("18:00")
    page.get_by_role("button", name="Set working hours").click()
    start = page.get_by_label("Work starts")
    expect(start).to_have_value("25:00")
    expect(start).to_have_attribute("aria-invalid", "true")
    error = page.locator("#hours-start-error")
    expect(error).to_contain_text("start: give a time as HH:MM (24-hour, Europe/London time)")
    assert "hours-start-error" in (start.get_attribute("aria-describedby") or "")
    expect(page.get_by_label("Work ends")).to_have_value("18:00")
    expect(page.locator("#working-hours")).to_contain_text("Not set")
    assert violations(page) == []
    start.fill("08:00")
    page.get_by_role("button", name="Set working hours").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Working hours set: 08:00-18:00 Europe/London on mon,tue,wed,thu,fri"
    )
    expect(page.locator("#working-hours")).to_contain_text("08:00–18:00 Europe/London time")
    shot(page, "settings")
    page.context.close()
    assert f.call("sam", "GET", "/thresholds")["working_hours"] == {
        "start": "08:00",
        "end": "18:00",
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "zone": "Europe/London",
    }

    # The administrator sees them, is not offered to change them, and changes the triage settings.
    page = signed_in(f, browser, "admin")
    page.get_by_role("link", name="Facility", exact=True).first.click()
    page.get_by_role("link", name="Facility settings and working hours").click()
    expect(page.locator("#working-hours")).to_contain_text("08:00–18:00 Europe/London time")
    expect(page.get_by_label("Work starts")).to_have_count(0)
    page.get_by_label("Reset attempts a job gets").fill("2")
    page.get_by_role("button", name="Change the triage settings").click()
    expect(page.get_by_role("status")).to_contain_text("2 reset attempts a job")
    expect(page.locator("#max-reset-attempts")).to_have_text("2")
    assert violations(page) == []
    page.context.close()
    assert f.call("ben", "GET", "/facility/settings")["max_reset_attempts"] == 2
