"""A work order's expiry bounds when the device may be reset, not only when its result may
arrive (SQLite and PostgreSQL).

A result the tool says it completed after the order expired is refused and recorded, even
within the sweep's grace; a reset completed in time whose result arrives within the grace is
taken, which is what the grace is for; one arriving after the grace is refused even before the
sweep has closed the order; and the agent never starts an order that has already expired.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.conftest import Staffed, move_clock
from tests.integration.test_reset_recovery import ServiceClient, authorise, make_agent
from triage.adapters.devices.simulated import SimulatedFleet
from triage.adapters.replay import replay_check
from triage.domain.lifecycle import JobState
from triage.domain.work_order import ToolResult, WorkOrder
from triage.entrypoints.agent import Journal
from triage.errors import InvalidInput
from triage.services import job_steps
from triage.services import ledger as ledger_service

D1 = "BC-33-AC-FF-FE-FA-77-01"


@pytest.fixture
def ordered(staffed: Staffed) -> Iterator[tuple[Staffed, str, WorkOrder]]:
    """A device waiting for its reset under a signed work order (valid for 15 minutes)."""
    staffed.manifest("C-L", [D1])
    job = staffed.receive(D1)
    signed = authorise(staffed, job.id)
    yield staffed, signed, WorkOrder.open(signed, staffed.app.verifier_key())
    app = staffed.app
    assert ledger_service.verify(
        app.uow, ledger_service.LEDGER_ACTOR, app.verifier_key(), app.origin
    ).ok
    assert replay_check(app.database, app.facility.id).differences == []


def _completed(at: datetime) -> Callable[[ToolResult], ToolResult]:
    """The tool's result, saying the reset was completed ``at``."""
    return lambda result: dataclasses.replace(result, completed_at=at)


def test_a_result_completed_after_the_order_expired_is_refused_within_the_grace(
    ordered: tuple[Staffed, str, WorkOrder], monkeypatch: pytest.MonkeyPatch
) -> None:
    staffed, signed, order = ordered
    job_before = staffed.job(order.job_id)
    result = staffed.carry_out(signed, _completed(order.expires_at + timedelta(seconds=30)))
    # It arrives 40 s after the expiry: within the sweep's grace of two minutes.
    move_clock(monkeypatch, staffed.app, order.expires_at + timedelta(seconds=40))
    with pytest.raises(InvalidInput, match=r"expired at .*, before the reset was completed"):
        job_steps.record_tool_result(staffed.app.uow, staffed.tool, result)
    [refused] = staffed.entries("tool.result_refused")
    assert order.id in str(refused.data) and "before the reset was completed" in str(refused.data)
    assert staffed.job(order.job_id).state is job_before.state
    assert staffed.entries("reset.completed") == []


def test_a_reset_completed_in_time_is_taken_when_its_result_comes_within_the_grace(
    ordered: tuple[Staffed, str, WorkOrder], monkeypatch: pytest.MonkeyPatch
) -> None:
    staffed, signed, order = ordered
    result = staffed.carry_out(signed, _completed(order.expires_at - timedelta(seconds=5)))
    move_clock(monkeypatch, staffed.app, order.expires_at + timedelta(seconds=90))
    job = job_steps.record_tool_result(staffed.app.uow, staffed.tool, result)
    assert job.state is JobState.VERIFIED
    assert staffed.entries("tool.result_refused") == []


def test_a_result_after_the_grace_is_refused_even_before_the_sweep_closes_the_order(
    ordered: tuple[Staffed, str, WorkOrder], monkeypatch: pytest.MonkeyPatch
) -> None:
    staffed, signed, order = ordered
    result = staffed.carry_out(signed, _completed(order.expires_at - timedelta(seconds=5)))
    grace = staffed.app.settings.work_order_expiry_grace
    move_clock(monkeypatch, staffed.app, order.expires_at + grace + timedelta(seconds=1))
    with pytest.raises(InvalidInput, match="its result came more than 0:02:00 later"):
        job_steps.record_tool_result(staffed.app.uow, staffed.tool, result)
    assert len(staffed.entries("tool.result_refused")) == 1
    assert staffed.entries("reset.completed") == []


def test_the_agent_does_not_start_an_order_that_has_expired(
    ordered: tuple[Staffed, str, WorkOrder], tmp_path: Path
) -> None:
    staffed, _, order = ordered
    journal = tmp_path / "agent" / "journal"
    agent = make_agent(staffed, journal, staffed.connector, ServiceClient(staffed))
    agent.clock = lambda: order.expires_at + timedelta(seconds=1)
    assert agent.run_once() == 1
    assert SimulatedFleet(staffed.fleet_path).device_state(D1)["resets"] == 0
    assert Journal(journal).unfinished() == []  # nothing was claimed or started
    [refused] = staffed.entries("tool.command_refused")
    assert "expired" in str(refused.data)
