"""The agent's waiting requests for work orders (`triage agent run --wait`): it asks the server
to hold each request until there is something new, names the answers it already has, asks
again at once after an answer the server held, and pauses ``--interval`` only when the server
did not hold it (or failed)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from triage.domain.tool import tool_key_name
from triage.entrypoints.agent import Agent, AgentClient, Journal
from triage.ledger.note import generate_key

TOOL = "BENCH-1"
HELD = {"Preference-Applied": "wait=20"}


def _answers() -> list[httpx.Response]:
    return [
        httpx.Response(200, json={"items": []}, headers={"ETag": '"e0"', **HELD}),
        httpx.Response(304, headers={"ETag": '"e0"', **HELD}),
        # An order this agent cannot verify: it refuses it, and the order stays listed.
        httpx.Response(200, json={"items": ["not an order"]}, headers={"ETag": '"e1"', **HELD}),
        # A server that does not hold requests (no Preference-Applied).
        httpx.Response(304, headers={"ETag": '"e1"'}),
    ]


def test_the_agent_waits_names_what_it_has_and_pauses_only_when_not_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = _answers()
    asked: list[httpx.Request] = []
    refusals: list[bytes] = []

    def respond(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            refusals.append(request.content)
            return httpx.Response(200, json={"status": "recorded"})
        asked.append(request)
        return answers.pop(0)

    slept: list[float] = []
    monkeypatch.setattr("time.sleep", slept.append)
    signer, verifier = generate_key(tool_key_name(TOOL))
    client = AgentClient("http://server", TOOL, signer, transport=httpx.MockTransport(respond))
    agent = Agent(client, object(), TOOL, signer, verifier, Journal(tmp_path / "journal"))  # type: ignore[arg-type]

    agent.run(1.5, stop=lambda: not answers, wait=20)

    assert [r.headers.get("Prefer") for r in asked] == ["wait=20"] * 4
    assert [r.headers.get("If-None-Match") for r in asked] == [None, '"e0"', '"e0"', '"e1", "e0"']
    assert all(r.extensions["timeout"]["read"] > 20 for r in asked)
    assert len(refusals) == 1
    assert slept == [1.5]  # after the answer that was not held, only


def test_without_wait_the_agent_polls_every_interval_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(200, json={"items": []}, headers={"ETag": '"e0"'})

    slept: list[float] = []
    monkeypatch.setattr("time.sleep", slept.append)
    signer, verifier = generate_key(tool_key_name(TOOL))
    client = AgentClient("http://server", TOOL, signer, transport=httpx.MockTransport(respond))
    agent = Agent(client, object(), TOOL, signer, verifier, Journal(tmp_path / "journal"))  # type: ignore[arg-type]

    agent.run(0.5, stop=lambda: len(asked) >= 3)

    assert all("Prefer" not in r.headers and "If-None-Match" not in r.headers for r in asked)
    assert slept == [0.5, 0.5, 0.5]
