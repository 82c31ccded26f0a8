"""The device's own security log on the bench's inspection page, in a real headless Chromium
with the real agent and a simulated device: the tool reads the log when asked and the page shows
it with the device's times; typing it by hand is a recorded fallback that goes to review; a
supplier's job entered on the form explains the cover it opened."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Facility, Triage, running_facility
from tests.e2e.test_web import (
    authenticator,
    browser,
    consign,
    read_the_log_at_the_bench,
    shot,
    sign_in,
)
from tests.e2e.test_web_accessibility import violations
from tests.gbcs_logs import error_answer
from triage.adapters.devices.scenarios import DEFAULT_AT, clean, failing_battery, supplier_job

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with test_web

BATTERY = "BC-33-AC-FF-FE-FA-81-01"  # low battery 2 hours before a tamper alert
SUPPLIER = "BC-33-AC-FF-FE-FA-81-02"  # a supplier's job opened the terminal cover
SILENT = "BC-33-AC-FF-FE-FA-81-03"  # its log cannot be read at the bench: typed by hand
DISPLAY = "BC-33-AC-FF-FE-FA-81-04"  # an in-home display (Type 2): it keeps no security log
GAP = timedelta(hours=2)


def _z(at: object) -> str:
    return f"{at:%Y-%m-%dT%H:%M:%SZ}"


@pytest.fixture
def facility(triage: Triage, tmp_path: Path) -> Iterator[Facility]:
    fleet = [failing_battery(BATTERY, gap=GAP), supplier_job(SUPPLIER), clean(SILENT)]
    with running_facility(triage, tmp_path, fleet) as running:
        yield running


def _at_the_bench(
    f: Facility, browser: Browser, device: str, device_type: str = "ESME"
) -> tuple[Page, str]:
    """Ben signed in at bench B1 with ``device`` scanned: its job page, and the job's id."""
    consign(f, device, device_type)
    context = browser.new_context(viewport={"width": 1024, "height": 1200})
    page = context.new_page()
    base = str(f.client.base_url).rstrip("/")
    sign_in(page, base, "ben", authenticator(f.triage, "ben"), bench="B1")
    page.goto(f"{base}/bench")
    scan = page.get_by_label("Device ID")
    scan.fill(device)
    scan.press("Enter")
    expect(page.locator("#state")).to_contain_text("received")
    return page, page.url.rsplit("/", 1)[-1]


def _physical_checks_pass(page: Page) -> None:
    page.get_by_role("group", name="metrology").get_by_label("Yes").check()
    page.get_by_role("group", name="CPA boundary").get_by_label("Yes").check()


def test_the_page_shows_the_log_the_tool_read_with_the_devices_times(
    facility: Facility, browser: Browser
) -> None:
    f = facility
    page, job = _at_the_bench(f, browser, BATTERY)
    expect(page.locator("#no-log")).to_contain_text("No security log read yet")
    assert violations(page) == []
    digest = read_the_log_at_the_bench(page, "BENCH-1")
    tamper = page.locator("table.log", has_text="Tamper alerts")
    expect(tamper.locator("tbody tr")).to_have_text(
        [f"0x8F3Ftamper detect{_z(DEFAULT_AT)}"], use_inner_text=False
    )
    battery = page.locator("table.log", has_text="Battery and power events")
    expect(battery.locator("tbody tr")).to_have_text(
        [f"0x8F1Flow battery capacity{_z(DEFAULT_AT - GAP)}"], use_inner_text=False
    )
    expect(page.locator("#typed-log")).to_have_count(0)  # typing is only for an unreadable log
    assert violations(page) == []
    shot(page, "bench-security-log")
    _physical_checks_pass(page)
    page.get_by_role("button", name="Record the inspection").click()
    expect(page.locator("#state")).to_contain_text("eligible")
    # The decision cites the device's own times, not the time of the inspection.
    expect(page.locator("#reasons")).to_contain_text(_z(DEFAULT_AT))
    expect(page.locator("#reasons")).to_contain_text(_z(DEFAULT_AT - GAP))
    expect(page.locator("#decision-log")).to_contain_text("tool")
    expect(page.locator("#decision-log")).to_contain_text(digest)
    shot(page, "bench-decision-with-log")
    # The raw log the decision used is there to download, and its digest is the decision's.
    base = str(f.client.base_url).rstrip("/")
    raw = page.request.get(f"{base}/jobs/{job}/security-log/{digest}/raw")
    assert raw.status == 200
    assert hashlib.sha256(raw.body()).hexdigest() == digest
    page.context.close()
    # The auditor's device page links it too.
    f.triage.staff(f.tokens["admin"], "audrey", "auditor")
    context = browser.new_context(viewport={"width": 1024, "height": 900})
    page = context.new_page()
    sign_in(page, base, "audrey", authenticator(f.triage, "audrey"))
    page.goto(f"{base}/auditor/device")
    page.get_by_label("Device ID").fill(BATTERY)
    page.get_by_role("button", name="Show its entries").click()
    link = page.get_by_role("link", name="Raw security log")
    expect(link).to_have_count(1)
    href = link.get_attribute("href")
    assert href == f"/jobs/{job}/security-log/{digest}/raw"
    fetched = page.request.get(f"{base}{href}")
    assert hashlib.sha256(fetched.body()).hexdigest() == digest
    context.close()


