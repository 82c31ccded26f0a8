"""Seeding for the security and ledger use-case tests: tools, operators and refusals made
through the real use cases."""

from __future__ import annotations

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services.callers import administrator
from triage.domain.caller import Caller
from triage.domain.roles import Role
from triage.ledger import note
from triage.ledger.entry import Ref
from triage.services import anomaly, common, operators, tools
from triage.services.facility import create_facility

ORIGIN = "triage.example.net/unit"


def facility(factory: FakeUnitOfWorkFactory) -> None:
    """The facility with its first entry, as ``triage init`` makes it."""
    create_facility(factory, factory.facility_id, "Unit Facility", ORIGIN)


def tool(factory: FakeUnitOfWorkFactory, tool_id: str = "T1", bench: str = "BENCH-1") -> None:
    """Enrol a tool with a fresh key of its own."""
    _, verifier = note.generate_key(f"tool.{tool_id}")
    tools.enrol_tool(factory, administrator(), tool_id, bench, verifier)


def operator(factory: FakeUnitOfWorkFactory, operator_id: str, role: Role) -> Caller:
    """Create an operator holding ``role``; returns them as a caller."""
    operators.create_operator(
        factory, administrator(), operator_id, operator_id.title(), frozenset({role})
    )
    return operators.operator_caller(factory, operator_id)


def refuse_result(factory: FakeUnitOfWorkFactory, tool_id: str = "T1") -> None:
    """A tool's result refused, as the bench records it: the refusal, then the anomaly check."""
    common.record_refusal(
        factory,
        Caller.tool(tool_id),
        "tool.result_refused",
        Ref("tool", tool_id),
        "the result does not verify",
        then=anomaly.after_refusal(tool_id),
    )
