"""The tamper policy in force: activating one, and the packaged default the first time."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers
from triage.domain.tamper_policy import TamperPolicy
from triage.errors import PermissionDenied
from triage.services import tamper_policy


def _version(factory: FakeUnitOfWorkFactory, version: str) -> TamperPolicy:
    """The packaged policy with another version (so another text and hash)."""
    source = factory.packaged.tamper_policy().source.decode("utf-8")
    assert 'version: "3"' in source
    return TamperPolicy.load(source.replace('version: "3"', f'version: "{version}"').encode())


def _in_force(factory: FakeUnitOfWorkFactory) -> str | None:
    with factory(write=False) as uow:
        return uow.policies.active_source()


def test_an_administrator_puts_a_policy_in_force(factory: FakeUnitOfWorkFactory) -> None:
    policy = _version(factory, "2")
    tamper_policy.activate_policy(factory, callers.administrator(), policy)

    [entry] = factory.entries()
    assert (entry.type, entry.subject.kind, entry.subject.id, entry.actor.id) == (
        "policy.activated",
        "policy",
        policy.id,
        "adm",
    )
    assert entry.data == {
        "policy_id": policy.id,
        "version": "2",
        "hash": policy.hash,
        "source": policy.source.decode("utf-8"),
    }
    assert _in_force(factory) == policy.source.decode("utf-8")
    with factory(write=True) as uow:
        assert tamper_policy.ensure_policy(uow).hash == policy.hash
    assert factory.entry_types() == ["policy.activated"]


def test_only_who_manages_policy_activates_one(factory: FakeUnitOfWorkFactory) -> None:
    for caller in (callers.supervisor(), callers.security_manager(), callers.auditor()):
        with pytest.raises(PermissionDenied):
            tamper_policy.activate_policy(factory, caller, _version(factory, "2"))
    assert factory.entries() == []
    assert _in_force(factory) is None


def test_a_new_policy_replaces_the_one_in_force(factory: FakeUnitOfWorkFactory) -> None:
    admin = callers.administrator()
    tamper_policy.activate_policy(factory, admin, _version(factory, "2"))
    newer = _version(factory, "3")
    tamper_policy.activate_policy(factory, admin, newer)
    assert factory.entry_types() == ["policy.activated", "policy.activated"]
    assert _in_force(factory) == newer.source.decode("utf-8")


def test_an_earlier_policy_can_be_put_back_in_force(factory: FakeUnitOfWorkFactory) -> None:
    admin = callers.administrator()
    first = _version(factory, "2")
    tamper_policy.activate_policy(factory, admin, first)
    tamper_policy.activate_policy(factory, admin, _version(factory, "3"))
    tamper_policy.activate_policy(factory, admin, first)
    assert _in_force(factory) == first.source.decode("utf-8")


def test_the_packaged_default_is_activated_the_first_time_one_is_needed(
    factory: FakeUnitOfWorkFactory,
) -> None:
    default = factory.packaged.tamper_policy()
    with factory(write=True) as uow:
        assert tamper_policy.ensure_policy(uow).hash == default.hash
        uow.commit()
    [entry] = factory.entries()
    assert (entry.type, entry.actor.kind, entry.data["hash"]) == (
        "policy.activated",
        "system",
        default.hash,
    )
    with factory(write=True) as uow:
        assert tamper_policy.ensure_policy(uow).hash == default.hash
        uow.commit()
    assert factory.entry_types() == ["policy.activated"]


def test_a_recorded_policy_text_parses_back_to_the_same_policy(
    factory: FakeUnitOfWorkFactory,
) -> None:
    policy = _version(factory, "7")
    parsed = tamper_policy.parse_policy(policy.source.decode("utf-8"))
    assert (parsed.id, parsed.version, parsed.hash) == (policy.id, "7", policy.hash)
