"""Asset owners as parties: registered by an administrator, each seen by its own people only."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers
from triage.domain.caller import Caller
from triage.domain.roles import Role
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.ledger import note
from triage.services import asset_owners

ADMIN = callers.administrator()
_, VKEY = note.generate_key("map-a")


def owner_person(owner_id: str) -> Caller:
    return Caller.operator("a.person", frozenset({Role.ASSET_OWNER}), asset_owner=owner_id)


def test_an_administrator_registers_an_asset_owner_with_its_key(
    factory: FakeUnitOfWorkFactory,
) -> None:
    made = asset_owners.register(factory, ADMIN, "MAP-A", " Map A Ltd ", "ops@map-a.test", VKEY)
    assert (made.id, made.name, made.contact, made.verifier_key) == (
        "MAP-A",
        "Map A Ltd",
        "ops@map-a.test",
        VKEY,
    )
    [entry] = factory.entries()
    assert (entry.type, entry.subject.id) == ("asset_owner.registered", "MAP-A")
    with pytest.raises(Conflict, match="registered already"):
        asset_owners.register(factory, ADMIN, "MAP-A", "Again")


def test_bad_keys_and_ids_are_refused_naming_the_field(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(InvalidInput) as bad_key:
        asset_owners.register(factory, ADMIN, "MAP-A", "Map A", verifier_key="map-a+1234+AAAA")
    assert bad_key.value.field == "verifier_key"
    with pytest.raises(InvalidInput) as bad_id:
        asset_owners.register(factory, ADMIN, " MAP-A", "Map A")
    assert bad_id.value.field == "asset_owner"
    assert factory.entries() == []


def test_only_an_administrator_registers_and_a_person_of_an_owner_sees_only_its_own(
    factory: FakeUnitOfWorkFactory,
) -> None:
    with pytest.raises(PermissionDenied):
        asset_owners.register(factory, callers.supervisor(), "MAP-A", "Map A")
    asset_owners.register(factory, ADMIN, "MAP-A", "Map A")
    asset_owners.register(factory, ADMIN, "MAP-B", "Map B")
    assert [o.id for o in asset_owners.owners(factory, owner_person("MAP-B"))] == ["MAP-B"]
    assert [o.id for o in asset_owners.owners(factory, callers.supervisor())] == ["MAP-A", "MAP-B"]
    with pytest.raises(NotFound):
        asset_owners.owner(factory, owner_person("MAP-B"), "MAP-A")
    with pytest.raises(PermissionDenied):
        asset_owners.owners(factory, Caller.operator("x", frozenset({Role.ASSET_OWNER})))


def test_a_new_key_replaces_the_old_and_no_change_is_refused(
    factory: FakeUnitOfWorkFactory,
) -> None:
    asset_owners.register(factory, ADMIN, "MAP-A", "Map A")
    changed = asset_owners.update(factory, ADMIN, "MAP-A", verifier_key=VKEY)
    assert changed.verifier_key == VKEY
    assert factory.entries()[-1].data == {"verifier_key": VKEY}
    with pytest.raises(InvalidInput, match="nothing to change"):
        asset_owners.update(factory, ADMIN, "MAP-A", verifier_key=VKEY)