def test_a_typed_log_needs_its_reason_and_times_and_goes_to_review_marked_typed(
    facility: Facility, browser: Browser
) -> None:
    f = facility
    page, job = _at_the_bench(f, browser, SILENT)
    # The supplier's read of the log came back as an error answer: evidence, but no log.
    upload = {"reference": "DCC-SR-6.13-0042", "gbcs_hex": error_answer(SILENT).hex()}
    f.call("sup", "POST", f"/jobs/{job}/security-log", json=upload)
    page.reload()
    expect(page.locator("#log-failed")).to_contain_text("an error: DLMS data access result 1")
    typed = page.locator("#typed-log")
    reason = typed.get_by_label("Why the log could not be read")
    expect(reason).to_have_value("log unreadable: ")
    _physical_checks_pass(page)
    # The hint alone is not a reason: the browser will not send the form.
    page.get_by_role("button", name="Record the inspection").click()
    assert reason.evaluate("field => field.validity.patternMismatch") is True
    expect(page.locator("#state")).to_contain_text("received")
    reason.fill("log unreadable: the optical port does not answer")
    # A code without the time the display shows is refused, and the page says which row.
    typed.get_by_label("Code 1", exact=True).fill("0x8F3F")
    page.get_by_role("button", name="Record the inspection").click()
    expect(page.get_by_role("alert")).to_contain_text("row 1")
    page.go_back()
    page.reload()
    _physical_checks_pass(page)
    typed = page.locator("#typed-log")
    typed.get_by_label("Why the log could not be read").fill(
        "log unreadable: the optical port does not answer"
    )
    typed.get_by_label("Code 1", exact=True).fill("0x8F3F")
    typed.get_by_label("Time 1", exact=True).fill("2026-11-30T07:45:10")
    shot(page, "bench-typed-log")
    page.get_by_role("button", name="Record the inspection").click()
    expect(page.locator("#state")).to_contain_text("awaiting review")
    reasons = page.locator("#reasons")
    expect(reasons).to_contain_text("typed by hand")
    expect(reasons).to_contain_text("the optical port does not answer")
    # The alert carries the time typed from the display, not the time of the inspection.
    expect(reasons).to_contain_text("0x8F3F tamper detect at 2026-11-30T07:45:10Z")
    expect(page.locator("#decision-log")).to_contain_text("typed")
    expect(page.locator("#decision-log code")).to_have_count(0)  # no digest: nothing was read
    page.context.close()


def test_a_supplier_job_entered_on_the_form_explains_the_terminal_cover_it_names(
    facility: Facility, browser: Browser
) -> None:
    f = facility
    page, _ = _at_the_bench(f, browser, SUPPLIER)
    read_the_log_at_the_bench(page, "BENCH-1")
    tamper = page.locator("table.log", has_text="Tamper alerts")
    expect(tamper).to_contain_text("terminal cover removed")
    _physical_checks_pass(page)
    page.get_by_role("group", name="Outer covers found opened").get_by_label(
        "terminal", exact=True
    ).check()
    job = page.get_by_role("group", name="Supplier's job")
    job.get_by_label("Supplier job reference").fill("SJ-4471")
    job.get_by_role("group", name="Covers the job opened").get_by_label(
        "terminal", exact=True
    ).check()
    job.get_by_label("Date of the job").fill(DEFAULT_AT.date().isoformat())
    shot(page, "bench-supplier-job")
    page.get_by_role("button", name="Record the inspection").click()
    expect(page.locator("#state")).to_contain_text("eligible")
    reasons = page.locator("#reasons")
    expect(reasons).to_contain_text("SJ-4471")
    expect(reasons).to_contain_text("terminal")
    expect(page.locator("#decision-log")).to_contain_text("tool")
    page.context.close()


def test_a_type_2_device_is_inspected_without_a_log_to_read_or_type(
    facility: Facility, browser: Browser
) -> None:
    f = facility
    page, _ = _at_the_bench(f, browser, DISPLAY, "IHD")
    expect(page.locator("#no-log-kept")).to_contain_text("keeps no GBCS security log")
    expect(page.get_by_role("button", name="Ask BENCH-1 to read the security log")).to_have_count(0)
    expect(page.locator("#typed-log")).to_have_count(0)
    _physical_checks_pass(page)
    page.get_by_role("button", name="Record the inspection").click()
    expect(page.locator("#state")).to_contain_text("eligible")
    expect(page.locator("#decision-log")).to_contain_text("keeps no GBCS security log")
    assert violations(page) == []
    page.context.close()
