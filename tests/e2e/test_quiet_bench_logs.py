"""An idle bench does not fill the logs: `triage agent run` and `triage serve` write no line per
poll (a poll a second is some 86,000 lines a day), and still log what changes."""

from __future__ import annotations

import time
from pathlib import Path

from tests.e2e.conftest import Triage, running_facility

IDLE_SECONDS = 3  # about 15 polls by the agent (every 0.2 s)


def test_an_idle_bench_logs_no_line_per_poll(triage: Triage, tmp_path: Path) -> None:
    with running_facility(triage, tmp_path, []) as facility:
        time.sleep(IDLE_SECONDS)
        for _ in range(10):
            facility.call("ben", "GET", "/health")
        facility.call("stella", "GET", "/seals")
    assert facility.logs is not None
    agent = (facility.logs / "agent.log").read_text().splitlines()
    served = (facility.logs / "server-access.log").read_text().splitlines()

    assert [line for line in agent if "work-orders" in line or "HTTP Request" in line] == []
    assert len(agent) <= 2, agent  # that it started (and, at most, one more line)
    assert [line for line in served if "/agent/work-orders" in line or "/health" in line] == []
    # What is not a poll is still logged.
    assert any('"GET /api/v1/seals' in line for line in served), served
