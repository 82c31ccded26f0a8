"""Operators: registering them, changing their roles, and acting as one on a trusted path.

Reinstating a suspended operator is in ``reinstatement``, beside reinstating a tool.
"""

from __future__ import annotations

from triage.domain.caller import Caller
from triage.domain.people import Operator, check_operator_id, sought_id
from triage.domain.roles import Permission, Role
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.ledger.entry import Ref
from triage.services.asset_owners import get_owner
from triage.services.common import make_entry, record_and_reload
from triage.services.ports import UnitOfWorkFactory


def create_operator(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    operator_id: str,
    name: str,
    roles: frozenset[Role],
    asset_owner: str | None = None,
) -> Operator:
    """Register an operator with roles; a person of an asset owner (the asset_owner role alone)
    names the registered, active asset owner they act for."""
    caller.require(Permission.OPERATOR_MANAGE)
    check_operator_id(operator_id)
    asset_owner = asset_owner.strip() or None if asset_owner is not None else None
    created = Operator(
        operator_id, name.strip(), roles, True, uow_factory.clock.now(), asset_owner=asset_owner
    )
    data: dict[str, object] = {"name": created.name, "roles": sorted(r.value for r in roles)}
    with uow_factory(write=True) as uow:
        if uow.operators.get(operator_id) is not None:
            raise Conflict(f"operator {operator_id!r} already exists")
        if asset_owner is not None:
            party = get_owner(uow, asset_owner)
            if not party.active:
                raise InvalidInput(
                    f"asset_owner: {party.id!r} is deactivated: an administrator reactivates "
                    "it before its people are added",
                    field="asset_owner",
                )
            data["asset_owner"] = party.id
        uow.ledger.record(
            [
                make_entry(
                    uow,
                    caller,
                    "operator.created",
                    Ref("operator", operator_id),
                    data,
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
    return Caller.operator(found.id, found.roles, asset_owner=found.asset_owner)


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
        if found.asset_owner is not None and roles != {Role.ASSET_OWNER}:
            raise InvalidInput(
                f"roles: {operator_id} acts for asset owner {found.asset_owner!r} and holds "
                "the asset_owner role alone (an outside party never holds a facility role)",
                field="roles",
            )
        if found.asset_owner is None and Role.ASSET_OWNER in roles:
            raise InvalidInput(
                f"roles: {operator_id} is one of the facility's people; a person of an asset "
                "owner is added as such (triage operator add --role asset_owner --asset-owner ID)",
                field="roles",
            )
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
