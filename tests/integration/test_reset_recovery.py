"""Half-done resets are found and finished or set aside, never lost (SQLite and PostgreSQL).

The agent is interrupted at each point of a reset (before touching the device, after the
reset, after the server recorded the result) and a fresh agent with the same journal takes
over; the server closes work orders that expired without a result; a device set aside loses
its work order. A security-log read goes the same way: read once, sent until the server has it,
never read twice under one order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Staffed
from triage import gbcs
from triage.adapters.devices import scenarios
from triage.adapters.devices.simulated import SimulatedDevice, SimulatedFleet
from triage.adapters.replay import replay_check
from triage.domain.lifecycle import JobState
from triage.domain.work_order import WorkOrder
from triage.entrypoints.agent import Agent, AgentError, Journal
from triage.entrypoints.statuses import status_of
from triage.errors import InvalidInput, TriageError
from triage.services import facility, intake, job_steps, security_log
from triage.services import ledger as ledger_service

D1 = "BC-33-AC-FF-FE-FA-66-01"
SWEEP_NOW = -timedelta(hours=6)  # a grace that makes every order look long expired


class Stopped(BaseException):
    """The agent process dies here (BaseException: nothing in the agent may catch it)."""


class ServiceClient:
    """The server, as the tool sees it: the services behind the agent's three calls."""

    def __init__(
        self, staffed: Staffed, fail_after_post: bool = False, fail_before_post: bool = False
    ) -> None:
        self.staffed = staffed
        self.fail_after_post = fail_after_post
        self.fail_before_post = fail_before_post

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        uow, tool = self.staffed.app.uow, self.staffed.tool
        try:
            if (method, path) == ("GET", "/api/v1/agent/work-orders"):
                return {"items": job_steps.work_orders_for_tool(uow, tool)}
            assert body is not None
            if (method, path) == ("POST", "/api/v1/agent/results"):
                job = job_steps.record_tool_result(uow, tool, body["result"])
                if self.fail_after_post:
                    raise Stopped("killed after the server recorded the result")
                return {"state": job.state.value}
            if (method, path) == ("POST", "/api/v1/agent/security-logs"):
                if self.fail_before_post:
                    raise Stopped("killed after reading the log, before sending it")
                store = self.staffed.app.evidence_store()
                security_log.record_reading(uow, tool, store, body["reading"])
                if self.fail_after_post:
                    raise Stopped("killed after the server recorded the reading")
                return {}
            if (method, path) == ("POST", "/api/v1/agent/refusals"):
                job_steps.record_refusal(uow, tool, body["work_order_id"], body["reason"])
                return {}
        except TriageError as exc:
            raise AgentError(str(exc), status_of(exc)) from exc
        raise AssertionError(f"unexpected call {method} {path}")


class InterruptingConnector:
    """The simulated connector, with the agent killed just before or just after the reset."""

    def __init__(self, staffed: Staffed, when: str) -> None:
        self.inner = staffed.connector
        self.when = when

    def attach(self, device_id: str) -> SimulatedDevice | Any:
        device = self.inner.attach(device_id)
        when = self.when

        class Attached:
            device_id = device.device_id
            device_type = device.device_type
            read_state = device.read_state

            def read_security_log(self) -> bytes:
                if when == "before the read":
                    raise Stopped("killed before reading the log")
                return device.read_security_log()

            def factory_reset(self, signed: str) -> None:
                if when == "before":
                    raise Stopped("killed before touching the device")
                device.factory_reset(signed)
                if when == "after":
                    raise Stopped("killed after the reset, before reporting it")

        return Attached()


def make_agent(staffed: Staffed, journal: Path, connector: Any, client: Any) -> Agent:
    return Agent(
        client,
        connector,
        staffed.tool.id,
        staffed.tool_key,
        staffed.app.verifier_key(),
        Journal(journal),
    )


@pytest.fixture
def ready(staffed: Staffed) -> Iterator[tuple[Staffed, str]]:
    staffed.manifest("C-R", [D1])
    job = staffed.receive(D1)
    assert job.state is JobState.ELIGIBLE
    yield staffed, job.id
    app = staffed.app
    assert ledger_service.verify(
        app.uow, ledger_service.LEDGER_ACTOR, app.verifier_key(), app.origin
    ).ok
    assert replay_check(app.database, app.facility.id).differences == []


def authorise(staffed: Staffed, job_id: str) -> str:
    return job_steps.authorise_reset(
        staffed.app.uow, staffed.ben, job_id, staffed.tool.id, staffed.app.signer_key()
    )


