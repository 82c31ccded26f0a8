"""Accessibility of every page, checked in the real headless Chromium: axe-core (the engine
behind most accessibility audits, shipped on PyPI inside axe-playwright-python) runs its WCAG 2.1
A and AA rules on each page as the role that uses it (labels, names, contrast, landmarks,
headings, tables, forms), and signing in and scanning a device work from the keyboard alone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Facility, Triage, running_facility
from tests.e2e.test_web import CLEAN, DEVICE, _receive, authenticator, browser, sign_in
from tests.people import PASSWORD
from triage.adapters.devices.simulated import DeviceSpec

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with test_web

# WCAG 2.0 and 2.1, levels A and AA: what a public body's site in Great Britain must meet.
RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}

# Each role's pages (the job page is added once a device is at the bench).
PAGES = {
    "ben": ["/", "/bench", "/incidents/report"],
    "sup": [
        "/supervisor",
        "/devices",
        f"/devices/{DEVICE}",
        "/consignments",
        f"/consignments/MAP-1/C-{DEVICE[-5:]}",
        "/exceptions",
        "/hubs",
    ],
    "stella": [
        "/stores",
        "/stores/stocktake",
        "/stores/discrepancies",
        "/custody",
        "/dispatches",
        "/disposals",
        "/duis",
        "/inventory",
    ],
    "sam": [
        "/security/tools",
        "/security/people",
        "/assessments",
        "/settings",
        "/retention",
        "/incidents",
        "/incidents/report",
    ],
    "admin": [
        "/admin",
        "/people",
        "/people/stella",
        "/settings",
        "/custody",
        "/asset-owners",
        "/asset-owners/MAP-1",
        "/disposals/methods",
        "/inventory",
    ],
    "audrey": ["/auditor", "/auditor/assessments", "/auditor/device"],
}


@pytest.fixture
def facility(triage: Triage, tmp_path: Path) -> Iterator[Facility]:
    with running_facility(triage, tmp_path, [DeviceSpec(DEVICE, "ESME")]) as running:
        yield running


def violations(page: Page) -> list[str]:
    """What axe finds wrong with the page as it stands, a line per rule and element."""
    found: dict[str, Any] = Axe().run(page, options=RULES).response
    # The rules really ran (a page where axe could not run would show no violations either).
    assert len(found["passes"]) >= 10, found.get("passes")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {node['target']}"
        for v in found["violations"]
        for node in v["nodes"]
    ]


def test_every_page_meets_wcag_2_1_aa_for_the_role_that_uses_it(
    facility: Facility, browser: Browser
) -> None:
    f = facility
    admin = f.tokens["admin"]
    f.triage.staff(admin, "audrey", "auditor")
    job = _receive(f, DEVICE, CLEAN, "ben")
    found: dict[str, list[str]] = {}
    context = browser.new_context(viewport={"width": 1024, "height": 900})
    page = context.new_page()
    base = str(f.client.base_url).rstrip("/")
    page.goto(f"{base}/login")
    found["/login"] = violations(page)
    for operator_id, paths in PAGES.items():
        totp = authenticator(f.triage, operator_id)
        context.clear_cookies()
        sign_in(page, base, operator_id, totp, bench="B1" if operator_id == "ben" else "")
        if operator_id == "ben":
            paths = [*paths, f"/bench/jobs/{job}"]
        for path in paths:
            response = page.goto(f"{base}{path}")
            assert response is not None and response.status == 200, path
            found[f"{path} as {operator_id}"] = violations(page)
        if operator_id == "ben":
            # A refusal and a form error are pages too.
            page.goto(f"{base}/admin")
            expect(page.get_by_role("alert")).to_contain_text("This page is for")
            found["refused /admin as ben"] = violations(page)
            page.goto(f"{base}/bench")
            page.get_by_label("Device ID").fill("not a device")
            page.get_by_label("Device ID").press("Enter")
            expect(page.get_by_role("alert")).to_be_visible()
            found["bad scan as ben"] = violations(page)
    # The check can fail: a field without a label, added to the last page, is found.
    page.evaluate("document.querySelector('main').append(document.createElement('input'))")
    assert any(line.startswith("label (critical)") for line in violations(page))
    context.close()
    # Every page listed, the job page, the login, the refusal and the bad scan.
    assert len(found) == sum(len(paths) for paths in PAGES.values()) + 4
    assert {where: lines for where, lines in found.items() if lines} == {}


def test_signing_in_and_scanning_need_no_mouse(facility: Facility, browser: Browser) -> None:
    f = facility
    totp = authenticator(f.triage, "ben")
    f.call("sup", "POST", "/consignments", params={"reference": "C-K", "asset_owner": "MAP-1"},
           content="device_id,device_type,manufacturer,model,firmware_version,inventory_status,"
           f"asset_owner\n{DEVICE},ESME,Acme,X1,1.0,Decommissioned,MAP-1\n",
           headers={"Content-Type": "text/csv"})  # fmt: skip
    context = browser.new_context(viewport={"width": 1024, "height": 900})
    page = context.new_page()
    page.goto(f"{str(f.client.base_url).rstrip('/')}/login")
    keys = page.keyboard
    # The first Tab reaches the skip link, which leads to the form; the form starts focused.
    expect(page.get_by_label("Operator id")).to_be_focused()
    keys.type("ben")
    keys.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    keys.type(PASSWORD)
    keys.press("Tab")
    keys.type(totp.at(time.time() + 30))
    keys.press("Tab")
    expect(page.get_by_label("Bench you are working at")).to_be_focused()
    keys.type("B1")
    keys.press("Enter")
    expect(page.get_by_role("heading", name="Hello, ben")).to_be_visible()
    # Tab from the top of the page: the skip link first, then on to the menu's Bench link.
    keys.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    bench = page.get_by_role("navigation", name="Pages").get_by_role("link", name="Bench")
    for _ in range(10):
        keys.press("Tab")
        if bench.evaluate("link => link === document.activeElement"):
            break
    expect(bench).to_be_focused()
    keys.press("Enter")
    # The scan box has the focus, as a barcode scanner needs; the device opens on Enter.
    expect(page.get_by_label("Device ID")).to_be_focused()
    keys.type(DEVICE)
    keys.press("Enter")
    expect(page.locator("#state")).to_contain_text("received")
    # The inspection's answers are radio buttons a keyboard can reach and choose.
    metrology = page.get_by_role("group", name="metrology").get_by_label("Yes")
    metrology.focus()
    keys.press("Space")
    expect(metrology).to_be_checked()
    context.close()
