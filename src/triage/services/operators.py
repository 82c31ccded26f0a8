"""Operators: registering them, changing their roles, and acting as one on a trusted path.

Reinstating a suspended operator is in ``reinstatement``, beside reinstating a tool.
"""

from __future__ import annotations

from triage.domain.caller import Caller
from triage.domain.people import Operator, check_operator_id, sought_id
from triage.domain.roles import Permission, Role
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.ledger.entry import Ref
from triage.services.common import make_entry, record_and_reload
from triage.services.ports import UnitOfWorkFactory


def create_operator(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    operator_id: str,
    name: str,
    roles: frozenset[Role],
) -> Operator:
    """Register an operator with roles."""
    caller.require(Permission.OPERATOR_MANAGE)
    check_operator_id(operator_id)
    created = Operator(operator_id, name.strip(), roles, True, uow_factory.clock.now())
    with uow_factory(write=True) as uow:
        if uow.operators.get(operator_id) is not None:
            raise Conflict(f"operator {operator_id!r} already exists")
        uow.ledger.record(
            [
                make_entry(
                    uow,
                    caller,
                    "operator.created",
                    Ref("operator", operator_id),
                    {"name": created.name, "roles": sorted(r.value for r in roles)},
                    created.created_at,
                )
            ]
        )
        uow.commit()
    return created


def operator_caller(uow_factory: UnitOfWorkFactory, operator_id: str) -> Caller:
    """The caller for an operator acting through a trusted local path (tests, the demo)."""
    with uow_factory(write=False) as uow:
        found = uow.operators.get(operator_id)
    if found is None or not found.may_act:
        raise PermissionDenied(f"no active operator {operator_id!r}")
    return Caller.operator(found.id, found.roles)


def change_roles(
    uow_factory: UnitOfWorkFactory, caller: Caller, operator_id: str, roles: frozenset[Role]
) -> Operator:
    """Give an operator a new set of roles (an administrator; not their own)."""
    caller.require(Permission.OPERATOR_MANAGE)
    if caller.id == operator_id:
        raise PermissionDenied("an administrator cannot change their own roles")
    if not roles:
        raise InvalidInput("roles: an operator needs at least one role", field="roles")
    with uow_factory(write=True) as uow:
        found = uow.operators.get(sought_id(operator_id))
        if found is None:
            raise NotFound(f"no operator {operator_id!r}")
        entry = make_entry(
            uow,
            caller,
            "operator.roles_changed",
            Ref("operator", operator_id),
            {
                "roles": sorted(r.value for r in roles),
                "previous": sorted(r.value for r in found.roles),
            },
        )
        return record_and_reload(uow, [entry], lambda: uow.operators.get(operator_id))
