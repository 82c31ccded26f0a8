"""The fake unit of work keeps the promises the use-case tests rely on."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from triage.adapters import projector
from triage.adapters.ledger_store import SqlLedger  # noqa: F401  (imports every projector)
from triage.domain.caller import Caller
from triage.ledger.entry import Entry, Ref


def _entry(factory: FakeUnitOfWorkFactory, n: int) -> Entry:
    return Entry(
        type="test.noted",
        at=factory.clock.now(),
        actor=Caller.system("test").ref,
        facility=factory.facility_id,
        subject=Ref("test", str(n)),
        data={"n": n},
    )


def test_leaving_without_commit_loses_every_change() -> None:
    factory = FakeUnitOfWorkFactory()
    with factory(write=True) as uow:
        uow.ledger.record([_entry(factory, 1)])
        uow.commit()
    with pytest.raises(ValueError, match="boom"), factory(write=True) as uow:
        uow.ledger.record([_entry(factory, 2)])
        assert uow.ledger.log.head().size == 2
        raise ValueError("boom")
    with factory(write=True) as uow:
        uow.ledger.record([_entry(factory, 3)])  # never committed
    assert [e.data["n"] for e in factory.entries()] == [1]


def test_the_subject_index_answers_newest_first() -> None:
    factory = FakeUnitOfWorkFactory()
    with factory(write=True) as uow:
        uow.ledger.record([_entry(factory, n % 2) for n in range(5)])
        uow.commit()
    with factory(write=False) as uow:
        assert uow.ledger.indexes_for("test", "0") == [0, 2, 4]
        latest = uow.ledger.latest_about("test", "0", 2)
        assert [i for i, _ in latest] == [4, 2]
        assert [i for i, _ in uow.ledger.latest_about("test", "0", 5, before=4)] == [2, 0]
        assert Entry.from_bytes(latest[0][1] or b"").data == {"n": 0}


def test_the_clock_moves_only_when_told() -> None:
    factory = FakeUnitOfWorkFactory()
    first = factory.clock.now()
    assert factory.clock.now() == first
    assert factory.clock.advance(timedelta(minutes=5)) == first + timedelta(minutes=5)


def test_the_fakes_project_every_entry_type_the_sql_projector_does() -> None:
    factory = FakeUnitOfWorkFactory()
    faked = set().union(*(area.handles for area in factory.database.areas.values()))
    real = set(projector._HANDLERS)
    assert sorted(real - faked) == [], "entry types with no fake projection"
    assert sorted(faked - real) == [], "fake projections of types the projector ignores"
