"""Benches assigned to operators: an administrator says where each person works."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers
from tests.unit.services.people_seed import add_operator
from triage.errors import InvalidInput, NotFound, PermissionDenied
from triage.services import bench_assignment
from triage.services.bench_assignment import BenchAssignment, BenchNotAssigned

ADMIN = callers.administrator()
WHY = "moved to the second line"


def _benches(factory: FakeUnitOfWorkFactory, operator_id: str) -> list[str]:
    return bench_assignment.assigned_benches(factory, ADMIN, operator_id)


def test_an_administrator_assigns_benches(factory: FakeUnitOfWorkFactory) -> None:
    add_operator(factory, "bob")
    done = bench_assignment.assign_benches(
        factory, ADMIN, "bob", [" BENCH-2", "BENCH-1 ", "BENCH-2"], WHY
    )

    assert done == BenchAssignment("bob", ["BENCH-1", "BENCH-2"], [])
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject.id, entry.actor.id) == (
        "operator.benches_assigned",
        "bob",
        "adm",
    )
    assert entry.data == {"benches": ["BENCH-1", "BENCH-2"], "previous": [], "reason": WHY}
    assert _benches(factory, "bob") == ["BENCH-1", "BENCH-2"]


def test_a_new_set_replaces_the_old_and_none_takes_every_bench_away(
    factory: FakeUnitOfWorkFactory,
) -> None:
    add_operator(factory, "bob")
    bench_assignment.assign_benches(factory, ADMIN, "bob", ["B1", "B2"], WHY)
    moved = bench_assignment.assign_benches(factory, ADMIN, "bob", ["B2", "B3"], WHY)
    assert moved == BenchAssignment("bob", ["B2", "B3"], ["B1", "B2"])
    assert _benches(factory, "bob") == ["B2", "B3"]

    gone = bench_assignment.assign_benches(factory, ADMIN, "bob", [], "left the bench team")
    assert gone == BenchAssignment("bob", [], ["B2", "B3"])
    assert _benches(factory, "bob") == []
    assert factory.entries()[-1].data["benches"] == []


def test_assigning_the_same_set_records_nothing(factory: FakeUnitOfWorkFactory) -> None:
    add_operator(factory, "bob")
    bench_assignment.assign_benches(factory, ADMIN, "bob", ["B1"], WHY)
    again = bench_assignment.assign_benches(factory, ADMIN, "bob", ["B1", " B1"], WHY)
    assert again == BenchAssignment("bob", ["B1"], ["B1"])
    assert factory.entry_types() == ["operator.created", "operator.benches_assigned"]


def test_nobody_assigns_their_own_benches_and_only_an_administrator_assigns(
    factory: FakeUnitOfWorkFactory,
) -> None:
    add_operator(factory, "adm")
    add_operator(factory, "bob")
    with pytest.raises(PermissionDenied, match="their own benches"):
        bench_assignment.assign_benches(factory, ADMIN, "adm", ["B1"], WHY)
    with pytest.raises(PermissionDenied):
        bench_assignment.assign_benches(factory, callers.supervisor(), "bob", ["B1"], WHY)
    assert factory.entry_types() == ["operator.created", "operator.created"]


@pytest.mark.parametrize(
    ("benches", "reason", "named"),
    [
        (["B1", "   "], WHY, "bench"),
        (["x" * 65], WHY, "bench"),
        (["B\x001"], WHY, "bench"),
        ([f"B{n}" for n in range(33)], WHY, "at most 32"),
        (["B1"], "because", "reason"),
    ],
)
def test_a_bad_assignment_is_refused(
    factory: FakeUnitOfWorkFactory, benches: list[str], reason: str, named: str
) -> None:
    add_operator(factory, "bob")
    with pytest.raises(InvalidInput, match=named):
        bench_assignment.assign_benches(factory, ADMIN, "bob", benches, reason)
    assert factory.entry_types() == ["operator.created"]


def test_benches_are_assigned_to_a_known_operator_only(factory: FakeUnitOfWorkFactory) -> None:
    for operator_id in ("ghost", "Not An Id\x00"):
        with pytest.raises(NotFound):
            bench_assignment.assign_benches(factory, ADMIN, operator_id, ["B1"], WHY)
        with pytest.raises(NotFound):
            _benches(factory, operator_id)
    assert factory.entries() == []


def test_one_reads_ones_own_benches_and_a_reviewer_reads_anyones(
    factory: FakeUnitOfWorkFactory,
) -> None:
    add_operator(factory, "op")
    add_operator(factory, "bob")
    bench_assignment.assign_benches(factory, ADMIN, "op", ["B1"], WHY)
    assert bench_assignment.assigned_benches(factory, callers.bench_operator("op"), "op") == ["B1"]
    assert bench_assignment.assigned_benches(factory, callers.auditor(), "op") == ["B1"]
    with pytest.raises(PermissionDenied):
        bench_assignment.assigned_benches(factory, callers.bench_operator("bob"), "op")


def test_the_check_at_sign_in_and_work_orders(factory: FakeUnitOfWorkFactory) -> None:
    add_operator(factory, "bob")
    bench_assignment.assign_benches(factory, ADMIN, "bob", ["B1"], WHY)
    with factory(write=False) as uow:
        bench_assignment.check_assigned(uow, "bob", "B1")
        with pytest.raises(BenchNotAssigned, match="bob is not assigned to bench B2"):
            bench_assignment.check_assigned(uow, "bob", "B2")
    assert bench_assignment.bench_name("  B 7 ") == "B 7"