def killed_agent(staffed: Staffed, job_id: str, journal: Path, when: str) -> None:
    """Authorise a reset and run an agent that is killed at ``when`` of carrying it out."""
    authorise(staffed, job_id)
    connector: Any
    if when == "after the report":
        connector, client = staffed.connector, ServiceClient(staffed, fail_after_post=True)
    else:
        connector, client = InterruptingConnector(staffed, when), ServiceClient(staffed)
    with pytest.raises(Stopped):
        make_agent(staffed, journal, connector, client).run_once()


def refusals(staffed: Staffed) -> list[str]:
    return [
        e.type
        for e in staffed.entries("tool.result_refused") + staffed.entries("tool.command_refused")
    ]


def test_agent_killed_after_the_reset_reports_it_on_restart(
    ready: tuple[Staffed, str], tmp_path: Path
) -> None:
    staffed, job_id = ready
    journal = tmp_path / "agent" / "journal"
    killed_agent(staffed, job_id, journal, "after")
    assert staffed.job(job_id).state is JobState.RESET_AUTHORISED
    assert len(Journal(journal).unfinished()) == 1

    again = make_agent(staffed, journal, staffed.connector, ServiceClient(staffed))
    assert again.run_once() == 0  # the order was resumed, not carried out a second time
    assert staffed.job(job_id).state is JobState.VERIFIED
    [completed] = staffed.entries("reset.completed")
    assert "interrupted by an agent restart" in completed.data["detail"]
    assert SimulatedFleet(staffed.fleet_path).device_state(D1)["resets"] == 1
    assert Journal(journal).unfinished() == []
    assert refusals(staffed) == []


def test_agent_killed_before_the_reset_reports_a_failure_and_the_device_is_retried(
    ready: tuple[Staffed, str], tmp_path: Path
) -> None:
    staffed, job_id = ready
    journal = tmp_path / "agent" / "journal"
    killed_agent(staffed, job_id, journal, "before")

    agent = make_agent(staffed, journal, staffed.connector, ServiceClient(staffed))
    agent.run_once()
    job = staffed.job(job_id)
    assert job.state is JobState.RESET_FAILED
    [failed] = staffed.entries("reset.failed")
    assert "unchanged: the reset did not happen" in failed.data["detail"]
    # The order's nonce stays spent: the same order is never carried out later.
    assert agent.run_once() == 0
    authorise(staffed, job_id)
    assert agent.run_once() == 1
    assert staffed.job(job_id).state is JobState.VERIFIED
    assert staffed.job(job_id).reset_attempts == 2


def test_agent_killed_after_the_server_recorded_the_result_sends_it_once_more_harmlessly(
    ready: tuple[Staffed, str], tmp_path: Path
) -> None:
    staffed, job_id = ready
    journal = tmp_path / "agent" / "journal"
    killed_agent(staffed, job_id, journal, "after the report")
    assert staffed.job(job_id).state is JobState.VERIFIED
    size = staffed.ledger_size()

    again = make_agent(staffed, journal, staffed.connector, ServiceClient(staffed))
    again.run_once()
    assert staffed.ledger_size() == size
    assert refusals(staffed) == []
    assert Journal(journal).unfinished() == []


def test_result_the_server_cannot_take_closes_the_order_instead_of_retrying_forever(
    ready: tuple[Staffed, str], tmp_path: Path
) -> None:
    staffed, job_id = ready
    journal = tmp_path / "agent" / "journal"
    killed_agent(staffed, job_id, journal, "after")
    # While the agent was down, the order expired and the server closed it.
    assert job_steps.sweep_expired_orders(staffed.app.uow, grace=SWEEP_NOW) == [job_id]

    again = make_agent(staffed, journal, staffed.connector, ServiceClient(staffed))
    again.run_once()
    assert Journal(journal).unfinished() == []
    [refused] = staffed.entries("tool.result_refused")
    assert "expired" in json.dumps(refused.data)
    assert staffed.job(job_id).state is JobState.RESET_FAILED


