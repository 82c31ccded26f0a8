"""Enrolling Triage Tools by their public key, suspending and retiring them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers
from tests.unit.services.people_seed import enrol_tool, tool_key
from triage.domain.caller import Caller
from triage.domain.tool import Tool, ToolStatus
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.services import reinstatement, tools

ADMIN = callers.administrator()
REASON = "the tool's case was found open"


def _tool(factory: FakeUnitOfWorkFactory, tool_id: str) -> Tool | None:
    with factory(write=False) as uow:
        return uow.tools.get(tool_id)


def test_a_tool_is_enrolled_by_its_public_key(factory: FakeUnitOfWorkFactory) -> None:
    _, verifier = tool_key("T1")
    enrolled = tools.enrol_tool(factory, ADMIN, "T1", "  BENCH-1 ", f" {verifier}\n")

    assert (enrolled.id, enrolled.bench, enrolled.verifier_key) == ("T1", "BENCH-1", verifier)
    assert enrolled.status is ToolStatus.ACTIVE
    assert enrolled.enrolled_at == factory.clock.now()
    [entry] = factory.entries()
    assert (entry.type, entry.subject.kind, entry.subject.id) == ("tool.enrolled", "tool", "T1")
    assert entry.data == {"bench": "BENCH-1", "verifier_key": verifier}
    assert _tool(factory, "T1") == enrolled


def test_a_security_manager_may_enrol_a_tool_a_supervisor_may_not(
    factory: FakeUnitOfWorkFactory,
) -> None:
    _, verifier = tool_key("T1")
    with pytest.raises(PermissionDenied):
        tools.enrol_tool(factory, callers.supervisor(), "T1", "BENCH-1", verifier)
    assert factory.entries() == []
    tools.enrol_tool(factory, callers.security_manager(), "T1", "BENCH-1", verifier)
    assert factory.entry_types() == ["tool.enrolled"]


@pytest.mark.parametrize(
    ("tool_id", "key_for", "bench", "field"),
    [
        ("T 1", "T1", "BENCH-1", "tool_id"),
        ("", "T1", "BENCH-1", "tool_id"),
        ("T1", "T2", "BENCH-1", "verifier_key"),  # a key named for another tool
        ("T1", "T1", "  ", "bench"),
    ],
)
def test_a_bad_enrolment_is_refused_naming_the_field(
    factory: FakeUnitOfWorkFactory, tool_id: str, key_for: str, bench: str, field: str
) -> None:
    verifier = tool_key(key_for)[1]
    with pytest.raises(InvalidInput) as refused:
        tools.enrol_tool(factory, ADMIN, tool_id, bench, verifier)
    assert refused.value.field == field
    assert factory.entries() == []


def test_a_key_that_does_not_parse_is_refused(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(InvalidInput) as refused:
        tools.enrol_tool(factory, ADMIN, "T1", "BENCH-1", "tool.T1+not-a-key")
    assert refused.value.field == "verifier_key"
    assert factory.entries() == []


def test_a_tool_is_enrolled_once(factory: FakeUnitOfWorkFactory) -> None:
    first = enrol_tool(factory, "T1", "BENCH-1").tool
    _, other = tool_key("T1")
    with pytest.raises(Conflict, match="already enrolled"):
        tools.enrol_tool(factory, ADMIN, "T1", "BENCH-2", other)
    assert factory.entry_types() == ["tool.enrolled"]
    assert _tool(factory, "T1") == first


def test_suspending_a_tool_records_why(factory: FakeUnitOfWorkFactory) -> None:
    enrol_tool(factory, "T1")
    factory.clock.advance(timedelta(minutes=5))
    suspended = tools.suspend_tool(factory, callers.security_manager(), "T1", f"  {REASON}  ")

    assert suspended.status is ToolStatus.SUSPENDED
    assert (suspended.status_reason, suspended.status_changed_at) == (REASON, factory.clock.now())
    entry, incident = factory.entries()[-2:]
    assert (entry.type, entry.subject.id, entry.actor.id) == ("tool.suspended", "T1", "sec")
    assert entry.data == {"reason": REASON}
    assert _tool(factory, "T1") == suspended
    # The suspension is an incident in the register, raised in the same transaction.
    assert (incident.type, incident.data["source"], incident.data["about_id"]) == (
        "incident.raised",
        "tool_suspended",
        "T1",
    )
    assert incident.data["detail"] == {"reason": REASON, "suspended_by": "sec"}
    assert incident.data["notifications"], "the default rules give it a notification deadline"


def test_suspending_needs_the_permission_a_reason_and_a_tool(
    factory: FakeUnitOfWorkFactory,
) -> None:
    enrol_tool(factory, "T1")
    with pytest.raises(PermissionDenied):
        tools.suspend_tool(factory, callers.auditor(), "T1", REASON)
    with pytest.raises(InvalidInput) as short:
        tools.suspend_tool(factory, ADMIN, "T1", "because")
    assert short.value.field == "reason"
    with pytest.raises(NotFound, match="no enrolled tool 'T9'"):
        tools.suspend_tool(factory, ADMIN, "T9", REASON)
    assert factory.entry_types() == ["tool.enrolled"]
    found = _tool(factory, "T1")
    assert found is not None and found.status is ToolStatus.ACTIVE


def test_a_suspended_tool_cannot_be_suspended_again(factory: FakeUnitOfWorkFactory) -> None:
    enrol_tool(factory, "T1")
    suspended = tools.suspend_tool(factory, ADMIN, "T1", REASON)
    with pytest.raises(Conflict, match="T1 is suspended; it cannot be suspended"):
        tools.suspend_tool(factory, ADMIN, "T1", "another reason altogether")
    assert factory.entry_types() == ["tool.enrolled", "tool.suspended", "incident.raised"]
    assert _tool(factory, "T1") == suspended


def test_an_active_or_suspended_tool_may_be_retired_for_good(
    factory: FakeUnitOfWorkFactory,
) -> None:
    enrol_tool(factory, "T1")
    enrol_tool(factory, "T2")
    tools.suspend_tool(factory, ADMIN, "T2", REASON)

    retired = tools.retire_tool(factory, ADMIN, "T1", "replaced by a newer model")
    assert (retired.status, retired.status_reason) == (
        ToolStatus.RETIRED,
        "replaced by a newer model",
    )
    assert tools.retire_tool(factory, ADMIN, "T2", "never coming back").status is ToolStatus.RETIRED
    assert factory.entry_types()[-2:] == ["tool.retired", "tool.retired"]

    for change in (tools.suspend_tool, tools.retire_tool):
        with pytest.raises(Conflict, match="T1 is retired"):
            change(factory, ADMIN, "T1", REASON)
    with pytest.raises(Conflict, match="T1 is retired"):
        reinstatement.reinstate_tool(factory, callers.security_manager(), "T1", REASON)
    assert _tool(factory, "T1") == retired


def test_retiring_needs_the_permission(factory: FakeUnitOfWorkFactory) -> None:
    enrol_tool(factory, "T1")
    with pytest.raises(PermissionDenied):
        tools.retire_tool(factory, callers.bench_operator(), "T1", REASON)
    assert factory.entry_types() == ["tool.enrolled"]


def test_the_anomaly_checks_suspend_a_tool_in_their_own_unit_of_work(
    factory: FakeUnitOfWorkFactory,
) -> None:
    enrol_tool(factory, "T1")
    anomaly = Caller.system("anomaly")
    with factory(write=True) as uow:
        suspended = tools.record_tool_suspension(uow, anomaly, "T1", "anomaly: too many resets")
        assert suspended.status is ToolStatus.SUSPENDED
        # Not committed: the anomaly check commits with the step that breached.
    # Nor is its incident: rolled back with the suspension.
    assert factory.entry_types() == ["tool.enrolled"]
    with factory(write=True) as uow:
        tools.record_tool_suspension(uow, anomaly, "T1", "anomaly: too many resets")
        uow.commit()
    entry, incident = factory.entries()[-2:]
    assert (incident.type, incident.data["source"]) == ("incident.raised", "tool_suspended")
    assert (entry.type, entry.actor.kind, entry.data) == (
        "tool.suspended",
        "system",
        {"reason": "anomaly: too many resets"},
    )
    with factory(write=True) as uow, pytest.raises(Conflict):
        tools.record_tool_suspension(uow, anomaly, "T1", "anomaly: again")
