"""Registering operators, changing their roles, acting as one on a trusted path."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers
from tests.unit.services.people_seed import add_operator, suspend_operator
from triage.domain.roles import Role
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.services import operators
from triage.services.views import people

ADMIN = callers.administrator()


def test_an_administrator_registers_an_operator(factory: FakeUnitOfWorkFactory) -> None:
    roles = frozenset({Role.SUPERVISOR, Role.BENCH_OPERATOR})
    created = operators.create_operator(factory, ADMIN, "ann.smith", "  Ann Smith ", roles)

    assert (created.id, created.name, created.roles) == ("ann.smith", "Ann Smith", roles)
    assert created.active and not created.suspended and not created.mfa_enrolled
    assert created.created_at == factory.clock.now()
    [entry] = factory.entries()
    assert (entry.type, entry.subject.kind, entry.subject.id) == (
        "operator.created",
        "operator",
        "ann.smith",
    )
    assert entry.actor.id == ADMIN.id
    assert entry.data == {"name": "Ann Smith", "roles": ["bench_operator", "supervisor"]}
    assert people.roster(factory, ADMIN).operators == [created]


def test_only_who_manages_operators_registers_one(factory: FakeUnitOfWorkFactory) -> None:
    for caller in (callers.supervisor(), callers.security_manager(), callers.nobody()):
        with pytest.raises(PermissionDenied):
            operators.create_operator(
                factory, caller, "bob", "Bob", frozenset({Role.BENCH_OPERATOR})
            )
    assert factory.entries() == []


@pytest.mark.parametrize(
    ("operator_id", "name", "roles", "field"),
    [
        ("Bob", "Bob", {Role.BENCH_OPERATOR}, "operator_id"),
        ("b", "Bob", {Role.BENCH_OPERATOR}, "operator_id"),
        ("bob smith", "Bob", {Role.BENCH_OPERATOR}, "operator_id"),
        ("bob", "   ", {Role.BENCH_OPERATOR}, "name"),
        ("bob", "x" * 201, {Role.BENCH_OPERATOR}, "name"),
        ("bob", "Bob", set(), "roles"),
    ],
)
def test_a_bad_operator_is_refused_naming_the_field(
    factory: FakeUnitOfWorkFactory, operator_id: str, name: str, roles: set[Role], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        operators.create_operator(factory, ADMIN, operator_id, name, frozenset(roles))
    assert refused.value.field == field
    assert factory.entries() == []


def test_an_operator_id_is_registered_once(factory: FakeUnitOfWorkFactory) -> None:
    first = add_operator(factory, "bob", Role.BENCH_OPERATOR)
    with pytest.raises(Conflict, match="already exists"):
        operators.create_operator(factory, ADMIN, "bob", "Other Bob", frozenset({Role.AUDITOR}))
    assert factory.entry_types() == ["operator.created"]
    assert people.roster(factory, ADMIN).operators == [first]


def test_the_trusted_path_acts_as_an_active_operator(factory: FakeUnitOfWorkFactory) -> None:
    add_operator(factory, "sue", Role.SUPERVISOR, Role.STORES)
    acting = operators.operator_caller(factory, "sue")
    assert (acting.id, acting.roles) == ("sue", frozenset({Role.SUPERVISOR, Role.STORES}))
    assert acting.scopes is None and acting.bench is None


def test_the_trusted_path_refuses_an_unknown_or_suspended_operator(
    factory: FakeUnitOfWorkFactory,
) -> None:
    with pytest.raises(PermissionDenied, match="no active operator 'ghost'"):
        operators.operator_caller(factory, "ghost")
    add_operator(factory, "sue", Role.SUPERVISOR)
    suspend_operator(factory, "sue")
    with pytest.raises(PermissionDenied, match="no active operator 'sue'"):
        operators.operator_caller(factory, "sue")


def test_an_administrator_changes_someones_roles(factory: FakeUnitOfWorkFactory) -> None:
    add_operator(factory, "bob", Role.BENCH_OPERATOR)
    changed = operators.change_roles(
        factory, ADMIN, "bob", frozenset({Role.SUPERVISOR, Role.AUDITOR})
    )

    assert changed.roles == frozenset({Role.SUPERVISOR, Role.AUDITOR})
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject.id, entry.actor.id) == (
        "operator.roles_changed",
        "bob",
        "adm",
    )
    assert entry.data == {"roles": ["auditor", "supervisor"], "previous": ["bench_operator"]}
    assert operators.operator_caller(factory, "bob").roles == changed.roles


def test_changing_roles_is_refused_to_others_and_for_oneself(
    factory: FakeUnitOfWorkFactory,
) -> None:
    add_operator(factory, "bob", Role.BENCH_OPERATOR)
    add_operator(factory, "adm", Role.ADMINISTRATOR)
    with pytest.raises(PermissionDenied):
        operators.change_roles(factory, callers.supervisor(), "bob", frozenset({Role.SUPERVISOR}))
    with pytest.raises(PermissionDenied, match="their own roles"):
        operators.change_roles(factory, ADMIN, "adm", frozenset({Role.AUDITOR}))
    assert factory.entry_types() == ["operator.created", "operator.created"]
    assert operators.operator_caller(factory, "adm").roles == frozenset({Role.ADMINISTRATOR})


def test_changing_roles_needs_a_role_and_a_known_operator(factory: FakeUnitOfWorkFactory) -> None:
    add_operator(factory, "bob", Role.BENCH_OPERATOR)
    with pytest.raises(InvalidInput) as refused:
        operators.change_roles(factory, ADMIN, "bob", frozenset())
    assert refused.value.field == "roles"
    with pytest.raises(NotFound, match="no operator 'ghost'"):
        operators.change_roles(factory, ADMIN, "ghost", frozenset({Role.AUDITOR}))
    assert factory.entry_types() == ["operator.created"]
    assert operators.operator_caller(factory, "bob").roles == frozenset({Role.BENCH_OPERATOR})
