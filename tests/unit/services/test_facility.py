"""Creating the facility and changing its settings, against the fake unit of work."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services.callers import administrator, supervisor
from triage.domain.facility import DEFAULT_MAX_RESET_ATTEMPTS, DEFAULT_WORK_ORDER_MINUTES
from triage.errors import Conflict, InvalidInput, PermissionDenied
from triage.services import facility

ORIGIN = "triage.example.net/unit"


def _create(factory: FakeUnitOfWorkFactory) -> None:
    facility.create_facility(factory, factory.facility_id, "Unit Facility", ORIGIN)


def test_creating_the_facility_records_it_with_the_default_settings(
    factory: FakeUnitOfWorkFactory,
) -> None:
    created, new = facility.create_facility(factory, "unit", "Unit Facility", ORIGIN)

    assert new is True
    assert (created.id, created.name, created.log_origin) == ("unit", "Unit Facility", ORIGIN)
    assert created.created_at == factory.clock.now()
    [entry] = factory.entries()
    assert (entry.type, entry.subject.kind, entry.subject.id) == (
        "facility.created",
        "facility",
        "unit",
    )
    assert entry.actor.kind == "system"
    assert entry.data == {
        "name": "Unit Facility",
        "log_origin": ORIGIN,
        "max_reset_attempts": DEFAULT_MAX_RESET_ATTEMPTS,
        "work_order_minutes": DEFAULT_WORK_ORDER_MINUTES,
    }
    with factory(write=False) as uow:
        assert uow.facilities.list() == [created]


def test_creating_it_again_returns_the_existing_facility_and_records_nothing(
    factory: FakeUnitOfWorkFactory,
) -> None:
    first, _ = facility.create_facility(factory, "unit", "Unit Facility", ORIGIN)

    again, new = facility.create_facility(factory, "unit", "Another Name", ORIGIN)

    assert (again, new) == (first, False)
    assert factory.entry_types() == ["facility.created"]


def test_a_log_origin_never_changes(factory: FakeUnitOfWorkFactory) -> None:
    _create(factory)

    with pytest.raises(Conflict, match="a log's origin never changes"):
        facility.create_facility(factory, "unit", "Unit Facility", "triage.example.net/other")
    assert factory.entry_types() == ["facility.created"]


def test_a_database_holds_one_facility(factory: FakeUnitOfWorkFactory) -> None:
    _create(factory)

    with pytest.raises(Conflict, match="already holds facility 'unit'"):
        facility.create_facility(factory, "second", "Second", "triage.example.net/second")
    with factory(write=False) as uow:
        assert [f.id for f in uow.facilities.list()] == ["unit"]


@pytest.mark.parametrize(
    ("facility_id", "name", "origin", "field"),
    [
        ("Not Valid", "Name", ORIGIN, "facility_id"),
        ("unit", " ", ORIGIN, "name"),
        ("unit", "Name", "https://has a space", "origin"),
    ],
)
def test_a_bad_facility_is_refused_naming_the_field(
    factory: FakeUnitOfWorkFactory, facility_id: str, name: str, origin: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        facility.create_facility(factory, facility_id, name, origin)
    assert refused.value.field == field
    assert factory.entries() == []


def test_anyone_reads_the_settings_an_administrator_changes(
    factory: FakeUnitOfWorkFactory,
) -> None:
    _create(factory)
    assert facility.current_settings(factory, supervisor()) == (
        DEFAULT_MAX_RESET_ATTEMPTS,
        DEFAULT_WORK_ORDER_MINUTES,
    )

    changed = facility.change_settings(factory, administrator(), work_order_minutes=30)

    assert changed == (DEFAULT_MAX_RESET_ATTEMPTS, 30)
    entry = factory.entries()[-1]
    assert (entry.type, entry.actor.id) == ("facility.settings_changed", "adm")
    assert entry.data == {
        "max_reset_attempts": DEFAULT_MAX_RESET_ATTEMPTS,
        "work_order_minutes": 30,
    }
    assert facility.current_settings(factory, supervisor()) == changed


def test_only_who_manages_the_facility_changes_its_settings(
    factory: FakeUnitOfWorkFactory,
) -> None:
    _create(factory)

    with pytest.raises(PermissionDenied):
        facility.change_settings(factory, supervisor(), max_reset_attempts=5)
    assert factory.entry_types() == ["facility.created"]


@pytest.mark.parametrize(
    ("attempts", "minutes", "message"),
    [
        (0, None, "max_reset_attempts"),
        (11, None, "max_reset_attempts"),
        (None, 241, "work_order_minutes"),
    ],
)
def test_settings_out_of_range_are_refused(
    factory: FakeUnitOfWorkFactory, attempts: int | None, minutes: int | None, message: str
) -> None:
    _create(factory)

    with pytest.raises(InvalidInput, match=message):
        facility.change_settings(
            factory, administrator(), max_reset_attempts=attempts, work_order_minutes=minutes
        )
    assert factory.entry_types() == ["facility.created"]
