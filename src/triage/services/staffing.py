"""Adding operators: by an administrator, or the first administrator by the host itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from triage.domain.caller import Caller, CallerKind
from triage.domain.people import Operator
from triage.domain.roles import Role
from triage.errors import PermissionDenied
from triage.services import auth, bench_assignment, operators
from triage.services.ports import UnitOfWorkFactory

# The host, adding the first administrator while there is none (recorded as this actor).
FIRST_ADMINISTRATOR = Caller.system("first-administrator")
# The reason recorded for the benches an operator is given as they are added.
BENCHES_WHEN_ADDED = "the benches given when the operator was added"


@dataclass(frozen=True)
class AddedOperator:
    """A new operator, and their one-time activation code when one was issued."""

    operator: Operator
    activation_code: str | None


def acting_administrator(uow_factory: UnitOfWorkFactory, caller: Caller | None) -> Caller:
    """The administrator acting, or the host itself (``caller`` None, nobody signed in) while
    the facility has no active administrator yet."""
    if caller is not None:
        return caller
    with uow_factory(write=False) as uow:
        admins = [o for o in uow.operators.all() if Role.ADMINISTRATOR in o.roles and o.active]
    if admins:
        raise PermissionDenied("an administrator exists: sign in as one (--token or $TRIAGE_TOKEN)")
    return FIRST_ADMINISTRATOR


def add_operator(
    uow_factory: UnitOfWorkFactory,
    caller: Caller | None,
    operator_id: str,
    name: str,
    roles: frozenset[Role],
    issue_activation: bool,
    benches: Sequence[str] = (),
    asset_owner: str | None = None,
) -> AddedOperator:
    """Register an operator (see ``acting_administrator`` for who may), at ``benches`` if any,
    with an activation code when asked, and always for the first administrator; a person of
    an asset owner names it (``asset_owner``)."""
    acting = acting_administrator(uow_factory, caller)
    named = [bench_assignment.bench_name(b) for b in benches]  # checked before anything changes
    created = operators.create_operator(
        uow_factory, acting, operator_id, name, roles, asset_owner=asset_owner
    )
    if named:
        bench_assignment.assign_benches(uow_factory, acting, created.id, named, BENCHES_WHEN_ADDED)
    # The host bootstrapping the first administrator hands over an activation code, not a
    # token: no credential here ever skips the second factor.
    first = acting.kind is CallerKind.SYSTEM
    code = (
        auth.issue_activation(uow_factory, acting, created.id)
        if issue_activation or first
        else None
    )
    return AddedOperator(created, code)


def demo_staff_allowed(uow_factory: UnitOfWorkFactory) -> set[str]:
    """The operators the facility has, all of them demo staff; PermissionDenied when it has real
    people: demo staff are enrolled by the host, with nobody present, never beside them."""
    with uow_factory(write=False) as uow:
        known = {o.id for o in uow.operators.all()}
    real = sorted(o for o in known if not o.startswith("demo-"))
    if real:
        raise PermissionDenied(
            f"this facility has real operators ({', '.join(real[:3])}); "
            "demo staff are only for a demo facility"
        )
    return known
