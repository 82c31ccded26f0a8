"""The seal register's use cases (services/seals.py) against the fake unit of work."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from tests.unit.fake_seals import FakeSealRepository
from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers, people_seed, workflow_seed
from tests.unit.services.seals_seed import DEVICE, STORE, STORES, fit, issue, receive, staff
from triage.domain.lifecycle import JobState
from triage.domain.roles import Role
from triage.domain.seals import DiscrepancyKind, SealStatus
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.ledger.entry import Ref
from triage.services import job_steps, seals

REASON = "dropped on the floor and cracked"


def _status(factory: FakeUnitOfWorkFactory, serial: str) -> SealStatus:
    return seals.seal_detail(factory, STORES, serial).seal.status


# -- receiving -------------------------------------------------------------------------------


def test_a_range_is_received_into_stock(factory: FakeUnitOfWorkFactory) -> None:
    batch = seals.receive_batch(
        factory,
        STORES,
        supplier="  Acme   Seals Ltd ",
        delivery_reference="DN-0001",
        iso_class="s",
        class_description=None,
        store="store-a",
        first="sl-000100",
        last="SL-000102",
    )

    assert (batch.supplier, batch.seal_class, batch.store, batch.size) == (
        "Acme Seals Ltd",
        "S",
        STORE,
        3,
    )
    assert (batch.first_serial, batch.last_serial, batch.received_by) == (
        "SL-000100",
        "SL-000102",
        "sto",
    )
    [entry] = factory.entries()
    assert entry.type == "seal.batch_received"
    assert entry.subject == Ref("seal_batch", batch.id)
    assert entry.data["first"] == "SL-000100" and "serials" not in entry.data
    stock, total = seals.list_seals(factory, STORES, status="in_stock", store=STORE)
    assert total == 3
    assert [s.serial for s in stock] == ["SL-000100", "SL-000101", "SL-000102"]
    assert {s.batch_id for s in stock} == {batch.id}


def test_a_list_of_serials_is_received_with_a_stated_class(factory: FakeUnitOfWorkFactory) -> None:
    batch = seals.receive_batch(
        factory,
        STORES,
        supplier="Acme",
        delivery_reference="DN-2",
        iso_class="other",
        class_description="supplier  grade B",
        store=STORE,
        serials=["ab-1001", "AB-2002"],
    )

    assert (batch.seal_class, batch.class_description) == ("other", "supplier grade B")
    assert (batch.first_serial, batch.last_serial, batch.size) == (None, None, 2)
    assert factory.entries()[0].data["serials"] == ["AB-1001", "AB-2002"]
    assert seals.seal_detail(factory, STORES, "AB-2002").batch == batch


def test_only_stores_receive_seals(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(PermissionDenied):
        seals.receive_batch(
            factory,
            callers.bench_operator(),
            supplier="Acme",
            delivery_reference="DN-1",
            iso_class="I",
            class_description=None,
            store=STORE,
            first="SL-000100",
            last="SL-000101",
        )
    assert factory.entries() == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"supplier": "  "}, "supplier"),
        ({"iso_class": "X"}, "seal_class"),
        ({"iso_class": "other"}, "class_description"),
        ({"store": "store a"}, "store"),
        ({"serials": ["SL-000200"]}, "not both"),
        ({"last": "SL-000099"}, "comes after"),
        ({"first": None}, "give a range"),
    ],
)
def test_a_batch_with_bad_details_is_refused(
    factory: FakeUnitOfWorkFactory, changes: dict[str, object], message: str
) -> None:
    given: dict[str, object] = {
        "supplier": "Acme",
        "delivery_reference": "DN-1",
        "iso_class": "I",
        "class_description": None,
        "store": STORE,
        "first": "SL-000100",
        "last": "SL-000101",
        **changes,
    }
    with pytest.raises(InvalidInput, match=message):
        seals.receive_batch(factory, STORES, **given)  # type: ignore[arg-type]
    assert factory.entries() == []


def test_a_batch_must_hold_only_new_serials(factory: FakeUnitOfWorkFactory) -> None:
    first = receive(factory, "SL-000100", "SL-000104")

    with pytest.raises(Conflict, match=rf"2 of these .*SL-000103 \(batch {first.id}\)"):
        receive(factory, "SL-000103", "SL-000110")
    with pytest.raises(Conflict, match="SL-000100"):
        seals.receive_batch(
            factory,
            STORES,
            supplier="Acme",
            delivery_reference="DN-2",
            iso_class="I",
            class_description=None,
            store="STORE-B",
            serials=["SL-000999", "SL-000100"],
        )

    assert factory.entry_types() == ["seal.batch_received"]
    assert seals.batches(factory, STORES, 0, 10) == ([first], 1)


# -- issuing and taking back -----------------------------------------------------------------


def test_stores_issue_seals_to_an_operator_who_fits_them(factory: FakeUnitOfWorkFactory) -> None:
    staff(factory, "op")
    receive(factory)

    issued = issue(factory, "op", "SL-000101", "sl-000100")

    assert [(s.serial, s.status, s.holder) for s in issued] == [
        ("SL-000101", SealStatus.ISSUED, "op"),
        ("SL-000100", SealStatus.ISSUED, "op"),
    ]
    assert issued[0].issued_at == factory.clock.now()
    entries = [e for e in factory.entries() if e.type == "seal.issued"]
    assert [(e.subject, dict(e.data), e.actor.id) for e in entries] == [
        (
            Ref("seal", "SL-000101"),
            {"serial": "SL-000101", "operator_id": "op", "store": STORE},
            "sto",
        ),
        (
            Ref("seal", "SL-000100"),
            {"serial": "SL-000100", "operator_id": "op", "store": STORE},
            "sto",
        ),
    ]
    held, total = seals.list_seals(factory, STORES, holder="op")
    assert ([s.serial for s in held], total) == (["SL-000100", "SL-000101"], 2)
    assert seals.list_seals(factory, STORES, status="in_stock")[1] == 3
    assert [e.kind for e in seals.seal_detail(factory, STORES, "SL-000100").events] == [
        "received",
        "issued",
    ]


def test_a_supervisor_may_be_issued_seals_too(factory: FakeUnitOfWorkFactory) -> None:
    staff(factory, "boss", Role.SUPERVISOR)
    receive(factory)
    assert [s.holder for s in issue(factory, "boss", "SL-000100")] == ["boss"]


def test_only_stores_issue_seals(factory: FakeUnitOfWorkFactory) -> None:
    staff(factory, "op")
    receive(factory)
    before = factory.entry_types()
    with pytest.raises(PermissionDenied):
        seals.issue(factory, callers.supervisor(), "op", serials=["SL-000100"])
    assert factory.entry_types() == before


def test_stores_do_not_issue_seals_to_themselves(factory: FakeUnitOfWorkFactory) -> None:
    staff(factory, "sto", Role.STORES, Role.BENCH_OPERATOR)
    receive(factory)
    before = factory.entry_types()
    with pytest.raises(PermissionDenied, match="separation of duties"):
        seals.issue(factory, STORES, "sto", serials=["SL-000100"])
    assert factory.entry_types() == before


def test_seals_go_only_to_active_operators_who_fit_seals(factory: FakeUnitOfWorkFactory) -> None:
    staff(factory, "aud", Role.AUDITOR)
    staff(factory, "gone")
    people_seed.suspend_operator(factory, "gone")
    receive(factory)
    before = factory.entry_types()

    with pytest.raises(NotFound, match="no operator 'ghost'"):
        issue(factory, "ghost", "SL-000100")
    with pytest.raises(Conflict, match="not active"):
        issue(factory, "gone", "SL-000100")
    with pytest.raises(Conflict, match="does not fit seals"):
        issue(factory, "aud", "SL-000100")

    assert factory.entry_types() == before
    assert _status(factory, "SL-000100") is SealStatus.IN_STOCK


def test_an_issue_with_one_bad_seal_issues_none(factory: FakeUnitOfWorkFactory) -> None:
    staff(factory, "op")
    staff(factory, "op2")
    receive(factory)
    issue(factory, "op2", "SL-000101")
    before = factory.entry_types()

    with pytest.raises(Conflict, match=r"2 of 3 seals: .*SL-000101.*issued to op2.*SL-000999"):
        issue(factory, "op", "SL-000100", "SL-000101", "SL-000999")

    assert factory.entry_types() == before
    assert _status(factory, "SL-000100") is SealStatus.IN_STOCK
    assert seals.seal_detail(factory, STORES, "SL-000101").seal.holder == "op2"


def test_unused_seals_come_back_to_stock(factory: FakeUnitOfWorkFactory) -> None:
    staff(factory, "op")
    receive(factory)
    issue(factory, "op", "SL-000100", "SL-000101")

    back = seals.return_to_stock(factory, STORES, serials=["SL-000100"])
    moved = seals.return_to_stock(factory, STORES, store="store-b", serials=["SL-000101"])

    assert [(s.status, s.store) for s in back + moved] == [
        (SealStatus.IN_STOCK, STORE),
        (SealStatus.IN_STOCK, "STORE-B"),
    ]
    returned = [dict(e.data) for e in factory.entries() if e.type == "seal.returned"]
    assert returned == [
        {"serial": "SL-000100", "operator_id": "op", "store": STORE},
        {"serial": "SL-000101", "operator_id": "op", "store": "STORE-B"},
    ]
    assert seals.list_seals(factory, STORES, store="STORE-B")[1] == 1
    assert seals.list_seals(factory, STORES, status="issued")[1] == 0


def test_only_stores_take_seals_back(factory: FakeUnitOfWorkFactory) -> None:
    holder = staff(factory, "op")
    receive(factory)
    issue(factory, "op", "SL-000100")
    before = factory.entry_types()
    with pytest.raises(PermissionDenied):
        seals.return_to_stock(factory, holder, serials=["SL-000100"])
    assert factory.entry_types() == before


def test_a_seal_in_stock_cannot_be_returned(factory: FakeUnitOfWorkFactory) -> None:
    staff(factory, "op")
    receive(factory)
    issue(factory, "op", "SL-000100")
    before = factory.entry_types()

    with pytest.raises(Conflict, match="SL-000101 cannot be returned: it is in stock"):
        seals.return_to_stock(factory, STORES, serials=["SL-000100", "SL-000101"])
    with pytest.raises(InvalidInput, match="store"):
        seals.return_to_stock(factory, STORES, store="no store!", serials=["SL-000100"])

    assert factory.entry_types() == before
    assert _status(factory, "SL-000100") is SealStatus.ISSUED


# -- void, lost, broken ----------------------------------------------------------------------


def test_stores_void_a_damaged_seal_in_stock(factory: FakeUnitOfWorkFactory) -> None:
    receive(factory)

    voided = seals.void(factory, STORES, "sl-000100", "  dropped on the floor \n and cracked ")

    assert (voided.status, voided.store) == (SealStatus.VOID, STORE)
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject) == ("seal.voided", Ref("seal", "SL-000100"))
    assert dict(entry.data) == {
        "serial": "SL-000100",
        "reason": REASON,
        "operator_id": None,
        "store": STORE,
    }
    [*_, last] = seals.seal_detail(factory, STORES, "SL-000100").events
    assert (last.kind, last.detail, last.store) == ("voided", REASON, STORE)
    # Void is no discrepancy: it is accounted for.
    assert seals.discrepancies(factory, STORES, None, 0, 10) == ([], 0)


def test_an_operator_voids_a_seal_issued_to_them(factory: FakeUnitOfWorkFactory) -> None:
    holder = staff(factory, "op")
    receive(factory)
    issue(factory, "op", "SL-000100")

    voided = seals.void(factory, holder, "SL-000100", REASON)

    assert voided.status is SealStatus.VOID
    data = factory.entries()[-1].data
    assert (data["operator_id"], data["store"]) == ("op", None)
    assert seals.reconciliation(factory, STORES, "operator", "op").figures["void_while_held"] == 1


def test_an_operator_reports_only_their_own_seals(factory: FakeUnitOfWorkFactory) -> None:
    staff(factory, "op")
    other = staff(factory, "op2")
    receive(factory)
    issue(factory, "op", "SL-000100")
    before = factory.entry_types()

    with pytest.raises(PermissionDenied, match="issued to op"):
        seals.void(factory, other, "SL-000100", REASON)
    with pytest.raises(PermissionDenied, match="in stock"):
        seals.lose(factory, other, "SL-000101", REASON)
    with pytest.raises(PermissionDenied):
        seals.void(factory, callers.nobody(), "SL-000100", REASON)

    assert factory.entry_types() == before
    assert _status(factory, "SL-000100") is SealStatus.ISSUED


def test_a_void_or_loss_needs_a_reason_and_a_serial(factory: FakeUnitOfWorkFactory) -> None:
    receive(factory)
    before = factory.entry_types()

    with pytest.raises(InvalidInput) as short:
        seals.void(factory, STORES, "SL-000100", "cracked")
    assert short.value.field == "reason"
    with pytest.raises(InvalidInput, match="not a seal serial"):
        seals.lose(factory, STORES, "S L", REASON)

    assert factory.entry_types() == before


def test_a_seal_out_of_use_cannot_be_voided_or_lost_again(factory: FakeUnitOfWorkFactory) -> None:
    holder = staff(factory, "op")
    receive(factory)
    issue(factory, "op", "SL-000100")
    fit(factory, holder, "SL-000100")
    seals.void(factory, STORES, "SL-000101", REASON)
    before = factory.entry_types()

    with pytest.raises(Conflict, match="cannot be voided: it is fitted to device"):
        seals.void(factory, STORES, "SL-000100", REASON)
    with pytest.raises(Conflict, match="cannot be lost: it is void"):
        seals.lose(factory, STORES, "SL-000101", REASON)
    with pytest.raises(NotFound, match="not in the seal register"):
        seals.void(factory, STORES, "SL-000999", REASON)

    assert factory.entry_types() == before


def test_a_lost_seal_opens_a_discrepancy(factory: FakeUnitOfWorkFactory) -> None:
    holder = staff(factory, "op")
    receive(factory)
    issue(factory, "op", "SL-000100")

    lost = seals.lose(factory, holder, "SL-000100", "not in my tray at the end of the day")

    assert lost.status is SealStatus.LOST
    entry = factory.entries()[-1]
    assert entry.type == "seal.lost"
    [found], total = seals.discrepancies(factory, STORES, "open", 0, 10)
    assert total == 1
    assert found.id == entry.data["discrepancy_id"]
    assert (found.kind, found.serial, found.operator_id, found.store, found.raised_by) == (
        DiscrepancyKind.LOST,
        "SL-000100",
        "op",
        None,
        "op",
    )
    assert found.detail == "not in my tray at the end of the day"


def test_a_fitted_seal_found_broken_after_dispatch(factory: FakeUnitOfWorkFactory) -> None:
    holder = staff(factory, "op")
    receive(factory)
    issue(factory, "op", "SL-000100")
    fit(factory, holder, "SL-000100", job_id="job-gone")

    broken = seals.report_broken(factory, STORES, "SL-000100", "the seal wire is cut through")

    assert (broken.status, broken.device_id, broken.job_id) == (
        SealStatus.BROKEN,
        DEVICE,
        "job-gone",
    )
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject) == ("seal.broken", Ref("device", DEVICE))
    assert entry.data["job_id"] == "job-gone" and "state" not in entry.data
    [found], _ = seals.discrepancies(factory, STORES, "open", 0, 10)
    assert (found.kind, found.device_id, found.id) == (
        DiscrepancyKind.BROKEN,
        DEVICE,
        entry.data["discrepancy_id"],
    )


def test_only_a_fitted_seal_can_be_found_broken(factory: FakeUnitOfWorkFactory) -> None:
    receive(factory)
    before = factory.entry_types()

    with pytest.raises(Conflict, match="cannot be broken: it is in stock"):
        seals.report_broken(factory, STORES, "SL-000100", "the seal wire is cut through")
    with pytest.raises(InvalidInput) as short:
        seals.report_broken(factory, STORES, "SL-000100", "cut")
    assert short.value.field == "detail"
    with pytest.raises(PermissionDenied):
        seals.report_broken(factory, callers.auditor(), "SL-000100", "the wire is cut through")

    assert factory.entry_types() == before


# -- stocktake -------------------------------------------------------------------------------


def test_a_stocktake_names_what_is_missing_and_unexpected(factory: FakeUnitOfWorkFactory) -> None:
    staff(factory, "op")
    batch = receive(factory)
    issue(factory, "op", "SL-000103")

    taken = seals.stocktake(
        factory,
        STORES,
        "store-a",
        ["SL-000100", "sl-000100", "SL-000101", "SL-000102", "SL-000103", "ZZ-0001"],
    )

    assert (taken.store, taken.expected, taken.counted, taken.counted_by) == (STORE, 4, 5, "sto")
    assert taken.missing == ("SL-000104",)
    assert [(u.serial, u.known_as) for u in taken.unexpected] == [
        ("SL-000103", "issued to op"),
        ("ZZ-0001", "not in the seal register"),
    ]
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject) == ("seal.stocktake", Ref("seal_store", STORE))
    raised, total = seals.discrepancies(factory, STORES, "open", 0, 10)
    assert total == 3
    assert sorted(d.id for d in raised) == list(taken.discrepancy_ids)
    by_serial = {d.serial: d for d in raised}
    assert by_serial["SL-000104"].kind is DiscrepancyKind.MISSING
    assert by_serial["SL-000104"].batch_id == batch.id
    assert by_serial["ZZ-0001"].kind is DiscrepancyKind.UNEXPECTED
    assert by_serial["ZZ-0001"].batch_id is None
    assert seals.stocktakes(factory, STORES, 0, 10) == (
        [dataclasses.replace(taken, discrepancy_ids=())],
        1,
    )


def test_a_clean_stocktake_raises_nothing(factory: FakeUnitOfWorkFactory) -> None:
    receive(factory, "SL-000100", "SL-000101")
    taken = seals.stocktake(factory, STORES, STORE, ["SL-000101", "SL-000100"])
    assert (taken.missing, taken.unexpected, taken.discrepancy_ids) == ((), (), ())
    assert seals.discrepancies(factory, STORES, None, 0, 10) == ([], 0)


def test_only_stores_count_seals(factory: FakeUnitOfWorkFactory) -> None:
    receive(factory)
    before = factory.entry_types()
    with pytest.raises(PermissionDenied):
        seals.stocktake(factory, callers.security_manager(), STORE, ["SL-000100"])
    assert factory.entry_types() == before


def test_a_stocktake_with_bad_scans_is_refused(factory: FakeUnitOfWorkFactory) -> None:
    receive(factory)
    before = factory.entry_types()

    with pytest.raises(InvalidInput, match="serials: 'S!' is not a seal serial"):
        seals.stocktake(factory, STORES, STORE, ["SL-000100", "S!"])
    with pytest.raises(InvalidInput, match="store"):
        seals.stocktake(factory, STORES, "", ["SL-000100"])
    with pytest.raises(InvalidInput, match="at most 100000 scans"):
        seals.stocktake(factory, STORES, STORE, ["SL-000100"] * (seals.MAX_STOCKTAKE + 1))

    assert factory.entry_types() == before


# -- reconciliation --------------------------------------------------------------------------


def _busy_register(factory: FakeUnitOfWorkFactory) -> None:
    """5 received; 3 issued to op; 1 fitted, 1 lost by op, 1 still held; 1 void from stock."""
    holder = staff(factory, "op")
    receive(factory)
    issue(factory, "op", "SL-000100", "SL-000101", "SL-000102")
    fit(factory, holder, "SL-000100")
    seals.lose(factory, holder, "SL-000101", "not in my tray at the end of the day")
    seals.void(factory, STORES, "SL-000104", REASON)


def test_the_facility_count_balances_and_lists_what_is_open(
    factory: FakeUnitOfWorkFactory,
) -> None:
    _busy_register(factory)

    count = seals.reconciliation(factory, callers.auditor(), "facility")

    assert count.at == factory.clock.now()
    f = count.figures
    assert (f["received"], f["issued"], f["fitted"], f["lost_while_held"]) == (5, 3, 1, 1)
    assert (f["void_from_stock"], f["in_stock"], f["held"], f["fitted_now"]) == (1, 1, 1, 1)
    assert count.balanced and not count.clean
    assert [d.serial for d in count.discrepancies] == ["SL-000101"]
    assert [e.name for e in count.equations] == [
        "issued",
        "stock",
        "fitted",
        "broken",
        "void",
        "lost",
        "count",
    ]


def test_an_operator_and_a_store_are_counted_alone(factory: FakeUnitOfWorkFactory) -> None:
    _busy_register(factory)

    mine = seals.reconciliation(factory, STORES, "operator", "op")
    store = seals.reconciliation(factory, STORES, "store", "store-a")

    assert [e.name for e in mine.equations] == ["issued"]
    assert (mine.figures["issued"], mine.figures["held"], mine.figures["received"]) == (3, 1, 0)
    assert mine.balanced and [d.serial for d in mine.discrepancies] == ["SL-000101"]
    assert [e.name for e in store.equations] == ["stock"]
    assert (store.figures["received"], store.figures["in_stock"]) == (5, 1)
    assert store.balanced and store.discrepancies == []


def test_a_register_changed_behind_the_ledgers_back_does_not_balance(
    factory: FakeUnitOfWorkFactory,
) -> None:
    receive(factory)
    # A seal row edited in the database: "fitted", with no step that fitted it.
    register = factory.database.areas["seals"]
    assert isinstance(register, FakeSealRepository)
    found = register.seal("SL-000100")
    assert found is not None
    register._seals["SL-000100"] = dataclasses.replace(found, status=SealStatus.FITTED)

    count = seals.reconciliation(factory, STORES, "facility")

    assert not count.balanced
    assert {e.name for e in count.equations if not e.balanced} == {"stock", "fitted"}


def test_a_reconciliation_needs_a_known_scope(factory: FakeUnitOfWorkFactory) -> None:
    receive(factory)
    with pytest.raises(InvalidInput, match="scope: facility, operator, store or batch"):
        seals.reconciliation(factory, STORES, "bench", "B1")
    with pytest.raises(InvalidInput, match="scope_id: name the operator"):
        seals.reconciliation(factory, STORES, "operator")
    with pytest.raises(NotFound, match="no operator 'ghost'"):
        seals.reconciliation(factory, STORES, "operator", "ghost")
    with pytest.raises(NotFound, match="no seal batch 'nope'"):
        seals.reconciliation(factory, STORES, "batch", "nope")
    with pytest.raises(PermissionDenied):
        seals.reconciliation(factory, callers.nobody(), "facility")


def test_a_reconciliation_is_kept_as_evidence(factory: FakeUnitOfWorkFactory) -> None:
    _busy_register(factory)
    now = seals.reconciliation(factory, STORES, "facility")

    kept = seals.record_reconciliation(factory, callers.security_manager(), "facility")

    assert (kept.scope, kept.scope_id, kept.balanced, kept.open_discrepancies) == (
        "facility",
        None,
        True,
        1,
    )
    assert (kept.recorded_by, kept.at) == ("sec", factory.clock.now())
    assert kept.result == now.to_json()
    entry, incident = factory.entries()[-2:]
    assert (entry.type, entry.subject) == (
        "seal.reconciled",
        Ref("seal_reconciliation", kept.id),
    )
    assert entry.data["result"] == kept.result
    assert seals.stored_reconciliation(factory, STORES, kept.id) == kept
    assert seals.reconciliations(factory, STORES, 0, 10) == ([kept], 1)
    # Its open discrepancy is an incident in the register, once per scope while open.
    assert (incident.type, incident.data["source"], incident.data["about_id"]) == (
        "incident.raised",
        "seal_discrepancy",
        "facility",
    )
    assert incident.data["detail"]["reconciliation_id"] == kept.id
    assert len(incident.data["detail"]["discrepancy_ids"]) == 1
    seals.record_reconciliation(factory, callers.security_manager(), "facility")
    assert factory.entry_types()[-1] == "seal.reconciled"


def test_a_clean_reconciliation_raises_no_incident(factory: FakeUnitOfWorkFactory) -> None:
    receive(factory)
    kept = seals.record_reconciliation(factory, callers.security_manager(), "facility")
    assert (kept.balanced, kept.open_discrepancies) == (True, 0)
    assert "incident.raised" not in factory.entry_types()


def test_a_batch_reconciliation_is_kept_with_its_scope(factory: FakeUnitOfWorkFactory) -> None:
    batch = receive(factory)
    kept = seals.record_reconciliation(factory, STORES, "batch", batch.id)
    assert (kept.scope, kept.scope_id, kept.balanced, kept.open_discrepancies) == (
        "batch",
        batch.id,
        True,
        0,
    )


def test_keeping_a_reconciliation_is_refused_without_the_permission_or_a_scope(
    factory: FakeUnitOfWorkFactory,
) -> None:
    receive(factory)
    before = factory.entry_types()

    with pytest.raises(PermissionDenied):
        seals.record_reconciliation(factory, callers.bench_operator(), "facility")
    with pytest.raises(InvalidInput, match="the facility scope takes no id"):
        seals.record_reconciliation(factory, STORES, "facility", "x")
    with pytest.raises(NotFound, match="no seal batch"):
        seals.record_reconciliation(factory, STORES, "batch", "nope")

    assert factory.entry_types() == before
    assert seals.reconciliations(factory, STORES, 0, 10) == ([], 0)


def test_a_stored_reconciliation_must_exist(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(NotFound, match="no stored reconciliation 'r-1'"):
        seals.stored_reconciliation(factory, STORES, "r-1")
    with pytest.raises(PermissionDenied):
        seals.reconciliations(factory, callers.nobody(), 0, 10)


# -- discrepancies ---------------------------------------------------------------------------


def _lost_by_op(factory: FakeUnitOfWorkFactory) -> str:
    """SL-000100 issued to op and reported lost by stores; the discrepancy's id."""
    staff(factory, "op")
    receive(factory)
    issue(factory, "op", "SL-000100")
    seals.lose(factory, STORES, "SL-000100", "op says it was handed back; it was not")
    [found], _ = seals.discrepancies(factory, STORES, "open", 0, 1)
    return found.id


