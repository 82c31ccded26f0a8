"""A device's page in a real Chromium: a supervisor finds a device damaged, quarantines it and
destroys it from its page, and downloads its certificate of destruction; a released device's
page offers its triage certificate, receipt and bag label."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from pypdf import PdfReader

from tests.e2e.conftest import Facility, Triage, running_facility
from tests.e2e.test_web import CLEAN, _receive, browser, shot, signed_in
from tests.e2e.test_web_accessibility import violations
from triage.adapters.devices.simulated import DeviceSpec

__all__ = ["browser"]  # the module's browser fixture, shared with test_web.py

DESTROYED = "BC-33-AC-FF-FE-FA-80-21"  # found damaged, quarantined, destroyed
RELEASED = "BC-33-AC-FF-FE-FA-80-22"  # reset, sealed and released


@pytest.fixture
def facility(triage: Triage, tmp_path: Path) -> Iterator[Facility]:
    devices = [DeviceSpec(DESTROYED, "ESME"), DeviceSpec(RELEASED, "ESME")]
    with running_facility(triage, tmp_path, devices) as running:
        yield running


def _pdf_text(path: Path) -> str:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_a_supervisor_destroys_a_device_and_downloads_its_certificate_of_destruction(
    facility: Facility, browser: Browser, tmp_path: Path
) -> None:
    f = facility
    _receive(f, DESTROYED, CLEAN, "ben")
    base = str(f.client.base_url).rstrip("/")
    page = signed_in(f, browser, "sup", bench="B1")
    page.goto(f"{base}/devices/{DESTROYED}")
    expect(page.locator("#state")).to_contain_text("eligible")
    expect(page.get_by_text("device.inspected")).to_be_visible()
    # Not destroyed yet: no certificate of destruction is offered, and none is given.
    expect(page.get_by_role("link", name="Certificate of destruction")).to_have_count(0)
    refused = page.request.get(f"{base}/devices/{DESTROYED}/certificate-of-destruction")
    assert refused.status == 409 and "was not destroyed" in refused.text()
    # Too short a reason: refused on the same page, beside the form, what was typed kept.
    page.get_by_label("Quarantine: why it is set aside").fill("cracked")
    page.get_by_label("Quarantine: why it is set aside").evaluate(
        "e => e.removeAttribute('minlength')"
    )
    page.get_by_role("button", name="Quarantine the device").click()
    expect(page.locator("#quarantine").get_by_role("alert")).to_be_visible()
    expect(page.get_by_label("Quarantine: why it is set aside")).to_have_value("cracked")
    assert violations(page) == []
    page.get_by_label("Quarantine: why it is set aside").fill("case cracked, terminal cover burnt")
    page.get_by_role("button", name="Quarantine the device").click()
    expect(page.get_by_role("status").filter(has_text="quarantined")).to_be_visible()
    expect(page.locator("#state")).to_contain_text("quarantined")
    page.get_by_label("Disposal").select_option("destroy")
    page.get_by_label("Reference").fill("WEEE-2026-0042")
    page.get_by_role("button", name="Dispose of the device").click()
    expect(page.locator("#state")).to_contain_text("destroyed")
    expect(page.get_by_role("status").filter(has_text=f"{DESTROYED} destroyed")).to_be_visible()
    # No triage certificate for a destroyed device; no acts left.
    expect(page.get_by_role("link", name="Triage certificate")).to_have_count(0)
    expect(page.locator("#nothing-next")).to_be_visible()
    shot(page, "device-destroyed")
    assert violations(page) == []
    with page.expect_download() as got:
        page.get_by_role("link", name="Certificate of destruction (PDF)").click()
    pdf = tmp_path / "destruction.pdf"
    got.value.save_as(pdf)
    assert got.value.suggested_filename == f"certificate-of-destruction-{DESTROYED}.pdf"
    text = _pdf_text(pdf)
    for fact in (
        "Certificate of destruction",
        DESTROYED,
        "Acme",
        "operator sup",
        "securely destroyed",
        "WEEE-2026-0042",
        "case cracked, terminal cover burnt",
        "(device.destroyed)",
    ):
        assert fact in text, fact
    # The receipt it names verifies offline, and its digest is the one printed.
    with page.expect_download() as got:
        page.get_by_role("link", name=re.compile("^Receipt")).click()
    receipt = tmp_path / "receipt.json"
    got.value.save_as(receipt)
    checked = f.triage.run("verify", str(receipt), "--key", f.vkey).stdout
    assert f"about device {DESTROYED}" in checked
    page.context.close()


def test_a_released_devices_page_offers_its_certificate_receipt_and_bag_label(
    facility: Facility, browser: Browser, tmp_path: Path
) -> None:
    f = facility
    f.call("stella", "POST", "/seals/batches", json={
        "supplier": "Acme Seals", "delivery_reference": "DN-D", "seal_class": "H",
        "store": "STORE-A", "first": "SL-9101", "last": "SL-9102",
    })  # fmt: skip
    issue = {"operator_id": "ben", "first": "SL-9101", "last": "SL-9101"}
    f.call("stella", "POST", "/seals/issue", json=issue)
    job = _receive(f, RELEASED, CLEAN, "ben")
    f.call("ben", "POST", f"/jobs/{job}/work-orders", json={"tool_id": "BENCH-1"})
    assert f.wait_for(job, {"verified", "verification_failed"})["state"] == "verified"
    f.call("ben", "POST", f"/jobs/{job}/seal", json={"serial": "SL-9101"})
    f.call("ben", "POST", f"/jobs/{job}/release")
    base = str(f.client.base_url).rstrip("/")
    page = signed_in(f, browser, "ben", bench="B1")
    page.goto(f"{base}/bench/jobs/{job}")
    page.get_by_role("link", name="The device's page").click()
    expect(page.locator("#state")).to_contain_text("released")
    expect(page.get_by_role("link", name="Certificate of destruction")).to_have_count(0)
    with page.expect_download() as got:
        page.get_by_role("link", name="Triage certificate (PDF)").click()
    certificate = tmp_path / "certificate.pdf"
    got.value.save_as(certificate)
    text = _pdf_text(certificate)
    # The certificate lists each item of the reset profile as cleared or kept.
    assert re.search(r"Cleared \(\d+\) [a-z_, ]*\bmpxn\b", text), text
    assert re.search(r"Kept \(\d+\) [a-z_, ]*\bsecurity_log\b", text), text
    with page.expect_download() as got:
        page.get_by_role("link", name=re.compile("^Receipt")).click()
    assert got.value.suggested_filename == f"receipt-{RELEASED}.json"
    with page.expect_download() as got:
        page.get_by_role("link", name="Bag label (PDF)").click()
    label = tmp_path / "label.pdf"
    got.value.save_as(label)
    assert RELEASED in _pdf_text(label) and "SL-9101" in _pdf_text(label)
    shot(page, "device-released")
    page.context.close()
