"""REST endpoints of people: the operators, adding one, their roles, and locking an account.

(Benches are in ``bench_routes``; activation codes, unlocking and tokens in ``auth_routes``.)

No "from __future__ import annotations" here: FastAPI must see the dependency types that are
defined inside ``build_people_router``.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.people import Operator as Person
from triage.domain.people import parse_roles
from triage.domain.roles import Permission, Role
from triage.entrypoints.api import problems
from triage.entrypoints.api.fields import Limit, Offset
from triage.entrypoints.api.routing import ThreadedRoute
from triage.entrypoints.api.security import access, operator_dependency, requires
from triage.ledger.entry import format_time
from triage.services import auth, operators, staffing
from triage.services.bench_assignment import MAX_BENCHES
from triage.services.views import people as people_views

NO_STORE = {"Cache-Control": "no-store"}
RoleName = Annotated[str, Field(max_length=32, description="One of the roles.")]
BenchName = Annotated[str, Field(min_length=1, max_length=64)]


class OperatorOut(BaseModel):
    id: str
    name: str
    roles: list[str]
    active: bool
    suspended: bool
    mfa_enrolled: bool
    locked: bool
    benches: list[str]
    created_at: str
    last_login_at: str | None
    asset_owner: str | None = Field(
        default=None, description="The asset owner a person of one acts for (null: none)."
    )

    @classmethod
    def of(cls, found: Person, benches: list[str], locked: bool) -> "OperatorOut":
        return cls(
            id=found.id,
            name=found.name,
            roles=sorted(r.value for r in found.roles),
            active=found.active,
            suspended=found.suspended,
            mfa_enrolled=found.mfa_enrolled,
            locked=locked,
            benches=benches,
            created_at=format_time(found.created_at),
            last_login_at=None if found.last_login_at is None else format_time(found.last_login_at),
            asset_owner=found.asset_owner,
        )


class OperatorPage(BaseModel):
    items: list[OperatorOut]
    total: int
    offset: int
    limit: int


class OperatorIn(BaseModel):
    operator_id: Annotated[str, Field(min_length=1, max_length=64)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    roles: Annotated[list[RoleName], Field(min_length=1, max_length=len(Role))] = Field(
        description=f"Roles, each one of: {', '.join(r.value for r in Role)}."
    )
    benches: Annotated[list[BenchName], Field(max_length=MAX_BENCHES)] = Field(
        default_factory=list, description="The benches they work at (none: no bench)."
    )
    issue_activation: bool = Field(
        default=True, description="Also issue their one-time activation code (shown once)."
    )
    asset_owner: Annotated[str, Field(max_length=100)] | None = Field(
        default=None,
        description="For the asset_owner role (alone): the registered asset owner they act for.",
    )


class AddedOut(BaseModel):
    operator: OperatorOut
    activation_code: str | None = Field(
        description="Hand it to the operator in person; shown this once (null: none issued)."
    )


class RolesIn(BaseModel):
    roles: Annotated[list[RoleName], Field(min_length=1, max_length=len(Role))]


class LockIn(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class LockedOut(BaseModel):
    operator_id: str
    reason: str
    locked_at: str


def build_people_router(application: App) -> APIRouter:
    """The people routes of one facility."""
    uow = application.uow
    Operator = Annotated[Caller, Depends(operator_dependency(application))]
    router = APIRouter(prefix="/api/v1", tags=["people"], route_class=ThreadedRoute)

    @router.get("/operators", **access("service"))
    def list_operators(caller: Operator, offset: Offset = 0, limit: Limit = 100) -> OperatorPage:
        """Every operator with their roles, benches and whether locked (who manages operators
        or reviews access)."""
        found = people_views.roster(uow, caller)
        return OperatorPage(
            items=[
                OperatorOut.of(o, found.benches.get(o.id, []), o.id in found.locked)
                for o in found.operators[offset : offset + limit]
            ],
            total=len(found.operators),
            offset=offset,
            limit=limit,
        )

    @router.post(
        "/operators",
        status_code=201,
        responses=problems.responses(409),
        **requires(application, Permission.OPERATOR_MANAGE),
    )
    def add_operator(body: OperatorIn, caller: Operator, response: Response) -> AddedOut:
        """Add an operator with roles and benches, and (by default) their one-time activation
        code, with which they set a password and enrol their second factor."""
        added = staffing.add_operator(
            uow,
            caller,
            body.operator_id,
            body.name,
            parse_roles(body.roles),
            body.issue_activation,
            body.benches,
            asset_owner=body.asset_owner,
        )
        response.headers.update(NO_STORE)
        benches = sorted({b.strip() for b in body.benches})
        return AddedOut(
            operator=OperatorOut.of(added.operator, benches, False),
            activation_code=added.activation_code,
        )

    @router.put(
        "/operators/{operator_id}/roles",
        responses=problems.responses(404),
        **requires(application, Permission.OPERATOR_MANAGE),
    )
    def change_roles(operator_id: str, body: RolesIn, caller: Operator) -> list[str]:
        """Give an operator a new set of roles (an administrator; not their own): the roles
        they hold now."""
        changed = operators.change_roles(uow, caller, operator_id, parse_roles(body.roles))
        return sorted(r.value for r in changed.roles)

    @router.post(
        "/operators/{operator_id}/lock",
        responses=problems.responses(404, 409),
        **requires(application, Permission.OPERATOR_MANAGE),
    )
    def lock(operator_id: str, body: LockIn, caller: Operator) -> LockedOut:
        """Lock an operator's account at once, with a reason (recorded): their sessions and
        tokens stop working until someone unlocks it (POST /api/v1/locks/unlock)."""
        found = auth.lock_operator(uow, caller, operator_id, body.reason)
        return LockedOut(
            operator_id=found.subject_id,
            reason=found.reason,
            locked_at=format_time(found.locked_at),
        )

    return router
