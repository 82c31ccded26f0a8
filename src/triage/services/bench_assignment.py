"""Benches assigned to operators: an administrator says where each person works.

An operator signs in at, holds a token for, and orders work at only a bench assigned to them;
what they type at sign-in is checked against the assignment, never taken on trust. Each
assignment is a ledger entry (``operator.benches_assigned``) holding the whole new set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from triage.domain.caller import Caller, CallerKind
from triage.domain.people import sought_id
from triage.domain.reason import Reason
from triage.domain.roles import Permission
from triage.domain.tool import Tool, ToolStatus
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.ledger.entry import Ref
from triage.services.common import make_entry, record_refusal
from triage.services.ports import UnitOfWork, UnitOfWorkFactory

MAX_BENCHES = 32
T = TypeVar("T")


class BenchNotAssigned(PermissionDenied):
    """An operator at, or asking for, a bench an administrator has not assigned them."""


@dataclass(frozen=True)
class BenchAssignment:
    """An operator's benches after an assignment, and before it."""

    operator_id: str
    benches: list[str]
    previous: list[str]


def bench_name(text: str) -> str:
    """A bench's name as typed, checked: 1-64 characters, no control characters."""
    name = text.strip()
    if not name or len(name) > 64 or not name.isprintable():
        raise InvalidInput(f"bench {text[:70]!r}: name the bench in 1-64 printable characters")
    return name


def not_assigned(operator_id: str, bench: str) -> BenchNotAssigned:
    """The refusal of ``operator_id`` at ``bench`` (for sign-in, tokens and work orders)."""
    return BenchNotAssigned(
        f"operator {operator_id} is not assigned to bench {bench}; ask an administrator"
    )


def check_assigned(uow: UnitOfWork, operator_id: str, bench: str) -> None:
    """Raise BenchNotAssigned unless ``bench`` is assigned to the operator now."""
    if bench not in uow.operators.benches(operator_id):
        raise not_assigned(operator_id, bench)


def assign_benches(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    operator_id: str,
    benches: Iterable[str],
    reason: str,
) -> BenchAssignment:
    """Give an operator exactly ``benches`` (none: they work at no bench), with a reason.

    An administrator does this, never for themself. Assigning the set they have already
    changes nothing and records nothing.
    """
    caller.require(Permission.OPERATOR_MANAGE)
    if caller.kind is CallerKind.OPERATOR and caller.id == operator_id:
        raise PermissionDenied("nobody assigns their own benches; ask another administrator")
    chosen = sorted({bench_name(b) for b in benches})
    if len(chosen) > MAX_BENCHES:
        raise InvalidInput(f"benches: at most {MAX_BENCHES}, not {len(chosen)}")
    text = Reason.parse(reason).text
    with uow_factory(write=True) as uow:
        _check_operator(uow, operator_id)
        previous = sorted(uow.operators.benches(operator_id))
        if previous == chosen:
            return BenchAssignment(operator_id, chosen, previous)
        uow.ledger.record(
            [
                make_entry(
                    uow,
                    caller,
                    "operator.benches_assigned",
                    Ref("operator", operator_id),
                    {"benches": chosen, "previous": previous, "reason": text},
                )
            ]
        )
        uow.commit()
    return BenchAssignment(operator_id, chosen, previous)


def assigned_benches(uow_factory: UnitOfWorkFactory, caller: Caller, operator_id: str) -> list[str]:
    """An operator's benches: one's own, or anyone's for who manages operators or reviews access."""
    if caller.kind is not CallerKind.OPERATOR or caller.id != operator_id:
        caller.require(Permission.OPERATOR_MANAGE, Permission.ACCESS_REVIEW)
    with uow_factory(write=False) as uow:
        _check_operator(uow, operator_id)
        return sorted(uow.operators.benches(operator_id))


def _check_operator(uow: UnitOfWork, operator_id: str) -> None:
    if uow.operators.get(sought_id(operator_id)) is None:
        raise NotFound(f"no operator {operator_id!r}")


# -- giving a bench's tool work -----------------------------------------------------------


class NotAtBench(PermissionDenied):
    """A work order asked for by an operator who is not signed in at the tool's bench."""


def bench_tool(uow: UnitOfWork, caller: Caller, tool_id: str) -> Tool:
    """The active tool ``tool_id``, at the bench where ``caller`` is signed in and assigned:
    only there may the caller give it work (NotAtBench otherwise)."""
    tool = uow.tools.get(tool_id)
    if tool is None:
        raise NotFound(f"no enrolled tool {tool_id!r}")
    if tool.status is not ToolStatus.ACTIVE:
        raise Conflict(f"tool {tool_id} is {tool.status}; it may not be given work")
    if caller.bench is not None and caller.bench not in uow.operators.benches(caller.id):
        # Checked now, not only at sign-in: an assignment taken away stops the next order.
        raise NotAtBench(str(not_assigned(caller.id, caller.bench)))
    if caller.bench != tool.bench:
        where = f"at bench {caller.bench}" if caller.bench else "at no bench"
        raise NotAtBench(
            f"{caller.id} is signed in {where}; a work order for tool {tool_id} must be "
            f"requested by an operator signed in at its bench, {tool.bench}"
        )
    return tool


def refusing_elsewhere(uow_factory: UnitOfWorkFactory, caller: Caller, issue: Callable[[], T]) -> T:
    """``issue()``, with an order asked for from the wrong bench recorded as a refusal."""
    try:
        return issue()
    except NotAtBench as exc:
        # An order asked for from the wrong place is a misuse attempt: on the record.
        record_refusal(uow_factory, caller, "auth.refused", Ref("operator", caller.id), str(exc))
        raise