def test_a_security_manager_resolves_a_discrepancy(factory: FakeUnitOfWorkFactory) -> None:
    discrepancy_id = _lost_by_op(factory)
    factory.clock.advance(timedelta(hours=2))

    done = seals.resolve_discrepancy(
        factory, callers.security_manager(), discrepancy_id, "found  behind the bench, destroyed"
    )

    assert (done.status, done.resolved_by, done.resolution, done.resolved_at) == (
        "resolved",
        "sec",
        "found behind the bench, destroyed",
        factory.clock.now(),
    )
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject) == ("seal.discrepancy_resolved", Ref("seal", "SL-000100"))
    assert dict(entry.data) == {
        "discrepancy_id": discrepancy_id,
        "resolution": "found behind the bench, destroyed",
    }
    assert seals.discrepancies(factory, STORES, "open", 0, 10) == ([], 0)
    assert seals.discrepancies(factory, STORES, "resolved", 0, 10) == ([done], 1)
    assert seals.reconciliation(factory, STORES, "facility").clean


def test_only_a_security_manager_resolves_discrepancies(factory: FakeUnitOfWorkFactory) -> None:
    discrepancy_id = _lost_by_op(factory)
    before = factory.entry_types()
    with pytest.raises(PermissionDenied):
        seals.resolve_discrepancy(factory, STORES, discrepancy_id, "found behind the bench")
    assert factory.entry_types() == before


