"""The web pages in a real headless Chromium (Debian's, driven by Playwright): signing in with a
password and a TOTP code, a device from scan to release at the bench with the real agent, a
security manager reinstating a suspended tool, and each role refused another role's page.
`make screenshots` keeps a picture of each page in docs/screenshots/."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.conftest import Facility, Triage, running_facility
from tests.gbcs_logs import clean_log
from tests.people import PASSWORD
from triage.adapters.devices.simulated import DeviceSpec

DEVICE = "BC-33-AC-FF-FE-FA-80-01"
CLEAN = {"metrology_seal_intact": True, "cpa_boundary_intact": True}
# `make screenshots` sets this to docs/screenshots to refresh the pictures kept there.
SCREENSHOTS = Path(os.environ.get("TRIAGE_SCREENSHOTS") or tempfile.mkdtemp(prefix="shots-"))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def facility(triage: Triage, tmp_path: Path) -> Iterator[Facility]:
    with running_facility(triage, tmp_path, [DeviceSpec(DEVICE, "ESME")]) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


def authenticator(triage: Triage, operator_id: str) -> pyotp.TOTP:
    """The authenticator of an operator the fixtures enrolled (their password is PASSWORD):
    enrolling them anew would end the token they minted."""
    return pyotp.TOTP(triage.people[operator_id].totp_secret)


def sign_in(page: Page, base: str, operator_id: str, totp: pyotp.TOTP, bench: str = "") -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Operator id").fill(operator_id)
    page.get_by_label("Password").fill(PASSWORD)
    # The code of the next 30 s step: the current one was spent confirming the authenticator,
    # and a code is good once.
    page.get_by_label("Code from your authenticator app").fill(totp.at(time.time() + 30))
    page.get_by_label("Bench you are working at").fill(bench)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=f"Hello, {operator_id}")).to_be_visible()


def signed_in(f: Facility, browser: Browser, who: str, bench: str = "") -> Page:
    """A new browser page of ``who`` (at ``bench``, if given), signed in on the facility."""
    page = browser.new_context(viewport={"width": 1024, "height": 900}).new_page()
    sign_in(page, str(f.client.base_url).rstrip("/"), who, authenticator(f.triage, who), bench)
    return page


def consign(f: Facility, device: str, device_type: str = "ESME") -> None:
    """A device (an ESME unless said) in a consignment from MAP-1: on its way to the bench."""
    manifest = (
        "device_id,device_type,manufacturer,model,firmware_version,inventory_status,asset_owner\n"
        f"{device},{device_type},Acme,X1,1.0,Decommissioned,MAP-1\n"
    )
    f.call(
        "sup",
        "POST",
        "/consignments",
        params={"reference": f"C-{device[-5:]}", "asset_owner": "MAP-1"},
        content=manifest,
        headers={"Content-Type": "text/csv"},
    )


def read_the_log_at_the_bench(page: Page, tool_id: str) -> str:
    """On a job's page: ask the tool to read the device's security log, follow the page until
    the tool has, and return the log's SHA-256 as the page shows it."""
    page.get_by_role("button", name=f"Ask {tool_id} to read the security log").click()
    # The page says it waits for the tool, unless the tool was quicker than the page.
    waiting, source = page.locator("#log-waiting"), page.locator("#log-source")
    expect(waiting.or_(source).first).to_be_visible()
    if not source.is_visible():
        expect(waiting).to_contain_text("waiting for the tool")
    deadline = time.monotonic() + 30
    while not source.is_visible():
        assert time.monotonic() < deadline, "the tool did not read the log"
        page.wait_for_timeout(200)
        page.get_by_role("link", name="Check again").click()
    return source.locator("code").inner_text()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_a_device_from_scan_to_release_at_the_bench(
    facility: Facility, browser: Browser, tmp_path: Path
) -> None:
    f = facility
    totp = authenticator(f.triage, "ben")
    f.call("stella", "POST", "/seals/batches", json={
        "supplier": "Acme Seals", "delivery_reference": "DN-W", "seal_class": "H",
        "store": "STORE-A", "first": "SL-9001", "last": "SL-9010",
    })  # fmt: skip
    issue = {"operator_id": "ben", "first": "SL-9001", "last": "SL-9002"}
    f.call("stella", "POST", "/seals/issue", json=issue)
    consign(f, DEVICE)
    base = str(f.client.base_url).rstrip("/")
    context = browser.new_context(viewport={"width": 1024, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/login")
    shot(page, "login")
    sign_in(page, base, "ben", totp, bench="B1")
    shot(page, "home-bench-operator")
    page.get_by_role("link", name="Bench").first.click()
    # A barcode scanner types the Device ID and Enter.
    scan = page.get_by_label("Device ID")
    expect(scan).to_be_focused()
    # A device on no manifest: refused beside the field, what was scanned kept, focus kept.
    scan.type("00-11-22-33-44-55-66-77")
    scan.press("Enter")
    expect(page.locator("#device_id-error")).to_be_visible()
    scan = page.get_by_label("Device ID")
    expect(scan).to_have_value("00-11-22-33-44-55-66-77")
    expect(scan).to_be_focused()
    scan.fill("")
    scan.type(DEVICE.lower().replace("-", ""))
    scan.press("Enter")
    expect(page.locator("#state")).to_contain_text("received")
    read_the_log_at_the_bench(page, "BENCH-1")
    page.get_by_role("group", name="metrology").get_by_label("Yes").check()
    page.get_by_role("group", name="CPA boundary").get_by_label("Yes").check()
    shot(page, "bench-inspection")
    page.get_by_role("button", name="Record the inspection").click()
    expect(page.locator("#state")).to_contain_text("eligible")
    # Every act says what it did.
    expect(page.get_by_role("status").filter(has_text="Inspection recorded")).to_contain_text(
        "the policy decided eligible"
    )
    expect(page.get_by_role("heading", name="Decision: eligible")).to_be_visible()
    # A photo from the tablet's camera (here: a picture of the page itself).
    photo = tmp_path / "photo.png"
    photo.write_bytes(page.screenshot())
    page.get_by_label("Add a photo").set_input_files(str(photo))
    page.get_by_role("button", name="Add", exact=True).click()
    picture = page.get_by_role("img", name=f"Photo 1 of device {DEVICE}")
    expect(picture).to_be_visible()
    # The picture itself loads (not a broken image): it has pixels once the browser has it.
    picture.evaluate("img => img.decode()")
    assert picture.evaluate("img => img.naturalWidth") > 0
    page.get_by_role("button", name="Start the reset").click()
    # The agent resets the device; the page follows until it is verified.
    expect(page.locator("#state")).to_contain_text("verified", timeout=30_000)
    seal = page.get_by_label("Seal serial")
    seal.fill("SL-9005")  # in the store, not issued to ben: refused, and says why
    page.get_by_role("button", name="Record the seal").click()
    # On the same page, beside the field, with the serial as scanned still in it.
    expect(page.locator("#serial-error")).to_contain_text("stores must issue it to you")
    expect(page.get_by_label("Seal serial")).to_have_value("SL-9005")
    expect(page.get_by_label("Seal serial")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#state")).to_contain_text("verified")
    page.get_by_label("Seal serial").fill("SL-9001")
    page.get_by_role("button", name="Record the seal").click()
    expect(page.locator("#state")).to_contain_text("sealed")
    expect(page.get_by_role("status").filter(has_text="Seal SL-9001 recorded")).to_be_visible()
    expect(page.locator("#serial-error")).to_have_count(0)
    page.get_by_role("button", name="Release the device").click()
    expect(page.locator("#state")).to_contain_text("released")
    expect(page.get_by_role("status").filter(has_text=f"Device {DEVICE} released")).to_be_visible()
    # The message is shown once: a reload no longer shows it.
    page.reload()
    expect(page.get_by_text(f"Device {DEVICE} released.")).to_have_count(0)
    expect(page.get_by_text("device.released")).to_be_visible()
    shot(page, "bench-released")
    # The certificate and the receipt come from the released page, and the receipt verifies
    # offline with nothing but the facility's public key.
    with page.expect_download() as got:
        page.get_by_role("link", name="Download the triage certificate (PDF)").click()
    certificate = tmp_path / "certificate.pdf"
    got.value.save_as(certificate)
    assert certificate.read_bytes().startswith(b"%PDF")
    with page.expect_download() as got:
        page.get_by_role("link", name="Download the receipt").click()
    receipt = tmp_path / "receipt.json"
    got.value.save_as(receipt)
    checked = f.triage.run("verify", str(receipt), "--key", f.vkey).stdout
    assert checked.startswith("ok: ") and f"about device {DEVICE}" in checked
    # Signing out ends the session: the page asks to sign in again.
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{base}/bench")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    context.close()


def test_a_security_manager_reinstates_a_suspended_tool(
    facility: Facility, browser: Browser
) -> None:
    f = facility
    admin = f.tokens["admin"]
    totp = authenticator(f.triage, "sam")
    f.triage.run(
        "security", "suspend-tool", "BENCH-1", "--reason", "lost on the way back from repair",
        "--token", admin,
    )  # fmt: skip
    base = str(f.client.base_url).rstrip("/")
    context = browser.new_context(viewport={"width": 1024, "height": 800})
    page = context.new_page()
    sign_in(page, base, "sam", totp)
    page.get_by_role("link", name="Tools and alerts").first.click()
    row = page.locator("#tool-BENCH-1")
    expect(row).to_contain_text("suspended")
    shot(page, "security-tools")
    row.get_by_label("Reason").fill("found and checked by the security office")
    row.get_by_role("button", name="Reinstate").click()
    expect(page.locator("#tool-BENCH-1")).to_contain_text("active")
    review = f.call("admin", "GET", "/access-review")
    assert [(t["id"], t["status"]) for t in review["tools"]] == [("BENCH-1", "active")]
    # The people page: roles, second factor, locks, every active token with its revoke form.
    page.get_by_role("link", name="Access review").first.click()
    expect(page.get_by_role("heading", name="Tokens outstanding")).to_be_visible()
    assert page.locator("tr[id^=token-]").count() == len(f.tokens)
    shot(page, "security-people")
    context.close()


def test_each_role_is_refused_another_roles_page(facility: Facility, browser: Browser) -> None:
    f = facility
    base = str(f.client.base_url).rstrip("/")
    for operator_id, refused, for_whom in (
        ("ben", "/security/tools", "security manager"),
        ("sam", "/bench", "bench operator"),
    ):
        totp = authenticator(f.triage, operator_id)
        context = browser.new_context()
        page = context.new_page()
        sign_in(page, base, operator_id, totp, bench="B1" if operator_id == "ben" else "")
        response = page.goto(f"{base}{refused}")
        assert response is not None and response.status == 403
        expect(page.get_by_role("alert")).to_contain_text(f"This page is for: {for_whom}")
        # Nor is the page in the menu.
        menu = page.get_by_role("navigation", name="Pages")
        expect(
            menu.get_by_role("link", name="Tools and alerts" if operator_id == "ben" else "Bench")
        ).to_have_count(0)
        if operator_id == "ben":
            shot(page, "refused")
        context.close()
    # Without a session every page sends you to sign in; a forged form is refused.
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/security/tools")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    context.close()


def _receive(f: Facility, device: str, evidence: Mapping[str, object], inspector: str) -> str:
    consign(f, device)
    job = f.call("ben", "POST", "/devices/scan", json={"device_id": device})["job"]["id"]
    # The supplier's 6.13 response for the device, uploaded by a supervisor: a clean log.
    upload = {"reference": f"DCC-{device[-5:]}", "gbcs_hex": clean_log(device).hex()}
    f.call("sup", "POST", f"/jobs/{job}/security-log", json=upload)
    f.call(inspector, "POST", f"/jobs/{job}/inspection", json=evidence)
    return str(job)


def test_a_supervisor_overrides_a_decision_awaiting_review(
    facility: Facility, browser: Browser
) -> None:
    f = facility
    job = _receive(f, DEVICE, {**CLEAN, "outer_covers_opened": ["terminal"]}, "sup")
    assert f.job(job)["state"] == "awaiting_review"
    totp = authenticator(f.triage, "sup2")
    base = str(f.client.base_url).rstrip("/")
    context = browser.new_context(viewport={"width": 1024, "height": 900})
    page = context.new_page()
    sign_in(page, base, "sup2", totp, bench="B1")
    page.get_by_role("link", name="Reviews").first.click()
    card = page.locator(f"#job-{DEVICE}")
    card.get_by_label("Decision").select_option("eligible")
    card.get_by_label("Justification").fill("short")
    shot(page, "supervisor-review")
    # The browser insists on 20 characters before it sends; the service would too.
    card.get_by_label("Justification").fill("the supplier's job J-77 opened the terminal cover")
    card.get_by_role("button", name="Decide").click()
    expect(page.get_by_text("None waiting.")).to_be_visible()
    assert f.job(job)["state"] == "eligible"
    context.close()


def test_a_stocktake_by_scanning_finds_the_one_missing_seal(
    facility: Facility, browser: Browser
) -> None:
    f = facility
    totp = authenticator(f.triage, "stella")
    base = str(f.client.base_url).rstrip("/")
    context = browser.new_context(viewport={"width": 1024, "height": 900})
    page = context.new_page()
    sign_in(page, base, "stella", totp)
    page.get_by_role("link", name="Seals").first.click()
    # The delivery comes in: five seals, SL-7001 to SL-7005.
    page.get_by_label("Supplier", exact=True).fill("Acme Seals")
    page.get_by_label("Delivery reference").fill("DN-S")
    page.get_by_label("Class", exact=True).select_option("S")
    page.get_by_label("Store location").fill("STORE-A")
    page.get_by_label("First serial of the range").fill("SL-7001")
    page.get_by_label("Last serial of the range").fill("SL-7005")
    page.get_by_role("button", name="Receive into stock").click()
    expect(page.get_by_role("cell", name="Acme Seals (DN-S)")).to_be_visible()
    page.get_by_role("link", name="Stocktake").click()
    page.get_by_label("Store").fill("STORE-A")
    box = page.get_by_label("Scan every seal on the shelf")
    for serial in ("SL-7001", "SL-7002", "SL-7004", "SL-7003"):  # SL-7005 is not there
        box.type(serial)
        box.press("Enter")
    page.get_by_role("button", name="Record the stocktake").click()
    expect(page.locator("#stocktake-result")).to_contain_text("4 counted, 5 expected")
    expect(page.locator("#missing li")).to_have_text(["SL-7005"])
    shot(page, "stores-stocktake")
    page.get_by_role("link", name="Seals").first.click()
    expect(page.locator("#discrepancies")).to_contain_text("SL-7005")
    context.close()


def test_an_auditor_verifies_a_receipt_by_upload(
    facility: Facility, browser: Browser, tmp_path: Path
) -> None:
    f = facility
    _receive(f, DEVICE, CLEAN, "ben")
    auditor = f.triage.staff(f.tokens["admin"], "audrey", "auditor")
    receipt = f.client.get(
        f"/api/v1/devices/{DEVICE}/receipt", headers={"Authorization": f"Bearer {auditor}"}
    ).text
    good = tmp_path / "receipt.json"
    good.write_text(receipt)
    forged = tmp_path / "forged.json"
    forged.write_text(receipt.replace("Decommissioned", "Decomissioned"))
    totp = authenticator(f.triage, "audrey")
    base = str(f.client.base_url).rstrip("/")
    context = browser.new_context(viewport={"width": 1024, "height": 900})
    page = context.new_page()
    sign_in(page, base, "audrey", totp)
    page.get_by_role("link", name="Ledger and receipts").first.click()
    expect(page.locator("#last-verification")).to_contain_text("none recorded yet")
    page.get_by_label("Receipt file").set_input_files(str(good))
    page.get_by_role("button", name="Check it against the verifier key").click()
    expect(page.locator("#receipt-ok")).to_contain_text(f"about device {DEVICE}")
    shot(page, "auditor-receipt")
    # The device's history, each entry with its inclusion proof.
    page.goto(f"{base}/auditor/device")
    page.get_by_label("Device ID").fill(DEVICE)
    page.get_by_role("button", name="Show its entries").click()
    expect(page.get_by_text("device.received")).to_be_visible()
    expect(page.locator(".history details summary").first).to_contain_text("Inclusion proof")
    page.goto(f"{base}/auditor")
    page.get_by_label("Receipt file").set_input_files(str(forged))
    page.get_by_role("button", name="Check it against the verifier key").click()
    expect(page.get_by_role("alert")).to_contain_text("Does not verify")
    context.close()