def test_torn_journal_line_from_a_crash_is_cut_off(tmp_path: Path, staffed: Staffed) -> None:
    path = tmp_path / "journal"
    staffed.manifest("C-T", [D1])
    job = staffed.receive(D1)
    signed = authorise(staffed, job.id)
    order = WorkOrder.open(signed, staffed.app.verifier_key())
    journal = Journal(path)
    assert journal.claim(order, signed, {"a": "1"})
    with path.open("ab") as f:
        f.write(b'{"event":"reported","work_order_id":"')  # the crash came mid-line
    reopened = Journal(path)
    [open_order] = reopened.unfinished()
    assert open_order["work_order_id"] == order.id
    reopened.reported(order.id, "done")
    assert Journal(path).unfinished() == []
    assert all(json.loads(line) for line in path.read_bytes().splitlines())
    assert not Journal(path).claim(order, signed, {"a": "1"})  # its nonce is still spent
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_expired_work_orders_are_closed_and_the_last_attempt_quarantines(
    ready: tuple[Staffed, str],
) -> None:
    staffed, job_id = ready
    facility.change_settings(staffed.app.uow, staffed.admin, max_reset_attempts=2)
    signed = authorise(staffed, job_id)
    # Not yet expired (with the real grace): nothing moves, and no write transaction is opened
    # (the sweep runs every minute; it must not queue for the write lock for nothing).
    opened: list[bool] = []

    def counting(write: bool = False) -> Any:
        opened.append(write)
        return staffed.app.uow(write=write)

    assert job_steps.sweep_expired_orders(counting) == []  # type: ignore[arg-type]
    assert opened == [False]
    assert job_steps.sweep_expired_orders(staffed.app.uow, grace=SWEEP_NOW) == [job_id]
    job = staffed.job(job_id)
    assert job.state is JobState.RESET_FAILED
    [failed] = staffed.entries("reset.failed")
    assert failed.actor.kind == "system"
    assert failed.data["expired"] is True
    assert f"without a result from tool {staffed.tool.id}" in failed.data["detail"]
    with staffed.app.uow(write=False) as uow:
        order = WorkOrder.open(signed, staffed.app.verifier_key())
        found = uow.work_orders.get(order.id)
        assert found is not None and found.status == "expired"
    # The tool's late result for the closed order is refused, and says why.
    with pytest.raises(InvalidInput, match="no result came before it expired"):
        job_steps.record_tool_result(staffed.app.uow, staffed.tool, staffed.carry_out(signed))
    # A second order expires too: that was the last attempt, so the device is set aside.
    authorise(staffed, job_id)
    assert job_steps.sweep_expired_orders(staffed.app.uow, grace=SWEEP_NOW) == [job_id]
    assert staffed.job(job_id).state is JobState.QUARANTINED
    assert job_steps.sweep_expired_orders(staffed.app.uow, grace=SWEEP_NOW) == []


def test_quarantine_withdraws_the_work_order_from_the_tool(ready: tuple[Staffed, str]) -> None:
    staffed, job_id = ready
    signed = authorise(staffed, job_id)
    assert job_steps.work_orders_for_tool(staffed.app.uow, staffed.tool) == [signed]
    job_steps.quarantine(staffed.app.uow, staffed.sup, job_id, "seal looks wrong on second look")
    assert job_steps.work_orders_for_tool(staffed.app.uow, staffed.tool) == []
    with pytest.raises(InvalidInput, match="withdrawn: the device was set aside"):
        job_steps.record_tool_result(staffed.app.uow, staffed.tool, staffed.carry_out(signed))
    assert job_steps.sweep_expired_orders(staffed.app.uow, grace=SWEEP_NOW) == []
    assert staffed.job(job_id).state is JobState.QUARANTINED


# --- security-log reads ---------------------------------------------------------------------------

D2 = "BC-33-AC-FF-FE-FA-66-02"


@pytest.fixture
def scanned(staffed: Staffed) -> Iterator[tuple[Staffed, str]]:
    """A job just received for a device with a failing battery (nothing read from it yet)."""
    staffed.manifest("C-L", [D2])
    SimulatedFleet.create(staffed.fleet_path, [scenarios.failing_battery(D2)])
    scan = intake.scan_device(staffed.app.uow, staffed.ben, D2)
    assert scan.job is not None, scan.message
    yield staffed, scan.job.id
    app = staffed.app
    assert replay_check(app.database, app.facility.id).differences == []


def order_read(staffed: Staffed, job_id: str) -> str:
    return security_log.request_read(
        staffed.app.uow, staffed.ben, job_id, staffed.tool.id, staffed.app.signer_key()
    )


def log_reads(staffed: Staffed) -> int:
    return int(SimulatedFleet(staffed.fleet_path).device_state(D2)["log_reads"])


def recorded(staffed: Staffed) -> list[Any]:
    return staffed.entries("device.security_log_recorded")


def test_the_agent_reads_the_log_once_and_the_server_records_the_devices_bytes(
    scanned: tuple[Staffed, str], tmp_path: Path
) -> None:
    staffed, job_id = scanned
    order_read(staffed, job_id)
    agent = make_agent(staffed, tmp_path / "journal", staffed.connector, ServiceClient(staffed))

    assert agent.run_once() == 1
    assert agent.run_once() == 0, "the order is done: the tool is not handed it again"

    [entry] = recorded(staffed)
    assert entry.data["source"]["kind"] == "tool"
    assert (entry.data["use_case"], entry.data["entries"]) == ("ECS35b", 2)
    found = security_log.for_job(staffed.app.uow, staffed.ben, job_id)
    assert found is not None and found.sha256 == entry.data["sha256"]
    at = scenarios.DEFAULT_AT
    assert [(e.code, e.at) for e in found.entries] == [
        ("0x8F1F", at - timedelta(hours=3)),
        ("0x8F3F", at),
    ]
    store = staffed.app.evidence_store()
    kept = gbcs.decode(security_log.raw(staffed.app.uow, staffed.ben, store, job_id, found.sha256))
    assert (kept.device_id, kept.originator_counter) == (D2, 1), "the device's first answer"
    assert log_reads(staffed) == 1
    assert Journal(tmp_path / "journal").unfinished() == []


