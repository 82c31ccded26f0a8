"""Intake and the auditor's verification in the real headless Chromium: a supervisor uploads a
manifest with a bad row, sees the row's error by its line in the preview, skips it, imports,
follows the consignment's expected / arrived / missing devices and closes it; an unexpected
device is resolved from the exceptions queue; the auditor verifies the ledger now and reads
the result."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, FilePayload, expect

from tests.e2e.conftest import Facility, Triage, running_facility
from tests.e2e.test_web import browser, signed_in
from tests.e2e.test_web_accessibility import violations

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with test_web

GOOD_1 = "BC-33-AC-FF-FE-FA-81-01"
GOOD_2 = "BC-33-AC-FF-FE-FA-81-02"
STRANGER = "BC-33-AC-FF-FE-FA-81-09"
HEADER = "device_id,device_type,manufacturer,model,firmware_version,inventory_status,asset_owner\n"


@pytest.fixture
def facility(triage: Triage, tmp_path: Path) -> Iterator[Facility]:
    with running_facility(triage, tmp_path, []) as running:
        triage.register_owner(running.tokens["admin"], "MAP-2")
        yield running


def test_a_supervisor_imports_a_manifest_skipping_its_bad_row_then_closes_it(
    facility: Facility, browser: Browser
) -> None:
    f = facility
    manifest = (
        HEADER
        + f"{GOOD_1},ESME,Acme,X1,1.0,Decommissioned,MAP-2\n"
        + "not-a-device,ESME,Acme,X1,1.0,Decommissioned,MAP-2\n"
        + f"{GOOD_2},ESME,Acme,X1,1.0,Decommissioned,MAP-2\n"
    )
    # The API previews the same way (dry_run), recording nothing.
    previewed = f.call(
        "sup",
        "POST",
        "/consignments",
        params={"reference": "CN-W/1", "asset_owner": "MAP-2", "dry_run": "true"},
        content=manifest,
        headers={"Content-Type": "text/csv"},
    )
    assert (previewed["consignment_id"], previewed["dry_run"]) == (None, True)
    assert [r["line"] for r in previewed["accepted"]] == [2, 4]
    assert [(r["line"], r["field"]) for r in previewed["rejected"]] == [(3, "device_id")]
    page = signed_in(f, browser, "sup", bench="B1")
    page.get_by_role("link", name="Consignments").first.click()
    page.get_by_label("Consignment reference").fill("CN-W/1")
    page.get_by_label("Asset owner", exact=True).fill("MAP-2")
    upload: FilePayload = {"name": "cn-w1.csv", "mimeType": "text/csv", "buffer": manifest.encode()}
    page.get_by_label("Manifest file (CSV or JSON)").set_input_files(files=[upload])
    page.get_by_role("button", name="Preview").click()

    # The preview: nothing recorded yet, the bad row by its line, the good rows listed.
    expect(page.get_by_role("status").first).to_contain_text("Nothing is recorded yet")
    bad = page.locator("#invalid-rows tbody tr")
    expect(bad).to_have_count(1)
    expect(bad.first).to_contain_text("3")
    expect(bad.first).to_contain_text("device_id")
    expect(page.locator("#good-rows tbody tr")).to_have_count(2)
    assert f.call("sup", "GET", "/consignments")["total"] == 0
    assert violations(page) == []
    # Importing without skipping the bad row is refused by the server too (past the browser's
    # own check): the preview comes back with why, and nothing is recorded.
    page.evaluate("document.querySelector('[name=skip_invalid]').removeAttribute('required')")
    page.get_by_role("button", name="Import 2 device(s)").click()
    expect(page.get_by_role("alert")).to_contain_text("1 bad row(s), nothing imported")
    expect(page.locator("#invalid-rows tbody tr")).to_have_count(1)
    assert f.call("sup", "GET", "/consignments")["total"] == 0
    page.get_by_label("Skip the 1 invalid row(s)").check()
    page.get_by_role("button", name="Import 2 device(s)").click()

    expect(page.get_by_role("heading", name="Consignment CN-W/1")).to_be_visible()
    expect(page.locator(".done-message")).to_contain_text(
        "Imported consignment CN-W/1 of MAP-2: 2 device(s) expected; 1 invalid row(s) skipped"
    )
    expect(page.locator("#expected-count")).to_have_text("2")
    f.call("ben", "POST", "/devices/scan", json={"device_id": GOOD_1})
    page.reload()
    expect(page.locator("#arrived-count")).to_have_text("1")
    expect(page.locator("#arrived").get_by_role("link", name=GOOD_1)).to_have_attribute(
        "href", f"/devices/{GOOD_1}"
    )
    expect(page.locator("#missing")).to_contain_text(GOOD_2)
    page.get_by_role("button", name="Close consignment CN-W/1").click()

    expect(page.locator(".done-message")).to_contain_text(
        "Closed consignment CN-W/1: 1 of 2 arrived, 1 never arrived"
    )
    expect(page.locator("#consignment-status")).to_contain_text("closed")
    expect(page.get_by_role("heading", name="Never arrived (1)")).to_be_visible()
    page.get_by_role("link", name="All consignments").click()
    row = page.locator("#consignments tbody tr", has_text="CN-W/1")
    expect(row).to_contain_text("MAP-2")
    expect(row).to_contain_text("closed")
    [closed] = f.call("sup", "GET", "/consignments")["items"]
    assert (closed["reference"], closed["status"], closed["arrived"]) == ("CN-W/1", "closed", 1)
    # The API closes by the reference too.
    again = HEADER + f"{GOOD_2},ESME,Acme,X1,1.0,Decommissioned,MAP-2\n"
    f.call("sup", "POST", "/consignments", params={"reference": "CN-A2", "asset_owner": "MAP-2"},
           content=again, headers={"Content-Type": "text/csv"})  # fmt: skip
    shut = f.call("sup", "POST", "/consignments/CN-A2/close")
    assert (shut["reference"], shut["never_arrived"]) == ("CN-A2", [GOOD_2])

    # A device nobody expects: an exception, resolved from the queue.
    f.call("ben", "POST", "/devices/scan", json={"device_id": STRANGER})
    page.get_by_role("link", name="Exceptions").first.click()
    waiting = page.locator("#open-exceptions tbody tr", has_text=STRANGER)
    expect(waiting).to_contain_text("unexpected device")
    waiting.get_by_label("What was done").fill("Returned to MAP-2 unopened, ref R-77")
    waiting.get_by_role("button", name="Resolve").click()

    expect(page.locator(".done-message")).to_contain_text("Exception resolved")
    expect(page.locator("#open-exceptions")).to_have_count(0)
    resolved = page.locator("#resolved-exceptions tbody tr", has_text=STRANGER)
    expect(resolved).to_contain_text("Returned to MAP-2 unopened, ref R-77")
    expect(resolved).to_contain_text("sup")
    page.context.close()


def test_the_auditor_verifies_the_ledger_now_and_reads_the_result(
    facility: Facility, browser: Browser
) -> None:
    f = facility
    f.tokens["audrey"] = f.triage.staff(f.tokens["admin"], "audrey", "auditor")
    page = signed_in(f, browser, "audrey")
    page.get_by_role("link", name="Ledger and receipts").first.click()
    expect(page.locator("#last-verification")).to_contain_text("none recorded yet")
    page.get_by_role("button", name="Verify the whole ledger now").click()

    # The page follows the run (it refreshes itself while it runs) until the result is in.
    result = page.locator("#verify-result")
    expect(result).to_contain_text("is done", timeout=60_000)
    expect(result).to_contain_text("started by audrey")
    expect(result.get_by_role("listitem")).to_have_count(2)
    expect(result.get_by_role("listitem").first).to_contain_text("ok")
    expect(page.locator("#last-verification")).to_contain_text("ok")
    expect(page.locator("#last-verification")).to_contain_text("by audrey")
    expect(page.locator("#last-replay")).to_contain_text("the register matches the ledger")
    assert violations(page) == []
    report = page.locator("#last-verification").get_by_role("link", name="report")
    with page.expect_download() as downloading:
        report.click()
    assert b'"ok": true' in Path(downloading.value.path()).read_bytes()
    page.context.close()
    # The API's "verify now" (an auditor's, as the page's), at once.
    made = f.call("audrey", "POST", "/assurance/verify-now")["items"]
    assert [(e["name"], e["summary"]["ok"]) for e in made] == [
        ("ledger_verification", True),
        ("replay_check", True),
    ]