@pytest.mark.parametrize("who", ["sto", "op"])
def test_those_a_discrepancy_concerns_do_not_resolve_it(
    factory: FakeUnitOfWorkFactory, who: str
) -> None:
    discrepancy_id = _lost_by_op(factory)
    before = factory.entry_types()
    with pytest.raises(PermissionDenied, match="separation of duties"):
        seals.resolve_discrepancy(
            factory, callers.security_manager(who), discrepancy_id, "found behind the bench"
        )
    assert factory.entry_types() == before
    assert seals.discrepancies(factory, STORES, "open", 0, 10)[1] == 1


def test_a_discrepancy_is_resolved_once_with_a_resolution(
    factory: FakeUnitOfWorkFactory,
) -> None:
    discrepancy_id = _lost_by_op(factory)
    manager = callers.security_manager()
    with pytest.raises(InvalidInput) as short:
        seals.resolve_discrepancy(factory, manager, discrepancy_id, "found")
    assert short.value.field == "resolution"
    with pytest.raises(NotFound, match="no seal discrepancy 'nope'"):
        seals.resolve_discrepancy(factory, manager, "nope", "found behind the bench")
    seals.resolve_discrepancy(factory, manager, discrepancy_id, "found behind the bench")
    before = factory.entry_types()

    with pytest.raises(Conflict, match="already resolved"):
        seals.resolve_discrepancy(factory, manager, discrepancy_id, "found it again, twice")

    assert factory.entry_types() == before
    [done], _ = seals.discrepancies(factory, STORES, "resolved", 0, 10)
    assert done.resolution == "found behind the bench"


