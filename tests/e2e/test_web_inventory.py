"""The DCC's Read Inventory response in the real headless Chromium: stores upload an 8.2
response on /inventory saying a device is Commissioned; the page, the device page and the bench
all refuse its triage with the DCC's reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.duis_responses import Listed, read_inventory
from tests.e2e.conftest import Facility, Triage, running_facility
from tests.e2e.test_web import browser, consign, shot, signed_in
from triage.adapters.devices.simulated import DeviceSpec

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with test_web

LIVE = "BC-33-AC-FF-FE-FA-59-11"
REASON = "says Commissioned: it is live at a premises"


@pytest.fixture
def facility(triage: Triage, tmp_path: Path) -> Iterator[Facility]:
    with running_facility(triage, tmp_path, [DeviceSpec(LIVE, "ESME")]) as running:
        yield running


def test_an_uploaded_82_commissioned_stops_the_device_at_the_bench(
    facility: Facility, browser: Browser, tmp_path: Path
) -> None:
    f = facility
    consign(f, LIVE)
    response = tmp_path / "read-inventory.xml"
    response.write_bytes(
        read_inventory(Listed(LIVE, "ESME", "Commissioned", "Acme", "X1", None, "1.0"))
    )
    page = signed_in(f, browser, "stella")
    page.get_by_role("link", name="Inventory (DCC)").first.click()
    expect(page.locator("#refused-statuses")).to_contain_text(
        "InstalledNotCommissioned, Commissioned"
    )
    page.get_by_label("The DCC's response (XML)").set_input_files(str(response))
    page.get_by_role("button", name="Import").click()
    expect(page.locator(".done-message")).to_contain_text(f"Triage refused for {LIVE}")
    expect(page.locator("#readings")).to_contain_text("Commissioned")
    shot(page, "inventory-imported")
    page.get_by_role("link", name=LIVE).first.click()
    expect(page.locator("#smi-refusal")).to_contain_text(REASON)

    bench = signed_in(f, browser, "ben", bench="B1")
    bench.get_by_role("link", name="Bench").first.click()
    scan = bench.get_by_label("Device ID")
    scan.type(LIVE)
    scan.press("Enter")
    expect(bench.locator("#device_id-error")).to_contain_text(REASON)
    shot(bench, "inventory-refused-at-the-bench")