def test_a_read_order_is_never_carried_out_twice(
    scanned: tuple[Staffed, str], tmp_path: Path
) -> None:
    staffed, job_id = scanned
    signed = order_read(staffed, job_id)
    agent = make_agent(staffed, tmp_path / "journal", staffed.connector, ServiceClient(staffed))
    assert agent.process(signed) == "security log recorded"
    assert agent.process(signed) == "refused"
    assert log_reads(staffed) == 1
    assert len(recorded(staffed)) == 1
    [refused] = staffed.entries("tool.command_refused")
    assert "already carried out (replay)" in json.dumps(refused.data)


def test_agent_killed_after_reading_sends_the_same_reading_on_restart(
    scanned: tuple[Staffed, str], tmp_path: Path
) -> None:
    staffed, job_id = scanned
    journal = tmp_path / "journal"
    order_read(staffed, job_id)
    client = ServiceClient(staffed, fail_before_post=True)
    with pytest.raises(Stopped):
        make_agent(staffed, journal, staffed.connector, client).run_once()
    assert recorded(staffed) == []
    [kept] = Journal(journal).unfinished()

    again = make_agent(staffed, journal, staffed.connector, ServiceClient(staffed))
    assert again.run_once() == 0  # resumed, not read a second time
    [entry] = recorded(staffed)
    assert log_reads(staffed) == 1
    sent = json.loads(str(kept["result"]).split("\n", 1)[0])
    assert entry.data["sha256"] == sent["sha256"], "the reading kept before the crash was sent"
    assert Journal(journal).unfinished() == []


def test_agent_killed_before_reading_reads_under_the_claimed_order_on_restart(
    scanned: tuple[Staffed, str], tmp_path: Path
) -> None:
    staffed, job_id = scanned
    journal = tmp_path / "journal"
    order_read(staffed, job_id)
    interrupting = InterruptingConnector(staffed, "before the read")
    with pytest.raises(Stopped):
        make_agent(staffed, journal, interrupting, ServiceClient(staffed)).run_once()
    assert log_reads(staffed) == 0

    again = make_agent(staffed, journal, staffed.connector, ServiceClient(staffed))
    assert again.run_once() == 0
    assert len(recorded(staffed)) == 1
    assert log_reads(staffed) == 1


def test_agent_killed_after_the_server_recorded_the_reading_closes_the_order_on_restart(
    scanned: tuple[Staffed, str], tmp_path: Path
) -> None:
    staffed, job_id = scanned
    journal = tmp_path / "journal"
    order_read(staffed, job_id)
    with pytest.raises(Stopped):
        make_agent(
            staffed, journal, staffed.connector, ServiceClient(staffed, fail_after_post=True)
        ).run_once()

    again = make_agent(staffed, journal, staffed.connector, ServiceClient(staffed))
    again.run_once()
    assert len(recorded(staffed)) == 1, "the server records one reading per order"
    assert Journal(journal).unfinished() == []
    assert log_reads(staffed) == 1


def test_a_device_that_does_not_answer_is_reported_and_nothing_is_recorded(
    scanned: tuple[Staffed, str], tmp_path: Path
) -> None:
    staffed, job_id = scanned
    with SimulatedFleet(staffed.fleet_path).update() as fleet:
        fleet["devices"][D2]["log_unreadable"] = True
    order_read(staffed, job_id)
    agent = make_agent(staffed, tmp_path / "journal", staffed.connector, ServiceClient(staffed))
    assert agent.run_once() == 1
    assert recorded(staffed) == []
    [refused] = staffed.entries("tool.command_refused")
    assert "did not answer the security-log read" in json.dumps(refused.data)
    assert Journal(tmp_path / "journal").unfinished() == []
    # The server hands the order out until it expires; the tool refused it once and says no
    # more (a refusal at every poll counted against its threshold and suspended it).
    restarted = make_agent(staffed, tmp_path / "journal", staffed.connector, ServiceClient(staffed))
    assert (agent.run_once(), restarted.run_once()) == (1, 1)
    assert len(staffed.entries("tool.command_refused")) == 1
    assert log_reads(staffed) == 0
