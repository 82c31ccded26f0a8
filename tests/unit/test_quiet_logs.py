"""Quiet logs: an idle bench agent, and a server answering its polls, do not write a line per
poll (some 86,000 lines a day); what changes is logged, and a heartbeat at most every 10
minutes."""

from __future__ import annotations

import io
import logging
import logging.config
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from triage.domain.tool import tool_key_name
from triage.entrypoints.agent import Agent, AgentClient, Journal
from triage.entrypoints.quiet_logs import (
    HEARTBEAT_SECONDS,
    Heartbeat,
    agent_log_config,
    is_poll,
    server_log_config,
)
from triage.ledger.note import generate_key

TOOL = "BENCH-1"
POLLS = 500


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Loops:
    """``stop`` for Agent.run: stops after ``n`` polls, moving the clock ``step`` s each."""

    def __init__(self, n: int, clock: Clock | None = None, step: float = 1.0) -> None:
        self.left = n
        self.clock = clock
        self.step = step

    def __call__(self) -> bool:
        if self.clock is not None:
            self.clock.now += self.step
        self.left -= 1
        return self.left < 0


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record at INFO or above, from every logger, with the agent's logging set up as
    `triage agent run` sets it up (and the loggers' levels put back afterwards)."""
    levels = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    caplog.set_level(logging.INFO)
    agent_log_config()
    yield caplog
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def _agent(
    tmp_path: Path, answer: httpx.Response | Exception, heartbeat: Heartbeat | None = None
) -> Agent:
    """An agent whose server answers every request with ``answer`` (or raises it)."""

    def respond(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        return answer

    signer, verifier = generate_key(tool_key_name(TOOL))
    client = AgentClient("http://server", TOOL, signer, transport=httpx.MockTransport(respond))
    agent = Agent(client, object(), TOOL, signer, verifier, Journal(tmp_path / "journal"))  # type: ignore[arg-type]
    if heartbeat is not None:
        agent.heartbeat = heartbeat
    return agent


def test_an_idle_agent_logs_one_line_not_one_per_poll(
    tmp_path: Path, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("time.sleep", lambda _: None)
    agent = _agent(tmp_path, httpx.Response(200, json={"items": []}))

    agent.run(1.0, stop=Loops(POLLS))

    assert [r.getMessage() for r in logs.records] == [
        f"tool {TOOL}: asking for work orders every 1 s"
    ]


def test_an_idle_agent_beats_every_ten_minutes(
    tmp_path: Path, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("time.sleep", lambda _: None)
    clock = Clock()
    agent = _agent(
        tmp_path, httpx.Response(200, json={"items": []}), Heartbeat(HEARTBEAT_SECONDS, clock)
    )

    agent.run(1.0, stop=Loops(3600, clock))  # an hour of polls, one a second

    beats = [r.getMessage() for r in logs.records if "alive" in r.getMessage()]
    assert len(beats) == 6
    assert beats[0] == f"tool {TOOL}: alive; 600 polls and 0 work orders listed in 10 minutes"
    assert len(logs.records) == 7


def test_a_lost_server_is_logged_once_not_once_a_poll(
    tmp_path: Path, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("time.sleep", lambda _: None)
    agent = _agent(tmp_path, httpx.ConnectError("Connection refused"))
    agent.run(1.0, stop=Loops(POLLS))
    assert [(r.levelno, r.getMessage()) for r in logs.records[1:]] == [
        (logging.WARNING, "cannot reach the server: Connection refused")
    ]


def test_the_server_answering_again_is_logged(
    tmp_path: Path, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("time.sleep", lambda _: None)
    answers: list[httpx.Response | Exception] = [httpx.ConnectError("Connection refused")] * 50
    answers += [httpx.Response(200, json={"items": []})] * 50

    def respond(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    agent = _agent(tmp_path, httpx.Response(200))
    signer = agent.tool_signer_key
    agent.client = AgentClient("http://s", TOOL, signer, transport=httpx.MockTransport(respond))

    agent.run(1.0, stop=Loops(100))

    assert [r.getMessage() for r in logs.records[1:]] == [
        "cannot reach the server: Connection refused",
        "the server answers again (after 50 failed polls)",
    ]


def _access_log(lines: list[tuple[str, str, int]], *, every_request: bool = False) -> list[str]:
    """What `triage serve`'s logging writes for these requests, as uvicorn logs them."""
    config = server_log_config(every_request=every_request)
    out = io.StringIO()
    config["handlers"]["access"]["stream"] = out
    config["handlers"]["default"]["stream"] = out
    logging.config.dictConfig(config)
    access = logging.getLogger("uvicorn.access")
    for method, path, status in lines:
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", method, path, "1.1", status)
    return out.getvalue().splitlines()


def test_the_server_does_not_log_each_poll() -> None:
    polls = [("GET", "/api/v1/agent/work-orders", 200), ("GET", "/api/v1/jobs/j-1", 200)]
    acts = [
        ("POST", "/api/v1/agent/results", 200),
        ("GET", "/api/v1/agent/work-orders", 401),
        ("GET", "/api/v1/jobs", 200),
    ]

    shown = _access_log(polls * POLLS + acts)

    assert len(shown) == len(acts)
    assert "POST /api/v1/agent/results" in shown[0]
    assert 'GET /api/v1/agent/work-orders HTTP/1.1" 401' in shown[1]


def test_log_every_request_logs_the_polls_too() -> None:
    # `triage serve --log-every-request`: the benchmarks count requests from the access log.
    polls = [("GET", "/api/v1/agent/work-orders", 200), ("GET", "/api/v1/jobs/j-1", 200)]
    shown = _access_log(polls * 3, every_request=True)
    assert len(shown) == 6
    assert all("GET /api/v1/" in line for line in shown)


@pytest.mark.parametrize(
    ("method", "path", "status", "poll"),
    [
        ("GET", "/api/v1/agent/work-orders", 200, True),
        ("GET", "/api/v1/jobs/3d5b1a9c/security-log", 200, True),
        ("GET", "/bench/jobs/3d5b1a9c?x=1", 200, True),
        ("GET", "/api/v1/health", 200, True),
        ("GET", "/api/v1/jobs/3d5b1a9c", 500, False),
        ("POST", "/api/v1/agent/work-orders", 200, False),
        ("GET", "/api/v1/jobs/3d5b1a9c/certificate", 200, False),
        ("GET", "/api/v1/devices", 200, False),
    ],
)
def test_what_counts_as_a_poll(method: str, path: str, status: int, poll: bool) -> None:
    assert is_poll(method, path, status) is poll


def test_a_heartbeat_is_due_once_per_interval() -> None:
    clock = Clock()
    beat = Heartbeat(600, clock)
    due = []
    for _ in range(1800):
        clock.now += 1
        due.append(beat.count())
    assert [n for n in due if n is not None] == [600, 600, 600]
