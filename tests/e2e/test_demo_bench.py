"""`make run` is the whole demo: `triage demo` sets up a demo bench (an enrolled tool with its
key, a simulated fleet, a consignment of its devices and one device it does not list), and
`triage demo --serve` runs the server and the bench's agent (a demo device goes from scan to
certificate as the operator's guide walks it) until Ctrl-C, which leaves nothing running.
`triage agent run` without its connector's option says which option, in one line."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pyotp
from playwright.sync_api import Browser, expect
from pypdf import PdfReader

from tests.e2e.conftest import TRIAGE, Triage, free_port
from tests.e2e.test_web import browser
from triage.adapters.devices.simulated import SimulatedFleet
from triage.ledger.note import generate_key
from triage.services.demo import DEMO_TOOL

CLEAN = {"metrology_seal_intact": True, "cpa_boundary_intact": True}
SCENARIOS = {"clean", "failing-battery", "supplier-job", "strong-magnet", "breached-cpa-boundary"}
MAKEFILE = Path(__file__).parents[2] / "Makefile"

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with test_web


def _make_run(port: int) -> list[list[str]]:
    """The `triage` commands the Makefile's `run` target runs, with PORT set (HOST default)."""
    text = MAKEFILE.read_text()
    recipe = text.split("\nrun: install\n", 1)[1].split("\n\n", 1)[0].splitlines()
    host = re.search(r"^HOST \?= (\S+)$", text, re.MULTILINE)
    assert host is not None
    commands = []
    for line in recipe:
        line = line.strip().lstrip("@").removeprefix("exec ").replace(" >/dev/null", "")
        line = line.replace("$(HOST)", host[1]).replace("$(PORT)", str(port))
        words = shlex.split(line)
        assert words[0] == "$(BIN)/triage", line
        commands.append(words[1:])
    return commands


MAKE_RUN_INIT = tuple(_make_run(8000)[0])


