"""Issue 21 in a real headless Chromium: the auditor's ledger page shows the witnesses that
cosign the facility's checkpoints (a real `triage witness serve`, and one that is down), each
one's last outcome and whether the latest checkpoint meets the quorum; and the page still
meets WCAG 2.1 AA with the section filled in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Facility, Triage, free_port, running_facility, stop
from tests.e2e.test_web import authenticator, browser, sign_in
from tests.e2e.test_web_accessibility import violations
from tests.witnesses import serve_witness

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with test_web


@pytest.fixture
def facility(triage: Triage, tmp_path: Path) -> Iterator[Facility]:
    with running_facility(triage, tmp_path, []) as running:
        yield running


@pytest.fixture
def witness(facility: Facility, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A witness following the facility's log, served by `triage witness serve`: (its
    cosigner key, its URL)."""
    directory = tmp_path / "witness"
    run = facility.triage.run
    vkey = run("witness", "keygen", "owner.example.org/w", "--dir", str(directory)).stdout.strip()
    origin = facility.vkey.split("+")[0]
    run("witness", "log", "add", origin, facility.vkey, "--dir", str(directory))
    served, url = serve_witness(directory)
    try:
        yield vkey, url
    finally:
        stop(served)


def test_the_auditor_sees_each_witness_and_the_quorum(
    facility: Facility, witness: tuple[str, str], browser: Browser, tmp_path: Path
) -> None:
    f = facility
    vkey, url = witness
    # A second witness whose server is down: its key, and a port nothing listens on.
    down_dir = str(tmp_path / "down")
    down_vkey = f.triage.run("witness", "keygen", "down.example.org/w", "--dir", down_dir)
    down_url = f"http://127.0.0.1:{free_port()}"
    policy = (
        f"witness owner {vkey} {url}\n"
        f"witness head-office {down_vkey.stdout.strip()} {down_url}\n"
        "group both all owner head-office\nquorum both\n"
    )
    put = f.raw(
        "admin", "PUT", "/ledger/witness-policy", json={"policy": policy, "timeout_seconds": 1}
    )
    assert put.status_code == 200, put.text
    done = f.triage.run("ledger", "checkpoint", "--token", f.tokens["admin"])
    assert "witness head-office: unreachable" in done.stderr

    f.triage.staff(f.tokens["admin"], "audrey", "auditor")
    base = str(f.client.base_url).rstrip("/")
    context = browser.new_context(viewport={"width": 1024, "height": 900})
    page = context.new_page()
    sign_in(page, base, "audrey", authenticator(f.triage, "audrey"))
    page.goto(f"{base}/auditor")

    expect(page.locator("#witness-quorum")).to_contain_text("Below quorum")
    expect(page.locator("#witness-quorum")).to_contain_text("cosigned by owner: not met")
    rows = page.locator("#witness-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("cosigned (")
    expect(rows.nth(0)).to_contain_text(url)
    expect(rows.nth(1)).to_contain_text("not cosigned")
    expect(rows.nth(1)).to_contain_text("unreachable")
    assert violations(page) == []
    context.close()
