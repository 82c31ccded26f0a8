"""Adding operators: by an administrator, or the first administrator by the host itself."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers
from tests.unit.services.people_seed import add_operator
from triage.domain.credentials import code_hash
from triage.domain.roles import Role
from triage.errors import InvalidInput, PermissionDenied
from triage.services import staffing

ADMIN_ROLES = frozenset({Role.ADMINISTRATOR})


def _activation_hash(factory: FakeUnitOfWorkFactory, operator_id: str) -> bytes | None:
    with factory(write=False) as uow:
        found = uow.credentials.activation_code(operator_id)
    return None if found is None else found[0]


def test_the_host_adds_the_first_administrator_with_an_activation_code(
    factory: FakeUnitOfWorkFactory,
) -> None:
    added = staffing.add_operator(factory, None, "root", "Root Admin", ADMIN_ROLES, False)

    assert added.operator.roles == ADMIN_ROLES
    assert added.activation_code is not None  # always, for the first administrator
    created, issued = factory.entries()
    assert (created.type, created.actor.kind, created.actor.id) == (
        "operator.created",
        "system",
        "first-administrator",
    )
    assert (issued.type, issued.subject.id, issued.actor.id) == (
        "auth.activation_issued",
        "root",
        "first-administrator",
    )
    assert _activation_hash(factory, "root") == code_hash(added.activation_code)


def test_once_an_administrator_exists_the_host_is_refused(factory: FakeUnitOfWorkFactory) -> None:
    add_operator(factory, "root", Role.ADMINISTRATOR)
    with pytest.raises(PermissionDenied, match="an administrator exists"):
        staffing.acting_administrator(factory, None)
    with pytest.raises(PermissionDenied, match="an administrator exists"):
        staffing.add_operator(factory, None, "bob", "Bob", frozenset({Role.AUDITOR}), True)
    assert factory.entry_types() == ["operator.created"]


def test_the_host_may_act_while_only_others_exist(factory: FakeUnitOfWorkFactory) -> None:
    add_operator(factory, "sue", Role.SUPERVISOR)
    assert staffing.acting_administrator(factory, None) == staffing.FIRST_ADMINISTRATOR


def test_an_administrator_adds_an_operator_with_a_code_only_when_asked(
    factory: FakeUnitOfWorkFactory,
) -> None:
    admin = callers.administrator()
    assert staffing.acting_administrator(factory, admin) is admin
    plain = staffing.add_operator(factory, admin, "bob", "Bob", frozenset({Role.AUDITOR}), False)
    assert plain.activation_code is None
    assert _activation_hash(factory, "bob") is None
    coded = staffing.add_operator(factory, admin, "ann", "Ann", frozenset({Role.STORES}), True)
    assert coded.activation_code is not None
    assert _activation_hash(factory, "ann") == code_hash(coded.activation_code)
    assert factory.entry_types() == [
        "operator.created",
        "operator.created",
        "auth.activation_issued",
    ]


def test_adding_is_refused_to_who_may_not_and_for_bad_input(
    factory: FakeUnitOfWorkFactory,
) -> None:
    with pytest.raises(PermissionDenied):
        staffing.add_operator(
            factory, callers.supervisor(), "bob", "Bob", frozenset({Role.AUDITOR}), True
        )
    with pytest.raises(InvalidInput) as refused:
        staffing.add_operator(factory, None, "Root!", "Root", ADMIN_ROLES, True)
    assert refused.value.field == "operator_id"
    assert factory.entries() == []


def test_demo_staff_only_join_a_facility_of_demo_staff(factory: FakeUnitOfWorkFactory) -> None:
    assert staffing.demo_staff_allowed(factory) == set()
    add_operator(factory, "demo-admin", Role.ADMINISTRATOR)
    add_operator(factory, "demo-bench")
    assert staffing.demo_staff_allowed(factory) == {"demo-admin", "demo-bench"}
    add_operator(factory, "alice")
    with pytest.raises(PermissionDenied, match=r"real operators \(alice\)"):
        staffing.demo_staff_allowed(factory)


def test_an_operator_added_at_benches_may_work_there_and_a_bad_bench_adds_nobody(
    factory: FakeUnitOfWorkFactory,
) -> None:
    admin = callers.administrator()
    roles = frozenset({Role.BENCH_OPERATOR})
    with pytest.raises(InvalidInput, match="bench"):
        staffing.add_operator(factory, admin, "bob", "Bob", roles, False, ["B1", " "])
    assert factory.entry_types() == []  # the bad bench was found before anything changed

    staffing.add_operator(factory, admin, "bob", "Bob", roles, True, ["B2", "B1"])
    assert factory.entry_types() == [
        "operator.created",
        "operator.benches_assigned",
        "auth.activation_issued",
    ]
    assigned = factory.entries()[1]
    assert assigned.data["benches"] == ["B1", "B2"]
    assert assigned.data["reason"] == staffing.BENCHES_WHEN_ADDED
