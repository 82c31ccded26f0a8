"""Device custody: every device has a location, every move is a recorded scan, a device
stocktake finds what is missing and unexpected, and idle devices are flagged."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers, people_seed
from tests.unit.services.workflow_seed import device_id, import_consignment, may_triage, received
from triage.domain.caller import Caller
from triage.domain.roles import Role
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.services import custody, intake
from triage.services.facility import create_facility

STORES = callers.stores()
ADMIN = callers.administrator()
SUPERVISOR = callers.supervisor()


@pytest.fixture
def facility(factory: FakeUnitOfWorkFactory) -> FakeUnitOfWorkFactory:
    """A facility (with its default locations) that may triage, and a shelf A1 in stores."""
    create_facility(factory, factory.facility_id, "Unit Facility", "triage.test/unit")
    may_triage(factory)
    custody.define_location(factory, ADMIN, "SHELF-A1", "Shelf A1", "stores")
    return factory


def owner_person(owner: str) -> Caller:
    return Caller.operator("o.person", frozenset({Role.ASSET_OWNER}), asset_owner=owner)


def test_a_facility_starts_with_stores_quarantine_and_dispatch(
    facility: FakeUnitOfWorkFactory,
) -> None:
    shown = {p.code: p.kind.value for p in custody.locations(facility, STORES)}
    assert shown == {
        "STORES": "stores",
        "QUARANTINE": "quarantine",
        "DISPATCH": "dispatch",
        "SHELF-A1": "stores",
    }


def test_receipt_puts_a_device_at_the_receiving_store(facility: FakeUnitOfWorkFactory) -> None:
    job = received(facility, 1)
    where = custody.where(facility, STORES, job.device_id)
    assert (where.location, where.since) == ("STORES", job.opened_at)


def test_a_move_is_a_recorded_scan_and_moves_the_device(facility: FakeUnitOfWorkFactory) -> None:
    job = received(facility, 1)
    facility.clock.advance(timedelta(minutes=5))
    moved = custody.move(facility, STORES, job.device_id, "SHELF-A1", "  put away ")
    assert moved.location == "SHELF-A1"
    entry = facility.entries()[-1]
    assert (entry.type, entry.subject.id, entry.actor.id) == ("device.moved", job.device_id, "sto")
    assert entry.data == {"from": "STORES", "to": "SHELF-A1", "reason": "put away"}


def test_moves_are_refused_to_unknown_or_unused_places_and_for_devices_not_here(
    facility: FakeUnitOfWorkFactory,
) -> None:
    job = received(facility, 1)
    with pytest.raises(InvalidInput) as unknown:
        custody.move(facility, STORES, job.device_id, "NOWHERE")
    assert unknown.value.field == "location"
    custody.change_location(facility, ADMIN, "SHELF-A1", active=False)
    with pytest.raises(InvalidInput, match="out of use"):
        custody.move(facility, STORES, job.device_id, "SHELF-A1")
    with pytest.raises(Conflict, match="already at STORES"):
        custody.move(facility, STORES, job.device_id, "STORES")
    with pytest.raises(Conflict, match="never received"):
        custody.move(facility, STORES, device_id(2), "QUARANTINE")
    with pytest.raises(PermissionDenied):
        custody.move(facility, callers.auditor(), job.device_id, "QUARANTINE")
    assert facility.entries()[-1].type == "location.changed"


def test_a_device_that_left_the_facility_cannot_be_moved(facility: FakeUnitOfWorkFactory) -> None:
    job = received(facility, 1)
    with facility(write=True) as uow:
        uow.ledger.record([custody.left_entry(uow, STORES, job.device_id, "handed over")])
        uow.commit()
    assert custody.where(facility, STORES, job.device_id).location is None
    with pytest.raises(Conflict, match="left the facility"):
        custody.move(facility, STORES, job.device_id, "QUARANTINE")


def test_a_location_with_devices_is_not_taken_out_of_use(facility: FakeUnitOfWorkFactory) -> None:
    received(facility, 1)
    with pytest.raises(Conflict, match="1 device"):
        custody.change_location(facility, ADMIN, "STORES", active=False)
    with pytest.raises(InvalidInput, match="nothing to change"):
        custody.change_location(facility, ADMIN, "STORES", name="Stores")
    with pytest.raises(Conflict, match="defined already"):
        custody.define_location(facility, ADMIN, "STORES", "Again", "stores")
    with pytest.raises(InvalidInput) as kind:
        custody.define_location(facility, ADMIN, "CAGE-2", "Cage 2", "cellar")
    assert kind.value.field == "kind"
    with pytest.raises(PermissionDenied):
        custody.define_location(facility, STORES, "CAGE-2", "Cage 2", "quarantine")


def test_a_bench_scan_opens_the_device_at_the_bench_defined_on_first_use(
    facility: FakeUnitOfWorkFactory,
) -> None:
    people_seed.add_operator(facility, "op")
    people_seed.assign(facility, "op", "B7")
    import_consignment(facility, 1, 2)
    at_bench = callers.bench_operator("op", "B7")
    opened = intake.scan_device(facility, at_bench, device_id(1))
    assert opened.created
    assert custody.where(facility, STORES, device_id(1)).location == "B7"
    bench = {p.code: p for p in custody.locations(facility, STORES)}["B7"]
    assert (bench.kind.value, bench.name) == ("bench", "Bench B7")
    # Received in stores, then scanned at the bench: a recorded move to the bench.
    intake.scan_device(facility, SUPERVISOR, device_id(2))
    intake.scan_device(facility, at_bench, device_id(2))
    moved = facility.entries()[-1]
    assert (moved.type, moved.data["from"], moved.data["to"]) == ("device.moved", "STORES", "B7")
    types = facility.entry_types()
    assert types.count("location.defined") == 2  # SHELF-A1 and, once only, B7


def test_the_stocktake_finds_a_device_moved_without_a_scan(
    facility: FakeUnitOfWorkFactory,
) -> None:
    first, second, third = (received(facility, n, reference=f"CN-{n}") for n in (1, 2, 3))
    custody.move(facility, STORES, first.device_id, "SHELF-A1")
    custody.move(facility, STORES, second.device_id, "SHELF-A1")
    # Someone carried the second device back to stores without scanning it.
    taken = custody.stocktake(facility, STORES, "STORES", [third.device_id, second.device_id])
    assert (taken.expected, taken.counted, taken.matched) == (1, 2, 1)
    assert [(u.device_id, u.recorded_at) for u in taken.unexpected] == [
        (second.device_id, "SHELF-A1")
    ]
    facility.clock.advance(timedelta(minutes=10))
    shelf = custody.stocktake(facility, STORES, "SHELF-A1", [first.device_id])
    assert shelf.missing == (second.device_id,)
    raised = [e for e in facility.entries() if e.type == "exception.raised"]
    assert [(e.subject.id, e.data["kind"]) for e in raised] == [
        (second.device_id, "device_unexpected"),
        (second.device_id, "device_missing"),
    ]
    assert len(taken.exception_ids) == len(shelf.exception_ids) == 1
    assert [s.id for s in custody.stocktakes(facility, SUPERVISOR)[0]] == [shelf.id, taken.id]


def test_a_stocktake_names_devices_not_in_custody_and_refuses_bad_scans(
    facility: FakeUnitOfWorkFactory,
) -> None:
    taken = custody.stocktake(facility, STORES, "QUARANTINE", [device_id(9), device_id(9)])
    assert (taken.counted, [(u.device_id, u.recorded_at) for u in taken.unexpected]) == (
        1,
        [(device_id(9), None)],
    )
    before = facility.entries()
    with pytest.raises(InvalidInput) as bad:
        custody.stocktake(facility, STORES, "QUARANTINE", [device_id(1), "not-a-device"])
    assert bad.value.field == "device_ids" and "scan 2" in str(bad.value)
    with pytest.raises(InvalidInput) as nowhere:
        custody.stocktake(facility, STORES, "ATTIC", [])
    assert nowhere.value.field == "location"
    with pytest.raises(PermissionDenied):
        custody.stocktake(facility, callers.bench_operator(), "STORES", [])
    assert facility.entries() == before


def test_idle_devices_are_flagged_after_the_facility_s_idle_days(
    facility: FakeUnitOfWorkFactory,
) -> None:
    old = received(facility, 1, reference="CN-1")
    facility.clock.advance(timedelta(days=3, hours=1))
    fresh = received(facility, 2, reference="CN-2")
    shown = custody.overview(facility, SUPERVISOR)
    assert [(c.location, c.devices, c.idle) for c in shown.counts] == [("STORES", 2, 1)]
    assert [d.device_id for d in shown.idle] == [old.device_id]
    assert [d.device_id for d in shown.devices] == [old.device_id, fresh.device_id]
    custody.change_settings(facility, ADMIN, idle_device_days=5)
    assert custody.overview(facility, SUPERVISOR).idle == []
    assert custody.idle_devices(facility, SUPERVISOR, days=1)[1] == 1
    with pytest.raises(InvalidInput) as bad:
        custody.change_settings(facility, ADMIN, idle_device_days=0)
    assert bad.value.field == "idle_device_days"
    with pytest.raises(PermissionDenied):
        custody.change_settings(facility, STORES, idle_device_days=4)
    assert facility.entries()[-1].data == {"idle_device_days": 5}


def test_an_asset_owner_s_person_sees_only_its_own_devices_where_they_are(
    facility: FakeUnitOfWorkFactory,
) -> None:
    mine = received(facility, 1, reference="CN-1")
    import_consignment(facility, 2, reference="CN-2", owner="South Power")
    intake.scan_device(facility, SUPERVISOR, device_id(2))
    north = owner_person("North Energy")
    assert custody.where(facility, north, mine.device_id).location == "STORES"
    with pytest.raises(NotFound):
        custody.where(facility, north, device_id(2))
    shown = custody.overview(facility, north)
    assert [d.device_id for d in shown.devices] == [mine.device_id]
    assert shown.stocktakes == []
    with pytest.raises(PermissionDenied):
        custody.stocktakes(facility, north)


def test_one_stocktake_is_read_back_and_an_unknown_one_is_not_found(
    facility: FakeUnitOfWorkFactory,
) -> None:
    taken = custody.stocktake(facility, STORES, "STORES", [])
    assert custody.device_stocktake(facility, SUPERVISOR, taken.id).agrees
    with pytest.raises(NotFound):
        custody.device_stocktake(facility, SUPERVISOR, "no-such-stocktake")


def test_everyone_reads_the_custody_settings_and_stores_turn_random_seals_on(
    facility: FakeUnitOfWorkFactory,
) -> None:
    before = custody.custody_settings(facility, callers.bench_operator())
    assert (before.idle_device_days, before.random_seal_issue) == (3, False)
    custody.change_settings(facility, STORES, random_seal_issue=True)
    assert custody.custody_settings(facility, callers.bench_operator()).random_seal_issue
    assert facility.entries()[-1].data == {"random_seal_issue": True}
    with pytest.raises(InvalidInput, match="already so"):
        custody.change_settings(facility, STORES, random_seal_issue=True)
