"""REST endpoints of bench assignment: which benches each operator works at.

No "from __future__ import annotations" here: FastAPI must see the dependency types that are
defined inside ``build_bench_router``.
"""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.entrypoints.api import problems
from triage.entrypoints.api.routing import ThreadedRoute
from triage.entrypoints.api.security import access, operator_dependency, requires
from triage.services import bench_assignment

BenchName = Annotated[str, Field(min_length=1, max_length=64)]


class BenchesIn(BaseModel):
    benches: list[BenchName] = Field(
        max_length=bench_assignment.MAX_BENCHES,
        description="Every bench the operator works at from now on (empty: none).",
    )
    reason: str = Field(min_length=1, max_length=2000, description="Why (recorded).")


class BenchesOut(BaseModel):
    operator_id: str
    benches: list[str] = Field(description="The benches assigned now, sorted.")
    previous: list[str] | None = Field(
        default=None, description="The benches assigned before this change (after a change)."
    )


def build_bench_router(application: App) -> APIRouter:
    """The bench assignment routes for one facility."""
    uow = application.uow
    Operator = Annotated[Caller, Depends(operator_dependency(application))]
    router = APIRouter(prefix="/api/v1", tags=["people"], route_class=ThreadedRoute)

    @router.put(
        "/operators/{operator_id}/benches",
        responses=problems.responses(404),
        **requires(application, Permission.OPERATOR_MANAGE),
    )
    def assign_benches(operator_id: str, body: BenchesIn, caller: Operator) -> BenchesOut:
        """Assign an operator's benches (an administrator; recorded): they sign in, hold bench
        tokens and order work only at these."""
        done = bench_assignment.assign_benches(uow, caller, operator_id, body.benches, body.reason)
        return BenchesOut(
            operator_id=done.operator_id, benches=done.benches, previous=done.previous
        )

    @router.get(
        "/operators/{operator_id}/benches",
        responses=problems.responses(404),
        **access("service"),
    )
    def get_benches(operator_id: str, caller: Operator) -> BenchesOut:
        """An operator's assigned benches: your own, or anyone's for who manages operators or
        reviews access."""
        found = bench_assignment.assigned_benches(uow, caller, operator_id)
        return BenchesOut(operator_id=operator_id, benches=found)

    return router
