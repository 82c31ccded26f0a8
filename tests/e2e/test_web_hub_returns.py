"""Communications hubs back to the DCC in a real Chromium and through the real `triage` command
(issue 20 item 4): a supervisor returns a CHF from its device page with a fault return (a wrong
field refused beside it, what was typed kept), the return and its DUIS 8.14.3 request show on
/hubs; a meter's page offers no such form; `triage hub` returns another hub with a no-fault
return, lists them, and an administrator's `triage hub policy` lets a hub be reset."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.duis_responses import DUIS_XSD
from tests.e2e.conftest import Facility, Triage, running_facility
from tests.e2e.test_web import CLEAN, browser, consign, signed_in
from tests.e2e.test_web_accessibility import violations
from tests.gbcs_logs import clean_log
from triage.adapters.devices.simulated import DeviceSpec

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with test_web

SCHEMA = DUIS_XSD
HUB = "BC-33-AC-FF-FE-FA-91-01"
SPARE = "BC-33-AC-FF-FE-FA-91-02"
METER = "BC-33-AC-FF-FE-FA-91-03"
DCC_USER = "90-B3-D5-1F-30-01-00-00"


@pytest.fixture
def facility(triage: Triage, tmp_path: Path) -> Iterator[Facility]:
    if not SCHEMA.exists():
        pytest.skip("the DUIS 5.4 schema (from the DCC) is not on this machine")
    triage.env["TRIAGE_DUIS_SCHEMA"] = str(SCHEMA)
    devices = [DeviceSpec(HUB, "CHF"), DeviceSpec(SPARE, "CHF"), DeviceSpec(METER, "ESME")]
    with running_facility(triage, tmp_path, devices) as running:
        running.triage.run(
            "duis", "dcc-user", "MAP-1", DCC_USER, "--token", running.tokens["admin"]
        )
        yield running


def _inspected(f: Facility, device: str, device_type: str) -> str:
    consign(f, device, device_type)
    job = f.call("ben", "POST", "/devices/scan", json={"device_id": device})["job"]["id"]
    upload = {"reference": f"DCC-{device[-5:]}", "gbcs_hex": clean_log(device, device_type).hex()}
    f.call("sup", "POST", f"/jobs/{job}/security-log", json=upload)
    f.call("ben", "POST", f"/jobs/{job}/inspection", json=CLEAN)
    return str(job)


def test_a_supervisor_returns_a_hub_to_the_dcc_from_its_page(
    facility: Facility, browser: Browser
) -> None:
    f = facility
    _inspected(f, HUB, "CHF")
    _inspected(f, METER, "ESME")
    base = str(f.client.base_url).rstrip("/")
    page = signed_in(f, browser, "sup", bench="B1")
    page.goto(f"{base}/devices/{METER}")
    expect(page.locator("#return-to-dcc")).to_have_count(0)  # a meter is not the DCC's
    page.goto(f"{base}/devices/{HUB}")
    form = page.locator("#return-to-dcc")
    form.get_by_label("Return", exact=True).select_option("fault")
    form.get_by_label("Return type").select_option("Fault identified post installation")
    form.get_by_label("DCC return reference").fill("DCC-RMA-9101")
    form.get_by_label("Fault reason").select_option("SM WAN Fault")
    form.get_by_label("Connection method").select_option("Hot-shoe")
    form.get_by_label("Other device").fill("not a device")
    form.get_by_role("button", name="Return to the DCC").click()
    # Refused beside the field at fault, what was typed kept, nothing recorded.
    expect(form.get_by_role("alert")).to_contain_text("other_device_id")
    expect(form.get_by_label("DCC return reference")).to_have_value("DCC-RMA-9101")
    assert violations(page) == []
    form.get_by_label("Other device").fill(METER)
    form.get_by_role("button", name="Return to the DCC").click()
    expect(page.get_by_role("status")).to_contain_text(f"{HUB} returned to the DCC")
    expect(page.locator("#state")).to_contain_text("returned to dcc")
    expect(page.locator("#return-to-dcc")).to_have_count(0)
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Hubs to the DCC").click()
    row = page.locator("#hub-return-1")
    for shown in ("8.14.3 fault", "SM WAN Fault", "Hot-shoe", METER, "DCC-RMA-9101", "sup"):
        expect(row).to_contain_text(shown)
    expect(row.get_by_role("cell").nth(4)).not_to_be_empty()  # the 8.14.3 request's id
    assert violations(page) == []
    listed = f.call("sup", "GET", "/hubs/returns")
    assert [(r["device_id"], r["service_reference"]) for r in listed] == [(HUB, "8.14.3")]


def test_the_hub_command_returns_lists_and_keeps_the_policy(facility: Facility) -> None:
    f = facility
    job = _inspected(f, SPARE, "CHF")
    refused = f.triage.run("hub", "return", SPARE, "--no-fault", check=False)
    assert refused.returncode != 0 and "return_type" in refused.stderr
    returned = f.triage.run(
        "hub", "return", SPARE, "--no-fault", "--type", "No Fault Return (general)",
        "--dcc-reference", "DCC-RMA-9102", "--incident", "INC-1", "--json",
    )  # fmt: skip
    found = json.loads(returned.stdout)
    assert (found["service_reference"], found["dcc_reference"]) == ("8.14.4", "DCC-RMA-9102")
    assert found["request_id"] and f.job(job)["state"] == "returned_to_dcc"
    listed = f.triage.run("hub", "list")
    assert "8.14.4 no-fault" in listed.stdout and "DCC-RMA-9102" in listed.stdout
    shown = f.triage.run("hub", "policy")
    assert "never reset" in shown.stdout
    not_allowed = f.triage.run("hub", "policy", "--allow-reset", check=False)
    assert not_allowed.returncode != 0  # a supervisor keeps no policy
    admin = f.tokens["admin"]
    allowed = f.triage.run("hub", "policy", "--allow-reset", "--token", admin, "--json")
    assert json.loads(allowed.stdout)["allow_reset"] is True
