"""The administrator's people pages and the stores' seal pages, in the real headless Chromium:
a person added with roles chosen from the list and a bench, locked and unlocked; seals issued
after a wrong serial (the error beside the box, the scans kept), voided, lost, looked up, and
the discrepancy resolved by a security manager."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Facility, Triage, running_facility
from tests.e2e.test_web import DEVICE, browser, shot, signed_in
from tests.e2e.test_web_accessibility import violations
from triage.adapters.devices.simulated import DeviceSpec

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with test_web


@pytest.fixture
def facility(triage: Triage, tmp_path: Path) -> Iterator[Facility]:
    with running_facility(triage, tmp_path, [DeviceSpec(DEVICE, "ESME")]) as running:
        yield running


def test_an_administrator_adds_a_person_with_chosen_roles_and_locks_and_unlocks_them(
    facility: Facility, browser: Browser
) -> None:
    f = facility
    base = str(f.client.base_url).rstrip("/")
    page = signed_in(f, browser, "admin")
    page.get_by_role("link", name="People", exact=True).first.click()
    expect(page.locator("#person-stella")).to_contain_text("stores")
    page.get_by_label("Operator id").fill("kim")
    page.get_by_label("Name", exact=True).fill("Kim Lee")
    page.get_by_label("Benches they work at").fill("B1")
    # No role chosen: refused beside the choices, with what was typed kept.
    page.get_by_role("button", name="Add").click()
    expect(page.locator("#add-roles-error")).to_contain_text("at least one role")
    expect(page.get_by_label("Operator id")).to_have_value("kim")
    roles = page.get_by_role("group", name="Roles")
    roles.get_by_label("bench operator").check()
    roles.get_by_label("supervisor", exact=True).check()
    page.get_by_role("button", name="Add").click()
    # The activation code, shown this once, with what kim does with it.
    expect(page.get_by_role("status")).to_contain_text("Added kim (Kim Lee)")
    assert len(page.locator("#secret").inner_text().strip()) >= 12
    page.get_by_role("link", name="Done").click()
    expect(page.locator("#person-roles")).to_have_text("bench operator, supervisor")
    expect(page.locator("#person-benches")).to_have_text("B1")
    shot(page, "people-person")

    page.get_by_label("Reason", exact=True).fill("badge reported stolen at the gate")
    page.get_by_role("button", name="Lock the account").click()
    expect(page.locator(".done-message")).to_contain_text("kim is locked")
    expect(page.locator("#person-account")).to_contain_text("badge reported stolen")
    listed = {o["id"]: o for o in f.call("admin", "GET", "/operators")["items"]}
    assert listed["kim"]["locked"] and listed["kim"]["benches"] == ["B1"]
    assert listed["kim"]["roles"] == ["bench_operator", "supervisor"]

    page.get_by_label("Reason", exact=True).fill("badge found in the car park")
    page.get_by_role("button", name="Unlock").click()
    expect(page.locator(".done-message")).to_contain_text("kim is unlocked")
    expect(page.locator("#person-account")).to_have_text("active")
    assert not {o["id"]: o for o in f.call("admin", "GET", "/operators")["items"]}["kim"]["locked"]
    # The administrator's facility page no longer types roles: it links here.
    page.goto(f"{base}/admin")
    expect(page.get_by_role("main").get_by_role("link", name="People")).to_be_visible()
    assert page.locator("input[name=roles]").count() == 0
    page.context.close()


def test_stores_issue_void_and_lose_seals_and_a_security_manager_resolves_the_loss(
    facility: Facility, browser: Browser
) -> None:
    f = facility
    f.call("stella", "POST", "/seals/batches", json={
        "supplier": "Acme Seals", "delivery_reference": "DN-V", "seal_class": "H",
        "store": "STORE-A", "first": "SL-8001", "last": "SL-8006",
    })  # fmt: skip
    page = signed_in(f, browser, "stella")
    page.get_by_role("link", name="Seals").first.click()

    # A mistyped serial among the scans: refused beside the box, every scan still there.
    scanned = "SL-8001\nSL-8002\nSL-80#3"
    page.get_by_label("To (operator id)").fill("ben")
    page.locator("#issue-serials").fill(scanned)
    page.get_by_role("button", name="Issue").click()
    expect(page.locator("#issue-serials-error")).to_contain_text("'SL-80#3' is not a seal serial")
    expect(page.locator("#issue-serials")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#issue-serials")).to_have_value(scanned)
    expect(page.get_by_label("To (operator id)")).to_have_value("ben")
    page.locator("#issue-serials").fill("SL-8001\nSL-8002\nSL-8003")
    page.get_by_role("button", name="Issue").click()
    expect(page.locator(".done-message")).to_have_text("Issued 3 seals to ben")

    page.get_by_label("Seal to void").fill("SL-8004")
    page.locator("#void-reason").fill("tamper tape torn in the box")
    page.get_by_role("button", name="Void the seal").click()
    expect(page.locator(".done-message")).to_contain_text("Seal SL-8004 is void")
    page.get_by_label("Seal lost").fill("SL-8005")
    page.locator("#lost-reason").fill("not on the shelf after the move")
    page.get_by_role("button", name="Record as lost").click()
    expect(page.locator(".done-message")).to_contain_text("Seal SL-8005 recorded as lost")

    # The seal's page: where it is and every step it took.
    page.get_by_role("textbox", name="Find a seal").fill("SL-8004")
    page.get_by_role("button", name="Show its history").click()
    expect(page.get_by_role("heading", name="Seal SL-8004")).to_be_visible()
    expect(page.locator("#seal-status")).to_contain_text("void")
    expect(page.locator("#seal-history")).to_contain_text("tamper tape torn in the box")
    assert violations(page) == []
    page.get_by_role("link", name="Discrepancies").click()
    row = page.locator("#open-discrepancies tr", has_text="SL-8005")
    expect(row).to_contain_text("a security manager resolves it")  # not stores
    page.context.close()

    page = signed_in(f, browser, "sam")
    page.get_by_role("link", name="Seal discrepancies").first.click()
    row = page.locator("#open-discrepancies tr", has_text="SL-8005")
    row.get_by_label("What was found or done").fill("written off: the move lost one box of seals")
    row.get_by_role("button", name="Resolve").click()
    expect(page.locator(".done-message")).to_contain_text("discrepancy on seal SL-8005 is resolved")
    expect(page.locator("#resolved-discrepancies")).to_contain_text("written off")
    expect(page.locator("#open-discrepancies")).to_have_count(0)
    shot(page, "stores-discrepancies")
    page.context.close()
