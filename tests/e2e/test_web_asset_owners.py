"""Asset owners in the real headless Chromium: an administrator registers one on the Asset
owners page (a bad key refused beside its field) and adds a person of it on the People page; that
person signs in to a page of their own devices, and another owner's device is not found."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Facility, Triage, running_facility
from tests.e2e.test_web import DEVICE, browser, consign, shot, signed_in
from tests.e2e.test_web_accessibility import violations
from tests.people import enrol_with_code
from triage.adapters.devices.simulated import DeviceSpec
from triage.ledger import note

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with test_web

THEIRS = "BC-33-AC-FF-FE-BB-77-01"  # a device of the newly registered owner, MAP-2


@pytest.fixture
def facility(triage: Triage, tmp_path: Path) -> Iterator[Facility]:
    with running_facility(triage, tmp_path, [DeviceSpec(DEVICE, "ESME")]) as running:
        yield running


def test_an_administrator_registers_an_owner_whose_person_sees_only_its_devices(
    facility: Facility, browser: Browser
) -> None:
    f = facility
    base = str(f.client.base_url).rstrip("/")
    _, verifier = note.generate_key("MAP-2")
    page = signed_in(f, browser, "admin")
    page.get_by_role("link", name="Asset owners").first.click()
    expect(page.locator("#asset-owners")).to_contain_text("MAP-1")
    page.get_by_label("Id (the name its consignments give it").fill("MAP-2")
    page.get_by_label("Name", exact=True).fill("Meter Assets Two")
    page.get_by_label("Verifier key").fill("not a key")
    page.get_by_role("button", name="Register").click()
    expect(page.locator("#verifier_key-error")).to_contain_text("not a C2SP Ed25519 verifier key")
    expect(page.get_by_label("Id (the name its consignments give it")).to_have_value("MAP-2")
    page.get_by_label("Verifier key").fill(verifier)
    page.get_by_role("button", name="Register").click()
    expect(page.locator(".done-message")).to_contain_text("Registered asset owner MAP-2")
    expect(page.locator("#owner-key")).to_contain_text(verifier)
    assert violations(page) == []
    shot(page, "asset-owner")

    # A person of MAP-2, added with that owner chosen, and their activation code.
    page.get_by_role("link", name="People", exact=True).first.click()
    page.get_by_label("Operator id").fill("olive")
    page.get_by_label("Name", exact=True).fill("Olive Owner")
    page.get_by_role("group", name="Roles").get_by_label("asset owner").check()
    page.get_by_label("Asset owner they act for").select_option("MAP-2")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status")).to_contain_text("Added olive (Olive Owner)")
    code = page.locator("#secret").inner_text().strip()
    page.context.close()
    with f.triage.opened() as app:
        f.triage.people["olive"] = enrol_with_code(app, "olive", code)

    # A device of each owner received.
    consign(f, DEVICE)
    f.call(
        "sup",
        "POST",
        "/consignments",
        params={"reference": "C-TWO-1", "asset_owner": "MAP-2"},
        content="device_id,device_type,manufacturer,model,firmware_version,inventory_status,"
        f"asset_owner\n{THEIRS},ESME,Acme,X1,1.0,Decommissioned,MAP-2\n",
        headers={"Content-Type": "text/csv"},
    )
    for device in (DEVICE, THEIRS):
        f.call("ben", "POST", "/devices/scan", json={"device_id": device})

    page = signed_in(f, browser, "olive")
    expect(page.locator("#owner-name")).to_have_text("Meter Assets Two")
    expect(page.locator("#devices")).to_contain_text(THEIRS)
    expect(page.locator("#devices")).not_to_contain_text(DEVICE)
    expect(page.locator("#consignments")).to_contain_text("C-TWO-1")
    assert violations(page) == []
    shot(page, "owner-home")
    page.get_by_role("link", name=THEIRS).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(THEIRS)
    # Another owner's device is not there at all (not "forbidden": it is not said to exist).
    response = page.goto(f"{base}/devices/{DEVICE}")
    assert response is not None and response.status == 404
    response = page.goto(f"{base}/devices?asset_owner=MAP-1")
    assert response is not None and response.status == 200
    expect(page.locator("#no-devices")).to_be_visible()
    response = page.goto(f"{base}/asset-owners/MAP-1")
    assert response is not None and response.status == 404
    page.context.close()
