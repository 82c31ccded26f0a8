"""Benches for test staff: assigned by an administrator before anyone works at one."""

from __future__ import annotations

from collections.abc import Iterable

from triage.domain.caller import Caller
from triage.services import bench_assignment
from triage.services.ports import UnitOfWorkFactory


def assign_bench(uow_factory: UnitOfWorkFactory, operator_ids: Iterable[str], bench: str) -> None:
    """Assign ``bench`` to each operator (recorded, as an administrator would)."""
    for operator_id in operator_ids:
        bench_assignment.assign_benches(
            uow_factory, Caller.system("test"), operator_id, [bench], "works at this bench"
        )
