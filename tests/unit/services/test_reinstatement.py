"""Reinstating a suspended tool or operator: a security manager's act with a reason."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers
from tests.unit.services.people_seed import add_operator, enrol_tool, suspend_operator
from triage.domain.tool import ToolStatus
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.services import operators, reinstatement, tools

SECURITY = callers.security_manager()
WHY = "the alert was explained: a training day"


def test_a_security_manager_reinstates_a_suspended_tool(factory: FakeUnitOfWorkFactory) -> None:
    enrol_tool(factory, "T1")
    tools.suspend_tool(factory, callers.administrator(), "T1", "the tool's case was open")

    back = reinstatement.reinstate_tool(factory, SECURITY, "T1", WHY)

    assert (back.status, back.status_reason) == (ToolStatus.ACTIVE, WHY)
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject.id, entry.actor.id, entry.data) == (
        "tool.reinstated",
        "T1",
        "sec",
        {"reason": WHY},
    )


def test_an_administrator_may_not_reinstate_a_tool(factory: FakeUnitOfWorkFactory) -> None:
    enrol_tool(factory, "T1")
    tools.suspend_tool(factory, callers.administrator(), "T1", "the tool's case was open")
    with pytest.raises(PermissionDenied):
        reinstatement.reinstate_tool(factory, callers.administrator(), "T1", WHY)
    with pytest.raises(InvalidInput) as short:
        reinstatement.reinstate_tool(factory, SECURITY, "T1", "ok now")
    assert short.value.field == "reason"
    assert "why the tool may work again" in str(short.value)
    assert factory.entry_types() == ["tool.enrolled", "tool.suspended", "incident.raised"]


def test_only_a_suspended_tool_is_reinstated(factory: FakeUnitOfWorkFactory) -> None:
    enrol_tool(factory, "T1")
    with pytest.raises(Conflict, match="T1 is active; it cannot be reinstated"):
        reinstatement.reinstate_tool(factory, SECURITY, "T1", WHY)
    with pytest.raises(NotFound):
        reinstatement.reinstate_tool(factory, SECURITY, "T9", WHY)
    assert factory.entry_types() == ["tool.enrolled"]


def test_a_security_manager_reinstates_a_suspended_operator(
    factory: FakeUnitOfWorkFactory,
) -> None:
    add_operator(factory, "bob")
    suspend_operator(factory, "bob")

    back = reinstatement.reinstate_operator(factory, SECURITY, "bob", f" {WHY} ")

    assert not back.suspended and back.may_act
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject.id, entry.actor.id, entry.data) == (
        "operator.reinstated",
        "bob",
        "sec",
        {"reason": WHY},
    )
    assert operators.operator_caller(factory, "bob").id == "bob"


def test_reinstating_an_operator_is_refused_without_the_permission_or_a_reason(
    factory: FakeUnitOfWorkFactory,
) -> None:
    add_operator(factory, "bob")
    suspend_operator(factory, "bob")
    with pytest.raises(PermissionDenied):
        reinstatement.reinstate_operator(factory, callers.administrator(), "bob", WHY)
    with pytest.raises(InvalidInput) as short:
        reinstatement.reinstate_operator(factory, SECURITY, "bob", "fine")
    assert short.value.field == "reason"
    assert factory.entry_types()[-1] == "operator.suspended"
    with pytest.raises(PermissionDenied):
        operators.operator_caller(factory, "bob")


def test_only_a_suspended_operator_is_reinstated(factory: FakeUnitOfWorkFactory) -> None:
    add_operator(factory, "bob")
    with pytest.raises(Conflict, match="bob is not suspended"):
        reinstatement.reinstate_operator(factory, SECURITY, "bob", WHY)
    with pytest.raises(NotFound, match="no operator 'ghost'"):
        reinstatement.reinstate_operator(factory, SECURITY, "ghost", WHY)
    assert factory.entry_types() == ["operator.created"]
