"""A device's page in a real Chromium: a supervisor finds a device damaged, quarantines it and
destroys it with a photo of it on the destruction form, a second person witnesses it, and the
certificate of destruction carries the NIST SP 800-88 sec. 4.8 fields; a released device's
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
    # Destroyed on its own form: method, site, day and a photo of the destruction.
    page.get_by_role("link", name="Destroy the device, with its evidence").click()
    expect(page.get_by_role("heading", name=f"Destroy device {DESTROYED}")).to_be_visible()
    assert violations(page) == []
    page.get_by_label("Method").select_option("shred")
    page.get_by_label("Site or contractor").fill("Shredding bay 2, Unit 4 Example Park")
    page.get_by_label("Contact at the site").fill("+44 20 7946 0000")
    page.get_by_label("Reference").fill("WEEE-2026-0042")
    photo = tmp_path / "shredded.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + b"the shredder's output" * 50)
    page.get_by_label("Photo or video of the destruction").set_input_files(photo)
    shot(page, "destruction-form")
    page.get_by_role("button", name="Record the destruction").click()
    expect(page.locator("#state")).to_contain_text("destroyed")
    expect(page.get_by_role("status").filter(has_text="awaits a witness")).to_be_visible()
    # No triage certificate for a destroyed device; no acts left.
    expect(page.get_by_role("link", name="Triage certificate")).to_have_count(0)
    expect(page.locator("#nothing-next")).to_be_visible()
    shot(page, "device-destroyed")
    assert violations(page) == []
    # No certificate of destruction until a second person has witnessed it; the supervisor
    # who destroyed it is not offered the witness's form.
    waiting = page.request.get(f"{base}/devices/{DESTROYED}/certificate-of-destruction")
    assert waiting.status == 409 and "awaiting a witness" in waiting.text()
    page.goto(f"{base}/disposals")
    expect(page.locator("#awaiting-1")).to_contain_text("another person must witness it")
    witness = signed_in(f, browser, "stella")
    witness.goto(f"{base}/disposals")
    expect(witness.locator("#awaiting-1")).to_contain_text(DESTROYED)
    assert violations(witness) == []
    shot(witness, "destructions-awaiting-a-witness")
    witness.get_by_label("What you saw").fill("saw it go through the shredder")
    witness.get_by_role("button", name="Witness").click()
    expect(witness.get_by_role("status").filter(has_text="You witnessed")).to_be_visible()
    expect(witness.locator("#none-awaiting")).to_be_visible()
    witness.context.close()
    page.goto(f"{base}/devices/{DESTROYED}")
    with page.expect_download() as got:
        page.get_by_role("link", name="Certificate of destruction (PDF)").click()
    pdf = tmp_path / "destruction.pdf"
    got.value.save_as(pdf)
    assert got.value.suggested_filename == f"certificate-of-destruction-{DESTROYED}.pdf"
    text = _pdf_text(pdf)
    # The NIST SP 800-88 Rev.1 sec. 4.8 fields, each as recorded.
    for fact in (
        "Certificate of destruction",
        "NIST SP 800-88 Rev.1, section 4.8",
        f"Serial number {DESTROYED}",
        "Manufacturer Acme",
        "Media type Electricity smart meter (ESME)",
        "Media source MAP-1",
        "Confidentiality moderate",
        "Sanitisation The whole device",
        "Method used Shred, NIST SP 800-88 category DESTROY",
        "Tool used industrial shredder",
        "Verification visual inspection",
        "Destination shredded material to a WEEE treatment facility",
        "Performed by operator sup (supervisor)",
        "Location Shredding bay 2, Unit 4 Example Park",
        "Contact +44 20 7946 0000",
        "Witness operator stella",
        "saw it go through the shredder",
        "Evidence sha256",
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