def test_discrepancies_are_listed_oldest_first_a_page_at_a_time(
    factory: FakeUnitOfWorkFactory,
) -> None:
    receive(factory)
    for serial in ("SL-000102", "SL-000100", "SL-000101"):
        factory.clock.advance(timedelta(minutes=1))
        seals.lose(factory, STORES, serial, "not on the shelf at the count")

    page, total = seals.discrepancies(factory, callers.auditor(), None, 1, 1)

    assert total == 3
    assert [d.serial for d in page] == ["SL-000100"]
    with pytest.raises(InvalidInput, match="status: open, resolved or all"):
        seals.discrepancies(factory, STORES, "closed", 0, 10)
    with pytest.raises(PermissionDenied):
        seals.discrepancies(factory, callers.nobody(), None, 0, 10)


# -- reading ---------------------------------------------------------------------------------


def test_a_seals_detail_shows_its_batch_and_every_step(factory: FakeUnitOfWorkFactory) -> None:
    holder = staff(factory, "op")
    batch = receive(factory)
    issue(factory, "op", "SL-000100")
    factory.clock.advance(timedelta(minutes=5))
    fit(factory, holder, "SL-000100")

    detail = seals.seal_detail(factory, callers.auditor(), " sl-000100 ")

    assert detail.batch == batch
    assert (detail.seal.status, detail.seal.device_id, detail.seal.job_id) == (
        SealStatus.FITTED,
        DEVICE,
        "job-1",
    )
    assert detail.seal.status_at == factory.clock.now()
    assert [(e.kind, e.actor, e.operator_id, e.store) for e in detail.events] == [
        ("received", "sto", None, STORE),
        ("issued", "sto", "op", STORE),
        ("fitted", "op", "op", None),
    ]
    assert detail.events[-1].device_id == DEVICE