def test_the_demo_sets_up_a_bench_once(triage: Triage) -> None:
    triage.run(*MAKE_RUN_INIT)
    first = json.loads(triage.run("demo", "--json").stdout)

    bench = triage.data_dir / "demo-bench"
    key, fleet = bench / "tool.key", bench / "fleet.json"
    assert key.stat().st_mode & 0o777 == 0o600 and bench.stat().st_mode & 0o077 == 0
    devices = first["devices"]
    assert {d["scenario"] for d in devices} >= SCENARIOS
    unexpected = [d["device_id"] for d in devices if not d["on_manifest"]]
    listed = [d["device_id"] for d in devices if d["on_manifest"]]
    assert len(unexpected) == 1 and len(listed) == len(devices) - 1
    assert sorted(SimulatedFleet(fleet).device_ids()) == sorted(listed + unexpected)
    consignment = first["bench"]["consignment_id"]
    with triage.opened() as app, app.uow(write=False) as uow:
        tool = uow.tools.get(first["bench"]["tool_id"])
        assert tool is not None and tool.bench == "B1"
        assert sorted(uow.consignments.missing_devices(consignment)) == sorted(listed)

    # make run again: the same bench, nothing made twice.
    key_before, fleet_before = key.read_bytes(), fleet.read_bytes()
    again = json.loads(triage.run("demo", "--json").stdout)
    assert again["bench"] == first["bench"] and again["devices"] == devices
    assert (key.read_bytes(), fleet.read_bytes()) == (key_before, fleet_before)
    with triage.opened() as app, app.uow(write=False) as uow:
        assert uow.consignments.page(0, 10)[1] == 1


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_make_run_serves_the_demo_bench_and_ctrl_c_stops_everything(
    triage: Triage, browser: Browser, tmp_path: Path
) -> None:
    port = free_port()
    init, serve = _make_run(port)
    assert serve[:2] == ["demo", "--serve"] and "127.0.0.1" in serve
    triage.run(*init)
    demo = subprocess.Popen(
        [*TRIAGE, *serve],
        env=triage.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert demo.stdout is not None
    lines: list[str] = []
    drained = threading.Thread(target=lambda: lines.extend(demo.stdout or []), daemon=True)
    try:
        for line in demo.stdout:
            lines.append(line)
            if "Ctrl-C stops" in line:
                break
        drained.start()
        text = "".join(lines)
        url = f"http://127.0.0.1:{port}"
        assert f"Web: {url}/" in text, text
        token = re.search(r"^  demo-bench +(\S+)$", text, re.MULTILINE)
        auditor = re.search(r"^  demo-auditor +(\S+)$", text, re.MULTILINE)
        assert token is not None and auditor is not None, text
        clean = re.search(r"^  (\S+)  clean .*on the manifest", text, re.MULTILINE)
        stray = re.search(r"^  (\S+)  clean .*NOT on the manifest", text, re.MULTILINE)
        assert clean is not None and stray is not None, text
        client = httpx.Client(
            base_url=url, timeout=30, headers={"Authorization": f"Bearer {token[1]}"}
        )
        deadline = time.monotonic() + 30
        while True:  # the server answers
            try:
                if client.get("/api/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and demo.poll() is None, "".join(lines)
            time.sleep(0.1)
        signin = client.get("/", follow_redirects=True)
        assert signin.status_code == 200 and "Sign in" in signin.text

        # The device the demo lists as not on the manifest raises an exception when scanned.
        unexpected = client.post("/api/v1/devices/scan", json={"device_id": stray[1]})
        assert unexpected.json()["exception_id"] is not None, unexpected.text

        # The operator's guide's walk-through, in the browser as a newcomer does it: the demo
        # bench operator signs in with what the demo printed, scans a listed device, inspects
        # it, has the demo tool reset it, fits a demo seal, releases it and downloads its
        # certificate, with no other command.
        login = re.search(
            r"^  demo-bench +password (\S+)  code (\S+)  TOTP secret (\S+)$", text, re.MULTILINE
        )
        assert login is not None, text
        context = browser.new_context(accept_downloads=True)
        page = context.new_page()
        page.goto(f"{url}/login")
        page.get_by_label("Operator id").fill("demo-bench")
        page.get_by_label("Password").fill(login[1])
        page.get_by_label("Code from your authenticator app").fill(
            pyotp.TOTP(login[3]).at(time.time() + 30)
        )
        page.get_by_label("Bench you are working at").fill("B1")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Bench").first.click()
        page.get_by_label("Device ID").fill(clean[1])
        page.get_by_label("Device ID").press("Enter")
        expect(page.locator("#state")).to_contain_text("received")
        page.get_by_role("button", name=f"Ask {DEMO_TOOL} to read the security log").click()
        deadline = time.monotonic() + 30
        while page.locator("#log-source").count() == 0:
            assert time.monotonic() < deadline, "the demo agent did not read the log"
            time.sleep(0.5)
            page.reload()
        page.get_by_role("group", name="metrology").get_by_label("Yes").check()
        page.get_by_role("group", name="CPA boundary").get_by_label("Yes").check()
        page.get_by_role("button", name="Record the inspection").click()
        expect(page.locator("#state")).to_contain_text("eligible")
        page.get_by_role("button", name="Start the reset").click()
        expect(page.locator("#state")).to_contain_text("verified", timeout=40_000)
        page.get_by_label("Seal serial").fill("DEMO-0001")
        page.get_by_role("button", name="Record the seal").click()
        expect(page.locator("#state")).to_contain_text("sealed")
        page.get_by_role("button", name="Release the device").click()
        expect(page.locator("#state")).to_contain_text("released")
        with page.expect_download() as got:
            page.get_by_role("link", name="Download the triage certificate (PDF)").click()
        downloaded = tmp_path / "certificate.pdf"
        got.value.save_as(downloaded)
        assert downloaded.read_bytes().startswith(b"%PDF")
        assert clean[1] in "".join(p.extract_text() for p in PdfReader(downloaded).pages)
        context.close()
        client.close()

        started = _children(demo.pid)
        assert len(started) == 2, started  # the server and the agent
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=40) == 0, "".join(lines)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    assert [pid for pid in started if _alive(pid)] == []
    try:
        httpx.get(f"{url}/api/v1/health", timeout=2)
        raise AssertionError("the demo server still answers after Ctrl-C")
    except httpx.TransportError:
        pass


def test_the_agent_names_a_missing_or_unknown_connector_option(
    triage: Triage, tmp_path: Path
) -> None:
    key = tmp_path / "tool.key"
    triage.run("agent", "keygen", "--tool-id", "BENCH-1", "--out", str(key))
    _, facility_key = generate_key("device-triage.local/test")
    common = (
        "agent", "run", "--server", "http://127.0.0.1:9", "--tool-id", "BENCH-1",
        "--key", str(key), "--facility-key", facility_key,
        "--state-dir", str(tmp_path / "state"), "--once",
    )  # fmt: skip
    for options, problem in [
        ((), "the device connector 'simulated' needs the option state_file: "
         "give --option state_file=VALUE"),
        (("--option", "state_file=f.json", "--option", "colour=red"),
         "the device connector 'simulated' has no option colour; its options: state_file"),
        (("--option", "state_file"), "--option state_file: write a connector option as NAME=VALUE"),
        (("--option", "state_file=f.json", "--option", "tool_id=X"),
         "--option tool_id: the agent gives the connector its tool_id itself"),
    ]:  # fmt: skip
        refused = triage.run(*common, *options, check=False)
        assert refused.returncode == 2, refused
        assert refused.stderr.count("\n") == 1 and problem in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr and "__init__" not in refused.stderr
    assert not os.path.exists(tmp_path / "f.json")
