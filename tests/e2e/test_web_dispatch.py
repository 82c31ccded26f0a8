"""A dispatch in the real headless Chromium and through the real `triage` command (issue 19
item 2): stores pack a released device with the VVTT checks, close and hand over; the asset
owner's person signs in and acknowledges with one discrepancy, which the supervisor then sees
among the exceptions. And the asset owner's offline tools: the note checked with the facility's
key alone (a tampered one refused), an acknowledgement signed with the owner's key and
uploaded."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Facility, Triage, running_facility
from tests.e2e.test_web import CLEAN, _receive, authenticator, browser, signed_in
from tests.e2e.test_web_accessibility import violations
from tests.people import PASSWORD
from triage.adapters.devices.simulated import DeviceSpec

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with test_web

DEVICE = "BC-33-AC-FF-FE-FA-90-01"


@pytest.fixture
def facility(triage: Triage, tmp_path: Path) -> Iterator[Facility]:
    with running_facility(triage, tmp_path, [DeviceSpec(DEVICE, "ESME")]) as running:
        yield running


def _released(f: Facility, serial: str) -> None:
    batch = {
        "supplier": "Acme Seals", "delivery_reference": "DN-X", "seal_class": "H",
        "store": "STORE-A", "first": serial, "last": serial,
    }  # fmt: skip
    f.call("stella", "POST", "/seals/batches", json=batch)
    f.call("stella", "POST", "/seals/issue", json={"operator_id": "ben", "serials": [serial]})
    job = _receive(f, DEVICE, CLEAN, "ben")
    f.call("ben", "POST", f"/jobs/{job}/work-orders", json={"tool_id": "BENCH-1"})
    assert f.wait_for(job, {"verified", "verification_failed"})["state"] == "verified"
    f.call("ben", "POST", f"/jobs/{job}/seal", json={"serial": serial})
    f.call("ben", "POST", f"/jobs/{job}/release")


def test_stores_pack_close_and_hand_over_and_the_owner_acknowledges_a_discrepancy(
    facility: Facility, browser: Browser
) -> None:
    f = facility
    _released(f, "SL-9201")
    f.triage.staff(f.tokens["admin"], "olive", "asset_owner", asset_owner="MAP-1")
    base = str(f.client.base_url).rstrip("/")

    page = signed_in(f, browser, "stella")
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Dispatches").click()
    page.get_by_label("Asset owner").select_option("MAP-1")
    page.get_by_role("button", name="Open dispatch").click()
    expect(page.get_by_role("status")).to_contain_text("Opened a dispatch for MAP-1")
    page.get_by_label("Device ID (scan)").fill(DEVICE)
    page.get_by_label("Seal serial").fill("SL-9201")
    for check in ("Viewed", "Verified", "Tugged"):
        page.get_by_label(check).check()
    page.get_by_role("button", name="Pack").click()
    # Not twisted: not packed, and the attempt is an exception for a supervisor.
    expect(page.get_by_role("alert")).to_contain_text("failed the check(s) twisted")
    expect(page.locator("#refused-packings")).to_contain_text(DEVICE)
    page.get_by_label("Device ID (scan)").fill(DEVICE)
    page.get_by_label("Seal serial").fill("SL-9201")
    for check in ("Viewed", "Verified", "Tugged", "Twisted"):
        page.get_by_label(check).check()
    page.get_by_role("button", name="Pack").click()
    expect(page.locator("#packed")).to_contain_text("SL-9201")
    assert violations(page) == []
    page.get_by_role("button", name="Close and sign the note").click()
    expect(page.locator("#dispatch-state")).to_have_text("closed")
    page.get_by_label("Carrier", exact=True).fill("Carrier Ltd")
    page.get_by_label("Vehicle registration").fill("AB12 CDE")
    page.get_by_label("Container or vehicle seal number").fill("CS-4471")
    page.get_by_role("button", name="Record handover").click()
    expect(page.locator("#handover")).to_contain_text("CS-4471")
    dispatch_path = page.url.removeprefix(base)
    page.context.close()

    owner = browser.new_context(viewport={"width": 1024, "height": 900}).new_page()
    owner.goto(f"{base}/login")
    owner.get_by_label("Operator id").fill("olive")
    owner.get_by_label("Password").fill(PASSWORD)
    code = authenticator(f.triage, "olive").at(time.time() + 30)
    owner.get_by_label("Code from your authenticator app").fill(code)
    owner.get_by_role("button", name="Sign in").click()
    expect(owner.get_by_role("button", name="Sign out")).to_be_visible()
    owner.get_by_role("navigation", name="Pages").get_by_role("link", name="Dispatches").click()
    owner.locator("#dispatches a").first.click()
    assert owner.url.removeprefix(base) == dispatch_path
    owner.get_by_label(f"Discrepancy for {DEVICE}").select_option("seal_damaged")
    owner.get_by_label(f"What you found on {DEVICE}").fill("the seal wire is frayed")
    assert violations(owner) == []
    owner.get_by_role("button", name="Acknowledge receipt").click()
    expect(owner.locator("#acknowledgement")).to_contain_text("recorded act")
    expect(owner.locator("#discrepancies")).to_contain_text("the seal wire is frayed")
    owner.context.close()

    supervisor = signed_in(f, browser, "sup", bench="B1")
    supervisor.goto(f"{base}/exceptions")
    open_ones = supervisor.locator("#open-exceptions")
    expect(open_ones).to_contain_text("seal damaged: the seal wire is frayed")
    expect(open_ones).to_contain_text("failed the check(s) twisted")
    supervisor.context.close()


def test_the_owner_checks_the_note_offline_and_uploads_a_signed_acknowledgement(
    facility: Facility, tmp_path: Path
) -> None:
    f = facility
    _released(f, "SL-9301")
    t = f.triage
    owner_vkey = t.run("asset-owner", "keygen", "MAP-1", "--out", str(tmp_path / "keys")).stdout
    t.run(
        "asset-owner", "update", "MAP-1", "--verifier-key", owner_vkey.strip(),
        "--token", f.tokens["admin"],
    )  # fmt: skip
    olive = t.staff(f.tokens["admin"], "olive", "asset_owner", asset_owner="MAP-1")
    f.tokens["olive"] = olive
    found = f.call(
        "stella", "POST", "/dispatches", json={"asset_owner": "MAP-1", "destination": "asset_owner"}
    )
    here = f"/dispatches/{found['id']}"
    checks = {"viewed": True, "verified": True, "tugged": True, "twisted": True}
    pack = {"device_id": DEVICE, "seal_serial": "SL-9301", "checks": checks}
    f.call("stella", "POST", f"{here}/pack", json=pack)
    closed = f.call("stella", "POST", f"{here}/close")
    handover = {"carrier": "Carrier Ltd", "vehicle": "AB12 CDE", "container_seal": "CS-1"}
    f.call("stella", "POST", f"{here}/hand-over", json=handover)
    note = tmp_path / "note.json"
    note.write_bytes(f.raw("olive", "GET", f"{here}/note.json").content)
    assert f.raw("olive", "GET", f"{here}/note.pdf").content.startswith(b"%PDF")

    checked = t.run("dispatch", "verify-note", str(note), "--key", f.vkey, "--json")
    answer: dict[str, Any] = json.loads(checked.stdout)
    assert answer["sha256"] == closed["note_digest"]
    assert answer["document"]["manifest"]["devices"][0]["seal_serial"] == "SL-9301"
    tampered = tmp_path / "tampered.json"
    body = json.loads(note.read_bytes())
    body["document"]["manifest"]["devices"][0]["seal_serial"] = "SL-0000"
    tampered.write_text(json.dumps(body))
    refused = t.run("dispatch", "verify-note", str(tampered), "--key", f.vkey, check=False)
    assert refused.returncode == 1
    assert "changed after it was signed" in refused.stdout

    ack = tmp_path / "ack.json"
    owner_key = tmp_path / "keys" / "MAP-1.key"
    t.run(
        "dispatch", "sign-acknowledgement", str(note), "--key", str(owner_key),
        "--facility-key", f.vkey, "--discrepancy", f"{DEVICE}:seal_number_mismatch:reads SL-9310",
        "--out", str(ack),
    )  # fmt: skip
    upload = f.raw(
        "stella", "POST", f"{here}/acknowledgement/received", content=ack.read_bytes(),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    done = upload.json()
    assert (done["state"], done["acknowledgement"]["how"]) == ("acknowledged", "signed")
    assert [d["kind"] for d in done["discrepancies"]] == ["seal_number_mismatch"]
    again = f.client.post(
        f"/api/v1{here}/acknowledgement",
        json={"discrepancies": []},
        headers={"Authorization": f"Bearer {olive}"},
    )
    assert again.status_code == 409, again.text
