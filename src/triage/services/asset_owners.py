"""Asset owners as parties: registering them, changing their contact or key, and reading them.

An administrator registers an asset owner before its first consignment is imported; a person
of an asset owner sees only its own party.
"""

from __future__ import annotations

from typing import Any

from triage.domain.asset_owner import (
    AssetOwner,
    check_owner_id,
    check_text,
    check_verifier_key,
    sought_owner,
)
from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.ledger.entry import Ref
from triage.services.common import make_entry, record_and_reload
from triage.services.ports import UnitOfWork, UnitOfWorkFactory


def register(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    owner_id: str,
    name: str,
    contact: str = "",
    verifier_key: str | None = None,
) -> AssetOwner:
    """Register an asset owner (an administrator)."""
    caller.require(Permission.ASSET_OWNER_MANAGE)
    data: dict[str, Any] = {
        "name": check_text(name, "name", 200),
        "contact": check_text(contact, "contact", 500, optional=True),
    }
    if verifier_key is not None and verifier_key.strip():
        data["verifier_key"] = check_verifier_key(verifier_key)
    owner_id = check_owner_id(owner_id)
    with uow_factory(write=True) as uow:
        if uow.asset_owners.get(owner_id) is not None:
            raise Conflict(f"asset owner {owner_id!r} is registered already")
        entry = make_entry(
            uow, caller, "asset_owner.registered", Ref("asset_owner", owner_id), data
        )
        return record_and_reload(uow, [entry], lambda: uow.asset_owners.get(owner_id))


def update(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    owner_id: str,
    *,
    name: str | None = None,
    contact: str | None = None,
    verifier_key: str | None = None,
    active: bool | None = None,
) -> AssetOwner:
    """Change an asset owner's name, contact, verifier key (a new key replaces the old one for
    what is acknowledged from now on) or whether it is active (an administrator)."""
    caller.require(Permission.ASSET_OWNER_MANAGE)
    changed: dict[str, Any] = {}
    if name is not None:
        changed["name"] = check_text(name, "name", 200)
    if contact is not None:
        changed["contact"] = check_text(contact, "contact", 500, optional=True)
    if verifier_key is not None:
        changed["verifier_key"] = check_verifier_key(verifier_key)
    if active is not None:
        changed["active"] = active
    with uow_factory(write=True) as uow:
        found = get_owner(uow, owner_id)
        changed = {k: v for k, v in changed.items() if getattr(found, k) != v}
        if not changed:
            raise InvalidInput("nothing to change: give a new name, contact, key or status")
        entry = make_entry(
            uow, caller, "asset_owner.updated", Ref("asset_owner", found.id), changed
        )
        return record_and_reload(uow, [entry], lambda: uow.asset_owners.get(found.id))


def owners(uow_factory: UnitOfWorkFactory, caller: Caller) -> list[AssetOwner]:
    """The asset owners the caller may see: every one for the facility's readers, its own for a
    person of an asset owner."""
    scope = caller.owner_scope()
    with uow_factory(write=False) as uow:
        if scope is None:
            return uow.asset_owners.all()
        own = uow.asset_owners.get(scope)
    return [] if own is None else [own]


def owner(uow_factory: UnitOfWorkFactory, caller: Caller, owner_id: str) -> AssetOwner:
    """One asset owner (NotFound for another owner's person: they are not told it exists)."""
    scope = caller.owner_scope()
    if scope is not None and scope != owner_id:
        raise NotFound(f"no asset owner {owner_id[:100]!r}")
    with uow_factory(write=False) as uow:
        return get_owner(uow, owner_id)


def reader_scope(caller: Caller, permission: Permission) -> str | None:
    """Whose devices the caller may read where the facility's people need ``permission``: None
    (every owner's) for them, the owner's id for a person of an asset owner (``owner.read``);
    PermissionDenied naming both otherwise."""
    if caller.can(permission):
        return None
    if caller.asset_owner is not None and caller.can(Permission.OWNER_READ):
        return caller.asset_owner
    caller.require(permission, Permission.OWNER_READ)
    raise PermissionDenied(f"{caller.kind.value} {caller.id} acts for no asset owner")


def owns_device(uow: UnitOfWork, scope: str | None, device_id: str) -> bool:
    """Whether a reader limited to asset owner ``scope`` (None: every owner) may read the device:
    it belongs to that owner now (its register row, from its consignment at receipt)."""
    if scope is None:
        return True
    found = uow.devices.get(device_id)
    return found is not None and found.asset_owner == scope


def get_owner(uow: UnitOfWork, owner_id: str) -> AssetOwner:
    """The registered asset owner ``owner_id``, or NotFound saying how to register it."""
    found = uow.asset_owners.get(sought_owner(owner_id))
    if found is None:
        raise NotFound(
            f"no asset owner {owner_id!r} is registered "
            "(an administrator registers it: triage asset-owner add)"
        )
    return found
