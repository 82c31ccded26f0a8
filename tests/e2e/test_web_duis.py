"""DUIS requests out in the real headless Chromium and through the real `triage` command
(issue 20 item 2): an administrator records the asset owner's DCC User with the command;
stores produce the owner's requests for a released device on /duis and download the batch,
whose XML validates against DUIS 5.4 and carries no signature (the DCC User signs)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import xmlschema
from playwright.sync_api import Browser, expect

from tests.duis_responses import DUIS_DIR
from tests.e2e.conftest import Facility, Triage, running_facility
from tests.e2e.test_web import browser, signed_in
from tests.e2e.test_web_accessibility import violations
from tests.e2e.test_web_dispatch import DEVICE, _released
from triage.adapters.devices.simulated import DeviceSpec

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with test_web

XSD = DUIS_DIR / "DUIS Schema V5.4.xsd"
DCC_USER = "90-B3-D5-1F-30-01-00-00"


@pytest.fixture
def facility(triage: Triage, tmp_path: Path) -> Iterator[Facility]:
    triage.env["TRIAGE_DUIS_SCHEMA"] = str(DUIS_DIR)  # the folder the DCC's schemas are in
    with running_facility(triage, tmp_path, [DeviceSpec(DEVICE, "ESME")]) as running:
        yield running


def test_stores_produce_and_download_an_owner_s_batch_on_the_duis_page(
    facility: Facility, browser: Browser
) -> None:
    f = facility
    _released(f, "SL-9301")
    recorded = f.triage.run(
        "duis", "dcc-user", "MAP-1", DCC_USER.replace("-", ":"), "--token", f.tokens["admin"]
    )
    assert f"requests originate from DCC User {DCC_USER}" in recorded.stdout

    page = signed_in(f, browser, "stella")
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="DUIS requests").click()
    expect(page.locator("#no-batches")).to_be_visible()
    page.get_by_label("Asset owner").select_option("MAP-1")
    page.get_by_role("button", name="Produce requests").click()
    expect(page.get_by_role("status")).to_contain_text("Produced 1 DUIS request(s) for MAP-1")
    expect(page.locator("#requests")).to_contain_text(f"{DCC_USER}:")
    assert violations(page) == []
    with page.expect_download() as got:
        page.locator("#batch-1").get_by_role("link").click()
    content = Path(got.value.path()).read_bytes()

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    written = [body for name, body in files.items() if name.endswith(".xml")]
    assert len(written) == 1 and b"Signature" not in written[0]
    xmlschema.XMLSchema10(str(XSD), defuse="always").validate(written[0].decode("utf-8"))
    assert DEVICE.encode() in written[0] and b"<sr:UpdateDeviceStatusExceptCH>Pending" in written[0]

    # Nothing more is due: the page says so beside the form.
    page.get_by_label("Asset owner").select_option("MAP-1")
    page.get_by_role("button", name="Produce requests").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "no DUIS request is due for asset owner MAP-1"
    )

    # The command lists the batch and writes the same ZIP; the rules in force are printed.
    listed = json.loads(f.triage.run("duis", "list", "--json", "--token", f.tokens["sup"]).stdout)
    batch_id = listed["batches"][0]["id"]
    out = f.triage.data_dir.parent / "batch.zip"
    f.triage.run("duis", "show", batch_id, "--out", str(out), "--token", f.tokens["sup"])
    assert out.read_bytes() == content
    rules = f.triage.run("duis", "rules", "show", "--token", f.tokens["sup"]).stdout
    assert "request: update_status" in rules
