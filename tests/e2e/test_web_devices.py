"""The device list in a real headless Chromium: a supervisor finds the two devices left
"verified" (waiting for a seal) from the dashboard's bar and by the search form, and opens one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Facility, Triage, running_facility
from tests.e2e.test_web import CLEAN, _receive, browser, shot, signed_in
from triage.adapters.devices.simulated import DeviceSpec

__all__ = ["browser"]  # the module's Chromium, shared from test_web

LEFT = ["BC-33-AC-FF-FE-FA-81-01", "BC-33-AC-FF-FE-FA-81-02"]  # reset, verified, not sealed
WAITING = "BC-33-AC-FF-FE-FA-81-03"  # inspected eligible, not reset


@pytest.fixture
def facility(triage: Triage, tmp_path: Path) -> Iterator[Facility]:
    fleet = [DeviceSpec(d, "ESME") for d in [*LEFT, WAITING]]
    with running_facility(triage, tmp_path, fleet) as running:
        yield running


def test_a_supervisor_finds_the_devices_left_verified_and_opens_one(
    facility: Facility, browser: Browser
) -> None:
    f = facility
    for device in LEFT:
        job = _receive(f, device, CLEAN, "ben")
        f.call("ben", "POST", f"/jobs/{job}/work-orders", json={"tool_id": "BENCH-1"})
        assert f.wait_for(job, {"verified", "verification_failed"})["state"] == "verified"
    _receive(f, WAITING, CLEAN, "ben")
    base = str(f.client.base_url).rstrip("/")
    page = signed_in(f, browser, "sup", bench="B1")
    # The dashboard's bar is a link to the devices in that state.
    page.get_by_role("link", name="verified: 2").click()
    rows = page.locator("#devices tbody tr")
    expect(rows).to_have_count(2)
    for device in LEFT:
        expect(page.get_by_role("link", name=device)).to_be_visible()
    expect(page.get_by_label("State")).to_have_value("verified")
    # The same search by the form, from the menu: the state chosen, the devices found.
    page.get_by_role("link", name="Devices").first.click()
    expect(rows).to_have_count(3)
    page.get_by_label("State").select_option("verified")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(2)
    expect(page.get_by_text(WAITING)).to_have_count(0)
    # A device id that cannot be one is refused beside its field, the search as typed kept.
    page.get_by_label("Device id (whole, or its first digits)").fill("BC-33-AC-ZZ")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#device_id-error")).to_contain_text("first hex digits")
    expect(page.get_by_label("Device id (whole, or its first digits)")).to_have_value("BC-33-AC-ZZ")
    expect(page.get_by_label("State")).to_have_value("verified")
    page.get_by_label("Device id (whole, or its first digits)").fill("bc33acfffefa8102")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    shot(page, "devices-search")
    page.get_by_role("link", name=LEFT[1]).click()
    page.wait_for_url(f"{base}/devices/{LEFT[1]}")
    page.context.close()