def test_a_seal_not_in_the_register_has_no_detail(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(NotFound, match="SL-000100 is not in the seal register"):
        seals.seal_detail(factory, STORES, "SL-000100")
    with pytest.raises(InvalidInput, match="not a seal serial"):
        seals.seal_detail(factory, STORES, "?")
    with pytest.raises(PermissionDenied):
        seals.seal_detail(factory, callers.nobody(), "SL-000100")


def test_seals_are_listed_by_serial_and_filtered(factory: FakeUnitOfWorkFactory) -> None:
    staff(factory, "op")
    first = receive(factory, "SL-000105", "SL-000109")
    second = receive(factory, "SL-000100", "SL-000104", store="STORE-B")
    issue(factory, "op", "SL-000106", "SL-000101")

    page, total = seals.list_seals(factory, STORES, offset=2, limit=3)
    assert total == 10
    assert [s.serial for s in page] == ["SL-000102", "SL-000103", "SL-000104"]
    held, _ = seals.list_seals(factory, STORES, status="issued", holder="op")
    assert [s.serial for s in held] == ["SL-000101", "SL-000106"]
    stock_b, _ = seals.list_seals(factory, STORES, status="in_stock", store="store-b")
    assert [s.serial for s in stock_b] == ["SL-000100", "SL-000102", "SL-000103", "SL-000104"]
    assert seals.list_seals(factory, STORES, batch_id=first.id)[1] == 5
    assert seals.list_seals(factory, STORES, batch_id=second.id, holder="op")[1] == 1
    with pytest.raises(InvalidInput, match="status: one of in_stock, issued"):
        seals.list_seals(factory, STORES, status="missing")
    with pytest.raises(PermissionDenied):
        seals.list_seals(factory, callers.nobody())


def test_a_batch_shows_where_its_seals_are(factory: FakeUnitOfWorkFactory) -> None:
    staff(factory, "op")
    batch = receive(factory)
    receive(factory, "SL-000200", "SL-000201")
    issue(factory, "op", "SL-000100", "SL-000200")

    found, figures = seals.batch_detail(factory, callers.auditor(), batch.id)

    assert found == batch
    assert (figures["received"], figures["issued"], figures["in_stock"], figures["held"]) == (
        5,
        1,
        4,
        1,
    )
    with pytest.raises(NotFound, match="no seal batch 'nope'"):
        seals.batch_detail(factory, STORES, "nope")
    with pytest.raises(PermissionDenied):
        seals.batch_detail(factory, callers.nobody(), batch.id)


def test_batches_are_listed_oldest_first(factory: FakeUnitOfWorkFactory) -> None:
    first = receive(factory, "SL-000200", "SL-000201")
    factory.clock.advance(timedelta(days=1))
    second = receive(factory, "SL-000100", "SL-000101")
    factory.clock.advance(timedelta(days=1))
    third = receive(factory, "SL-000300", "SL-000301")

    assert seals.batches(factory, STORES, 0, 10) == ([first, second, third], 3)
    assert seals.batches(factory, STORES, 1, 1) == ([second], 3)
    with pytest.raises(PermissionDenied):
        seals.batches(factory, callers.nobody(), 0, 10)


def test_stocktakes_are_listed_oldest_first(factory: FakeUnitOfWorkFactory) -> None:
    receive(factory)
    receive(factory, "SL-000200", "SL-000200", store="STORE-B")
    first = seals.stocktake(factory, STORES, STORE, [])
    factory.clock.advance(timedelta(hours=1))
    second = seals.stocktake(factory, STORES, "STORE-B", ["SL-000200"])

    listed, total = seals.stocktakes(factory, callers.auditor(), 0, 10)

    assert total == 2
    assert [(s.id, s.store, s.missing) for s in listed] == [
        (first.id, STORE, ("SL-000100", "SL-000101", "SL-000102", "SL-000103", "SL-000104")),
        (second.id, "STORE-B", ()),
    ]
    with pytest.raises(PermissionDenied):
        seals.stocktakes(factory, callers.nobody(), 0, 10)


# -- reports ---------------------------------------------------------------------------------


def test_the_fitted_report_counts_per_day_and_operator(factory: FakeUnitOfWorkFactory) -> None:
    one = staff(factory, "op")
    two = staff(factory, "op2")
    receive(factory)
    issue(factory, "op", "SL-000100", "SL-000101")
    issue(factory, "op2", "SL-000102", "SL-000103")
    start = factory.clock.now()
    fit(factory, one, "SL-000100", at=start + timedelta(hours=1))
    fit(factory, two, "SL-000102", at=start + timedelta(hours=2))
    fit(factory, one, "SL-000101", at=start + timedelta(days=1))
    fit(factory, two, "SL-000103", at=start + timedelta(days=3))
    factory.clock.advance(timedelta(days=3))

    report = seals.fitted_report(factory, STORES, since=start, until=start + timedelta(days=2))
    recent = seals.fitted_report(factory, STORES)

    assert [(r.day, r.operator_id, r.fitted) for r in report.rows] == [
        ("2026-12-01", "op", 1),
        ("2026-12-01", "op2", 1),
        ("2026-12-02", "op", 1),
    ]
    assert report.total == 3
    # By default the last 30 days up to now: the fitting at exactly now is not in it.
    assert (recent.since, recent.until) == (
        factory.clock.now() - timedelta(days=30),
        factory.clock.now(),
    )
    assert recent.total == 3


def test_the_fitted_report_needs_a_sensible_window(factory: FakeUnitOfWorkFactory) -> None:
    now = factory.clock.now()
    with pytest.raises(InvalidInput, match="since: must be before until"):
        seals.fitted_report(factory, STORES, since=now, until=now)
    with pytest.raises(InvalidInput, match="time zone"):
        seals.fitted_report(factory, STORES, since=now.replace(tzinfo=None) - timedelta(days=1))
    with pytest.raises(InvalidInput, match="at most 366 days"):
        seals.fitted_report(factory, STORES, since=now - timedelta(days=367))
    with pytest.raises(PermissionDenied):
        seals.fitted_report(factory, callers.nobody())


def test_the_unused_report_lists_seals_held_too_long(factory: FakeUnitOfWorkFactory) -> None:
    staff(factory, "op")
    batch = receive(factory)
    issue(factory, "op", "SL-000101")
    issue(factory, "op", "SL-000102")
    factory.clock.advance(timedelta(days=5))
    issue(factory, "op", "SL-000100")
    factory.clock.advance(timedelta(days=4))
    seals.return_to_stock(factory, STORES, serials=["SL-000102"])

    report = seals.unused_report(factory, callers.auditor())

    assert (report.days, report.at) == (7, factory.clock.now())
    assert [(u.serial, u.holder, u.days, u.batch_id) for u in report.seals] == [
        ("SL-000101", "op", 9, batch.id)
    ]
    assert [u.serial for u in seals.unused_report(factory, STORES, days=0).seals] == [
        "SL-000101",
        "SL-000100",
    ]
    with pytest.raises(InvalidInput, match="days: 0-3650"):
        seals.unused_report(factory, STORES, days=-1)
    with pytest.raises(PermissionDenied):
        seals.unused_report(factory, callers.nobody())


# -- labels ----------------------------------------------------------------------------------


def test_labels_are_for_a_batch_or_the_seals_named(factory: FakeUnitOfWorkFactory) -> None:
    first = receive(factory, "SL-000100", "SL-000102")
    second = receive(factory, "SL-000200", "SL-000201")

    whole = seals.seals_for_labels(factory, STORES, batch_id=first.id)
    named = seals.seals_for_labels(factory, STORES, serials=["SL-000201", "sl-000100"])
    span = seals.seals_for_labels(factory, STORES, first="SL-000200", last="SL-000201")

    assert [(s.serial, b) for s, b in whole] == [
        ("SL-000100", first),
        ("SL-000101", first),
        ("SL-000102", first),
    ]
    assert [(s.serial, b) for s, b in named] == [("SL-000201", second), ("SL-000100", first)]
    assert [s.serial for s, _ in span] == ["SL-000200", "SL-000201"]


def test_labels_only_for_seals_in_the_register(factory: FakeUnitOfWorkFactory) -> None:
    batch = receive(factory, "SL-000100", "SL-000102")
    with pytest.raises(InvalidInput, match="not both"):
        seals.seals_for_labels(factory, STORES, batch_id=batch.id, serials=["SL-000100"])
    with pytest.raises(NotFound, match="no seal batch 'nope'"):
        seals.seals_for_labels(factory, STORES, batch_id="nope")
    with pytest.raises(NotFound, match="not in the seal register: SL-000103"):
        seals.seals_for_labels(factory, STORES, first="SL-000101", last="SL-000103")
    with pytest.raises(PermissionDenied):
        seals.seals_for_labels(factory, callers.nobody(), batch_id=batch.id)


# -- with the bench: a seal fitted by the bench step -----------------------------------------


def _sealed(factory: FakeUnitOfWorkFactory) -> tuple[workflow_seed.Bench, str]:
    """Test device 1 verified and sealed at the bench with SL-000100; the bench and job id."""
    bench = workflow_seed.at_the_bench(factory)
    job_id = workflow_seed.verified(factory, bench, 1)
    workflow_seed.issued_seal(factory, "op", "SL-000100")
    job_steps.seal(factory, bench.operator, job_id, "SL-000100")
    return bench, job_id


def test_a_seal_fitted_at_the_bench_is_in_the_register(factory: FakeUnitOfWorkFactory) -> None:
    _, job_id = _sealed(factory)

    detail = seals.seal_detail(factory, STORES, "SL-000100")

    device = workflow_seed.device_id(1)
    assert (detail.seal.status, detail.seal.device_id, detail.seal.job_id) == (
        SealStatus.FITTED,
        device,
        job_id,
    )
    assert [(e.kind, e.operator_id, e.device_id) for e in detail.events][-1] == (
        "fitted",
        "op",
        device,
    )
    report = seals.fitted_report(factory, STORES, until=factory.clock.now() + timedelta(1))
    assert [(r.operator_id, r.fitted) for r in report.rows] == [("op", 1)]


def test_a_seal_found_broken_before_dispatch_sends_the_job_back(
    factory: FakeUnitOfWorkFactory,
) -> None:
    _, job_id = _sealed(factory)

    broken = seals.report_broken(factory, STORES, "SL-000100", "the seal wire is cut through")

    assert broken.status is SealStatus.BROKEN
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject) == (
        "seal.broken",
        Ref("device", workflow_seed.device_id(1)),
    )
    assert (entry.data["job_id"], entry.data["state"]) == (job_id, JobState.SEAL_BROKEN.value)
    job, _ = seals.job_for_label(factory, STORES, job_id)
    assert (job.state, job.seal_serial) == (JobState.SEAL_BROKEN, None)
    [found], _ = seals.discrepancies(factory, STORES, "open", 0, 10)
    assert (found.kind, found.id) == (DiscrepancyKind.BROKEN, entry.data["discrepancy_id"])


def test_a_device_bag_is_labelled_for_its_latest_job(factory: FakeUnitOfWorkFactory) -> None:
    bench = workflow_seed.at_the_bench(factory)
    job_id = workflow_seed.inspected(factory, bench, 1)
    device = workflow_seed.device_id(1)

    assert seals.latest_job_id(factory, bench.operator, device.lower()) == job_id
    job, found = seals.job_for_label(factory, callers.auditor(), job_id)
    assert (job.id, job.device_id, found.id.value) == (job_id, device, device)


def test_a_label_needs_a_known_device_and_job(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(NotFound, match="has never been scanned"):
        seals.latest_job_id(factory, STORES, workflow_seed.device_id(9))
    with pytest.raises(InvalidInput, match="device_id"):
        seals.latest_job_id(factory, STORES, "not a device")
    with pytest.raises(NotFound, match="no triage job 'job-x'"):
        seals.job_for_label(factory, STORES, "job-x")
    with pytest.raises(PermissionDenied):
        seals.latest_job_id(factory, callers.nobody(), workflow_seed.device_id(9))
    with pytest.raises(PermissionDenied):
        seals.job_for_label(factory, callers.nobody(), "job-x")
