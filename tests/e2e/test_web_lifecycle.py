"""The lifecycle's supervisor acts and decision card in a real Chromium: a verified device found
damaged is quarantined from its page, a quarantine is overridden on the review page, a failed
verification says which items failed and how many attempts are left, and the decision card
always shows the current decision (the system's quarantine too)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Facility, Triage, running_facility
from tests.e2e.test_web import CLEAN, _receive, browser, shot, signed_in
from tests.e2e.test_web_accessibility import violations
from triage.adapters.devices.simulated import DeviceSpec

__all__ = ["browser"]  # the module's browser fixture, shared with test_web.py

DAMAGED = "BC-33-AC-FF-FE-FA-80-11"  # verified, then found damaged
NEVER_VERIFIES = "BC-33-AC-FF-FE-FA-80-12"  # every reset leaves items uncleared
BREACHED = "BC-33-AC-FF-FE-FA-80-13"  # quarantined by the policy, then overridden
REVIEWED = "BC-33-AC-FF-FE-FA-80-14"  # the policy asks a supervisor


@pytest.fixture
def facility(triage: Triage, tmp_path: Path) -> Iterator[Facility]:
    devices = [
        DeviceSpec(DAMAGED, "ESME"),
        DeviceSpec(NEVER_VERIFIES, "ESME", half_fail_times=5),
        DeviceSpec(BREACHED, "ESME"),
        DeviceSpec(REVIEWED, "ESME"),
    ]
    with running_facility(triage, tmp_path, devices) as running:
        yield running


def _reset(f: Facility, job: str) -> dict[str, Any]:
    f.call("ben", "POST", f"/jobs/{job}/work-orders", json={"tool_id": "BENCH-1"})
    return f.wait_for(job, {"verified", "reset_failed", "verification_failed", "quarantined"})


def test_a_supervisor_quarantines_a_verified_device_found_damaged(
    facility: Facility, browser: Browser
) -> None:
    f = facility
    job = _receive(f, DAMAGED, CLEAN, "ben")
    assert _reset(f, job)["state"] == "verified"
    base = str(f.client.base_url).rstrip("/")
    # The bench operator is offered the seal, not a supervisor's act.
    bench = signed_in(f, browser, "ben", bench="B1")
    bench.goto(f"{base}/bench/jobs/{job}")
    expect(bench.get_by_label("Seal serial")).to_be_visible()
    expect(bench.locator("#supervisor-acts")).to_have_count(0)
    bench.context.close()

    page = signed_in(f, browser, "sup", bench="B1")
    page.goto(f"{base}/bench/jobs/{job}")
    acts = page.locator("#supervisor-acts")
    assert violations(page) == []
    acts.get_by_label("Why it is set aside").fill("display glass cracked while fitting the seal")
    shot(page, "bench-quarantine")
    acts.get_by_role("button", name="Quarantine the device").click()

    expect(page.locator("#state")).to_contain_text("quarantined")
    card = page.locator("#decision")
    expect(card.get_by_role("heading")).to_have_text("Decision: quarantine (set aside by sup)")
    expect(card).to_contain_text("display glass cracked while fitting the seal")
    expect(page.get_by_label("Seal serial")).to_have_count(0)
    # From quarantine after a reset: disposal, not an override.
    expect(acts.get_by_role("button", name="Dispose")).to_be_visible()
    expect(acts.get_by_role("button", name="Decide")).to_have_count(0)
    assert f.job(job)["state"] == "quarantined"
    page.context.close()


def test_a_failed_verification_names_the_items_and_the_attempts_left_then_the_quarantine(
    facility: Facility, browser: Browser
) -> None:
    f = facility
    job = _receive(f, NEVER_VERIFIES, CLEAN, "ben")
    assert _reset(f, job)["state"] == "verification_failed"
    base = str(f.client.base_url).rstrip("/")
    page = signed_in(f, browser, "ben", bench="B1")
    page.goto(f"{base}/bench/jobs/{job}")

    attempts = page.locator("#attempts")
    expect(attempts.get_by_role("heading")).to_have_text("Reset attempts: 1 of 3")
    expect(page.locator("#failed-items li").first).to_contain_text("not cleared")
    expect(page.locator("#attempts-left")).to_have_text(
        "2 attempts left before the device is quarantined."
    )
    shot(page, "bench-verification-failed")
    assert violations(page) == []

    assert _reset(f, job)["state"] == "verification_failed"
    assert _reset(f, job)["state"] == "quarantined"  # the third of three
    page.reload()
    # The card shows the decision now in force: the system's quarantine, not "eligible".
    card = page.locator("#decision")
    expect(card.get_by_role("heading")).to_have_text(
        "Decision: quarantine (set aside by the system)"
    )
    expect(card).to_contain_text("reset not verified after 3 attempts")
    expect(page.locator("#state")).to_contain_text("decision: quarantine")
    expect(page.locator("#attempts-left")).to_have_text(
        "No attempts left: the device is quarantined."
    )
    expect(page.locator("#failed-items li").first).to_contain_text("not cleared")
    page.context.close()


def test_a_supervisor_overrides_a_quarantine_and_sees_the_policys_reasons(
    facility: Facility, browser: Browser
) -> None:
    f = facility
    breached = _receive(f, BREACHED, {**CLEAN, "cpa_boundary_intact": False}, "ben")
    reviewed = _receive(f, REVIEWED, {**CLEAN, "outer_covers_opened": ["terminal"]}, "ben")
    assert f.job(breached)["state"] == "quarantined"
    assert f.job(reviewed)["state"] == "awaiting_review"
    page = signed_in(f, browser, "sup2", bench="B1")
    page.get_by_role("link", name="Reviews").first.click()

    # The review card says why the policy asks, and no decision is chosen for the supervisor.
    card = page.locator(f"#job-{REVIEWED}")
    expect(card.locator(".reasons li").first).to_contain_text("terminal")
    expect(card.get_by_label("Decision")).to_have_value("")
    assert violations(page) == []

    row = page.locator(f"#quarantined-{BREACHED}")
    row.get_by_label("Decision").select_option("eligible")
    row.get_by_label("Justification").fill("the CPA label was peeled in transport, not opened")
    shot(page, "supervisor-quarantine-override")
    row.get_by_role("button", name="Decide").click()

    expect(page.locator(f"#quarantined-{BREACHED}")).to_have_count(0)
    assert f.job(breached)["state"] == "eligible"
    page.goto(f"{str(f.client.base_url).rstrip('/')}/bench/jobs/{breached}")
    expect(page.locator("#decision").get_by_role("heading")).to_have_text(
        "Decision: eligible (override by sup2)"
    )
    page.context.close()
