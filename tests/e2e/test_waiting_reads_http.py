"""Waiting reads between real processes: a `triage agent run` whose requests the server holds
picks up a work order as it is issued (its poll interval is far longer than the test), the
bench waits on its job and its security log the same way, and a stop is not held up by a
request being held: SIGTERM stops the agent, and `triage serve` (one process or several),
within seconds, the held requests answered first."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import TEMPLATES, Triage, agent_command, start_server, stop
from triage.adapters.devices.simulated import DeviceSpec, SimulatedFleet

DEVICE = "BC-33-AC-FF-FE-FA-78-01"
CLEAN = {"metrology_seal_intact": True, "cpa_boundary_intact": True}
MANIFEST = (
    "device_id,device_type,manufacturer,model,firmware_version,inventory_status,asset_owner\n"
    f"{DEVICE},ESME,Acme,X1,1.0,Decommissioned,MAP-1\n"
)
# An agent that polled would not ask again within the test: what it does, it does because the
# server answered a held request.
NEVER = "600"
# A stop held up by a waiting request would take its whole wait (25 s); a prompt one, a second
# or two.
PROMPTLY = 10


@dataclass
class Bench:
    triage: Triage
    server: subprocess.Popen[str]
    client: httpx.Client
    tokens: dict[str, str]
    agent_command: list[str]
    agent_log: Path

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}", **kwargs.pop("headers", {})}
        return self.client.request(method, f"/api/v1{path}", headers=headers, **kwargs)

    def start_agent(self) -> subprocess.Popen[str]:
        with self.agent_log.open("a") as log:
            return subprocess.Popen(
                self.agent_command,
                env=self.triage.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                text=True,
            )

    def wait_for(self, who: str, path: str, done: Any, deadline: float = 60) -> httpx.Response:
        """Waiting reads of ``path`` (each held up to 20 s) until ``done`` says the answer is
        the awaited one."""
        tag: str | None = None
        until = time.monotonic() + deadline
        while time.monotonic() < until:
            headers = {"Prefer": "wait=20", **({"If-None-Match": tag} if tag else {})}
            answer = self.call(who, "GET", path, headers=headers)
            assert answer.status_code in (200, 304, 404), answer.text
            assert "Preference-Applied" in answer.headers
            if answer.status_code == 200:
                tag = answer.headers["ETag"]
                if done(answer.json()):
                    return answer
        raise AssertionError(f"{path}: not done in {deadline} s")


@contextmanager
def bench(triage: Triage, tmp_path: Path, *serve_options: str) -> Iterator[Bench]:
    """A facility with ben and sup at bench B1, tool BENCH-1 there (its key and a simulated
    fleet of one device), its server, and the command of its agent (not started)."""
    key = tmp_path / "bench" / "tool.key"
    tokens, vkey = TEMPLATES.set_up(triage, key)
    SimulatedFleet.create(tmp_path / "bench" / "fleet.json", [DeviceSpec(DEVICE, "ESME")])
    server, client = start_server(triage, "--checkpoint-interval", "0", *serve_options)
    base = str(client.base_url).rstrip("/")
    command = agent_command(
        base, key, vkey, tmp_path / "bench", "--interval", NEVER, "--wait", "20"
    )
    try:
        yield Bench(triage, server, client, tokens, command, tmp_path / "agent.log")
    finally:
        client.close()
        stop(server)


def _scanned(b: Bench) -> str:
    imported = b.call(
        "sup",
        "POST",
        "/consignments",
        params={"reference": "C-1", "asset_owner": "MAP-1"},
        content=MANIFEST,
        headers={"Content-Type": "text/csv"},
    )
    assert imported.status_code == 201, imported.text
    scanned = b.call("ben", "POST", "/devices/scan", json={"device_id": DEVICE})
    assert scanned.status_code == 200, scanned.text
    return str(scanned.json()["job"]["id"])


def _waiting_for_orders(agent_log: Path) -> None:
    """Until the agent says it waits for work orders, and a moment for its request to arrive."""
    until = time.monotonic() + 30
    while "waiting for work orders" not in agent_log.read_text():
        assert time.monotonic() < until, agent_log.read_text()
        time.sleep(0.1)
    time.sleep(1)


def test_the_agent_and_the_bench_are_answered_as_things_happen_and_the_agent_stops_at_once(
    triage: Triage, tmp_path: Path
) -> None:
    with bench(triage, tmp_path) as b:
        job_id = _scanned(b)
        agent = b.start_agent()
        try:
            _waiting_for_orders(b.agent_log)
            ordered = b.call(
                "ben",
                "POST",
                f"/jobs/{job_id}/security-log/read-orders",
                json={"tool_id": "BENCH-1"},
            )
            assert ordered.status_code == 201, ordered.text
            log = b.wait_for("ben", f"/jobs/{job_id}/security-log", lambda found: True)
            assert log.json()["source"] == "tool"
            decided = b.call("ben", "POST", f"/jobs/{job_id}/inspection", json=CLEAN)
            assert decided.json()["outcome"] == "eligible", decided.text
            issued = b.call(
                "ben", "POST", f"/jobs/{job_id}/work-orders", json={"tool_id": "BENCH-1"}
            )
            assert issued.status_code == 201, issued.text
            job = b.wait_for(
                "ben", f"/jobs/{job_id}", lambda found: found["state"] != "reset_authorised"
            )
            assert job.json()["state"] == "verified"

            _waiting_for_orders(b.agent_log)  # idle again, its request held
            agent.send_signal(signal.SIGTERM)
            assert agent.wait(timeout=PROMPTLY) == 0
        finally:
            stop(agent)
        told = b.agent_log.read_text()
        assert "security log recorded" in told and "job now verified" in told, told


@pytest.mark.parametrize("processes", ["1", "2"])
def test_a_server_with_requests_held_stops_promptly_on_sigterm(
    triage: Triage, tmp_path: Path, processes: str
) -> None:
    triage.env["TRIAGE_SERVE_WORKERS"] = processes
    with bench(triage, tmp_path) as b:
        job_id = _scanned(b)
        agent = b.start_agent()
        try:
            _waiting_for_orders(b.agent_log)
            tag = b.call("ben", "GET", f"/jobs/{job_id}").headers["ETag"]
            held: list[httpx.Response] = []
            waiting = threading.Thread(
                target=lambda: held.append(
                    b.call(
                        "ben",
                        "GET",
                        f"/jobs/{job_id}",
                        headers={"If-None-Match": tag, "Prefer": "wait=25"},
                    )
                )
            )
            waiting.start()
            time.sleep(1)  # the request arrives and is held

            b.server.send_signal(signal.SIGTERM)

            b.server.wait(timeout=PROMPTLY)  # stopped (or TimeoutExpired)
            waiting.join()
            [answer] = held
            assert (answer.status_code, answer.headers["ETag"]) == (304, tag)
            assert answer.headers["Preference-Applied"] == "wait=25"
            # The agent, its server gone, pauses; a stop cuts the pause short too.
            agent.send_signal(signal.SIGTERM)
            assert agent.wait(timeout=PROMPTLY) == 0
        finally:
            stop(agent)
