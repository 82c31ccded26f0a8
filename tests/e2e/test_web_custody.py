"""Device custody in the real headless Chromium: stores move a device by scanning it, and a
device stocktake finds the device someone moved without a scan (unexpected where it really is,
missing where it is recorded); the API and the command line say the same."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Facility, Triage, running_facility
from tests.e2e.test_web import browser, consign, shot, signed_in
from triage.adapters.devices.simulated import DeviceSpec

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with test_web

MOVED = "BC-33-AC-FF-FE-FA-58-01"
CARRIED = "BC-33-AC-FF-FE-FA-58-02"


@pytest.fixture
def facility(triage: Triage, tmp_path: Path) -> Iterator[Facility]:
    devices = [DeviceSpec(MOVED, "ESME"), DeviceSpec(CARRIED, "ESME")]
    with running_facility(triage, tmp_path, devices) as running:
        yield running


def test_stores_move_a_device_and_a_stocktake_finds_one_moved_without_a_scan(
    facility: Facility, browser: Browser
) -> None:
    f = facility
    for device in (MOVED, CARRIED):
        consign(f, device)
        f.call("stella", "POST", "/devices/scan", json={"device_id": device})
    page = signed_in(f, browser, "stella")
    page.get_by_role("link", name="Custody", exact=True).first.click()
    expect(page.locator("#by-location")).to_contain_text("STORES")

    # A device that is not one is refused beside the box, and what was typed is kept.
    page.get_by_label("Device (scan it)").fill("not a device")
    page.get_by_label("To location").select_option("QUARANTINE")
    page.get_by_role("button", name="Record the move").click()
    expect(page.locator("#move-device-error")).to_be_visible()
    expect(page.get_by_label("Device (scan it)")).to_have_value("not a device")

    page.get_by_label("Device (scan it)").fill(MOVED)
    page.get_by_label("To location").select_option("QUARANTINE")
    page.get_by_role("button", name="Record the move").click()
    expect(page.locator(".done-message")).to_contain_text(f"Device {MOVED} is at QUARANTINE")

    # CARRIED was carried to the cage too, but nobody scanned it there.
    page.get_by_label("Location counted").select_option("QUARANTINE")
    box = page.get_by_label("Scan every device found there")
    for device in (MOVED, CARRIED):
        box.type(device)
        box.press("Enter")
    page.get_by_role("button", name="Record the stocktake").click()
    expect(page.locator(".done-message")).to_contain_text("0 missing, 1 unexpected")
    expect(page.locator("#unexpected li")).to_have_text([f"{CARRIED}: recorded at STORES"])
    shot(page, "custody-stocktake")

    page.get_by_role("link", name="Back to custody").click()
    page.get_by_label("Location counted").select_option("STORES")
    page.get_by_role("button", name="Record the stocktake").click()
    expect(page.locator("#missing li")).to_have_text([CARRIED])
    page.get_by_role("link", name="Back to custody").click()
    expect(page.locator("#stocktakes tbody tr")).to_have_count(2)

    where = f.call("sup", "GET", f"/devices/{CARRIED}/location")
    assert where["location"] == "STORES"
    counts = {c["location"]: c["devices"] for c in f.call("sup", "GET", "/custody")["counts"]}
    assert counts == {"QUARANTINE": 1, "STORES": 1}
    exceptions = f.call("sup", "GET", "/exceptions")["items"]
    assert {(e["kind"], e["device_id"]) for e in exceptions} >= {
        ("device_unexpected", CARRIED),
        ("device_missing", CARRIED),
    }
    said = f.triage.run("custody", "where", MOVED, "--json", "--token", f.tokens["stella"])
    assert json.loads(said.stdout)["location"] == "QUARANTINE"
