"""Seal management on both databases: the register, each step as a ledger entry, the sealing
step's checks, stocktakes, reconciliation against the tables, discrepancies, reports, labels.

The ``staffed`` facility starts with batch SL-0001..SL-0100 in STORE-A; ben (bench operator at
B1) holds SL-0001..SL-0050 and sup (supervisor at B1) holds SL-0051..SL-0060.
"""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from pypdf import PdfReader
from sqlalchemy import select, update

from tests.integration.conftest import Staffed
from triage.adapters import migrate
from triage.adapters.replay import replay_check
from triage.adapters.seal_repository import seal_from_row
from triage.adapters.tables import seal, seal_event, seal_tally
from triage.domain.caller import Caller
from triage.domain.lifecycle import JobState
from triage.domain.roles import Role
from triage.domain.seal_register import SealBatch, UnexpectedSeal
from triage.domain.seals import Move, Movement, Scope, ScopeKind, tally
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.services import documents, job_steps, operators, seals

D1 = "BC-33-AC-FF-FE-FA-56-01"
D2 = "BC-33-AC-FF-FE-FA-56-02"
D3 = "BC-33-AC-FF-FE-FA-56-03"


@pytest.fixture
def security(staffed: Staffed) -> Caller:
    operators.create_operator(
        staffed.app.uow, Caller.system("test"), "sam", "Sam", frozenset({Role.SECURITY_MANAGER})
    )
    return operators.operator_caller(staffed.app.uow, "sam")


def _verified(staffed: Staffed, device_id: str) -> str:
    job = staffed.receive(device_id)
    done = staffed.reset(job.id)
    assert done.state is JobState.VERIFIED
    return job.id


def _receive(staffed: Staffed, **kwargs: Any) -> SealBatch:
    options: dict[str, Any] = {
        "supplier": "Acme Seals",
        "delivery_reference": "DN-2",
        "iso_class": "S",
        "class_description": None,
        "store": "STORE-B",
    }
    options.update(kwargs)
    return seals.receive_batch(staffed.app.uow, staffed.stores, **options)


def test_a_batch_is_received_and_overlaps_are_refused_whole(staffed: Staffed) -> None:
    batch = _receive(staffed, first="SL-0101", last="SL-0150")
    assert batch.size == 50 and batch.store == "STORE-B" and batch.seal_class == "S"
    listed = _receive(
        staffed,
        serials=["x-900001", "X-900002"],
        store="STORE-C",
        iso_class="other",
        class_description="supplier grade A",
    )
    assert listed.size == 2 and listed.first_serial is None
    assert listed.class_description == "supplier grade A"

    size = staffed.ledger_size()
    with pytest.raises(Conflict, match=r"2 of these serials.*SL-0150 \(batch .*X-900001"):
        _receive(staffed, serials=["SL-0150", "SL-0151", "X-900001"])
    with pytest.raises(Conflict, match=r"already in the seal register: SL-0140"):
        _receive(staffed, first="SL-0140", last="SL-0160")
    with pytest.raises(InvalidInput, match="different numbers of final digits"):
        _receive(staffed, first="SL-0200", last="SL-00300")
    with pytest.raises(InvalidInput, match="seal_class"):
        _receive(staffed, first="SL-0200", last="SL-0300", iso_class="Z")
    assert staffed.ledger_size() == size  # nothing was received, nothing recorded
    found, total = seals.list_seals(staffed.app.uow, staffed.stores, store="store-b")
    assert total == 50 and all(s.status.value == "in_stock" for s in found)
    assert [e.data["size"] for e in staffed.entries("seal.batch_received")] == [100, 50, 2]


def test_only_stores_receive_and_issue_and_never_to_themselves(staffed: Staffed) -> None:
    with pytest.raises(PermissionDenied, match=r"seal\.stock"):
        _receive_as(staffed, staffed.ben)
    with pytest.raises(PermissionDenied, match=r"seal\.stock"):
        seals.issue(staffed.app.uow, staffed.sup, "ben", serials=["SL-0061"])
    with pytest.raises(PermissionDenied, match="separation of duties"):
        seals.issue(staffed.app.uow, staffed.stores, "stella", serials=["SL-0061"])
    with pytest.raises(Conflict, match="does not fit seals"):
        seals.issue(staffed.app.uow, staffed.stores, "audrey", serials=["SL-0061"])
    with pytest.raises(NotFound, match="no operator"):
        seals.issue(staffed.app.uow, staffed.stores, "nobody", serials=["SL-0061"])
    # Every problem at once, and none of the seals issued.
    with pytest.raises(Conflict, match=r"2 of 3 seals: seal SL-0001 .*issued to ben.*SL-9999"):
        seals.issue(
            staffed.app.uow, staffed.stores, "sup", serials=["SL-0061", "SL-0001", "SL-9999"]
        )
    assert (
        seals.seal_detail(staffed.app.uow, staffed.ben, "SL-0061").seal.status.value == "in_stock"
    )


def _receive_as(staffed: Staffed, caller: Caller) -> None:
    seals.receive_batch(
        staffed.app.uow,
        caller,
        supplier="S",
        delivery_reference="D",
        iso_class="I",
        class_description=None,
        store="STORE-A",
        first="Q-0001",
        last="Q-0002",
    )


def test_sealing_accepts_only_a_seal_issued_to_the_operator_at_the_bench(
    staffed: Staffed,
) -> None:
    staffed.manifest("C-1", [D1, D2])
    one, two = _verified(staffed, D1), _verified(staffed, D2)
    uow = staffed.app.uow
    with pytest.raises(Conflict, match="issued to sup, not to you"):
        job_steps.seal(uow, staffed.ben, one, "SL-0051")
    with pytest.raises(Conflict, match="in stock at STORE-A: stores must issue it"):
        job_steps.seal(uow, staffed.ben, one, "SL-0090")
    with pytest.raises(NotFound, match="not in the seal register"):
        job_steps.seal(uow, staffed.ben, one, "ZZ-0001")
    away = dataclasses.replace(staffed.ben, bench=None)
    with pytest.raises(PermissionDenied, match="at a bench"):
        job_steps.seal(uow, away, one, "SL-0001")
    assert staffed.job(one).state is JobState.VERIFIED  # no refusal changed anything

    sealed = job_steps.seal(uow, staffed.ben, one, "sl-0001")
    assert sealed.state is JobState.SEALED and sealed.seal_serial == "SL-0001"
    with pytest.raises(Conflict, match=f"it is fitted to device {D1}"):
        job_steps.seal(uow, staffed.ben, two, "SL-0001")
    detail = seals.seal_detail(uow, staffed.auditor, "SL-0001")
    assert detail.seal.status.value == "fitted" and detail.seal.device_id == D1
    assert [e.kind for e in detail.events] == ["received", "issued", "fitted"]
    fitted = staffed.entries("seal.fitted")[-1]
    assert fitted.data["serial"] == "SL-0001" and fitted.data["bench"] == "B1"


def test_return_void_and_lost_by_stores_or_by_the_holder(staffed: Staffed) -> None:
    uow = staffed.app.uow
    returned = seals.return_to_stock(uow, staffed.stores, serials=["SL-0002"], store="STORE-C")
    assert returned[0].status.value == "in_stock" and returned[0].store == "STORE-C"
    with pytest.raises(PermissionDenied, match=r"seal\.stock"):
        seals.return_to_stock(uow, staffed.ben, serials=["SL-0003"])

    with pytest.raises(InvalidInput, match="at least 10 characters"):
        seals.void(uow, staffed.ben, "SL-0003", "torn")
    assert seals.void(uow, staffed.ben, "SL-0003", "torn while fitting").status.value == "void"
    with pytest.raises(PermissionDenied, match="only seals issued to you"):
        seals.void(uow, staffed.ben, "SL-0051", "not mine but broken")
    with pytest.raises(PermissionDenied, match="only seals issued to you"):
        seals.lose(uow, staffed.ben, "SL-0095", "not mine and gone")
    assert seals.void(uow, staffed.stores, "SL-0095", "crushed in the store").status.value == "void"
    lost = seals.lose(uow, staffed.ben, "SL-0004", "dropped somewhere on the floor")
    assert lost.status.value == "lost"
    with pytest.raises(Conflict, match="cannot be voided: it is recorded as lost"):
        seals.void(uow, staffed.stores, "SL-0004", "found it but it is damaged")

    voided = staffed.entries("seal.voided")
    assert [(e.data["serial"], e.data["operator_id"], e.data["store"]) for e in voided] == [
        ("SL-0003", "ben", None),
        ("SL-0095", None, "STORE-A"),
    ]
    found, _ = seals.discrepancies(uow, staffed.auditor, "open", 0, 50)
    assert [(d.kind.value, d.serial, d.operator_id) for d in found] == [("lost", "SL-0004", "ben")]


def test_a_seal_broken_before_dispatch_sends_the_device_back_for_a_new_reset(
    staffed: Staffed, security: Caller
) -> None:
    staffed.manifest("C-1", [D1])
    job_id = _verified(staffed, D1)
    uow = staffed.app.uow
    job_steps.seal(uow, staffed.ben, job_id, "SL-0010")
    with pytest.raises(Conflict, match="cannot be broken: it is issued to ben"):
        seals.report_broken(uow, staffed.ben, "SL-0011", "seal snapped at the dispatch check")
    seals.report_broken(uow, staffed.ben, "SL-0010", "seal snapped at the dispatch check")
    job = staffed.job(job_id)
    assert job.state is JobState.SEAL_BROKEN and job.seal_serial is None
    with pytest.raises(Conflict, match="cannot release"):
        job_steps.release(uow, staffed.ben, job_id)
    # Reset and verified again, sealed with a new seal, released.
    assert staffed.reset(job_id).state is JobState.VERIFIED
    job_steps.seal(uow, staffed.ben, job_id, "SL-0012")
    assert job_steps.release(uow, staffed.ben, job_id).state is JobState.RELEASED

    # Found broken after release: recorded against the device, the job stays released.
    seals.report_broken(uow, staffed.sup, "SL-0012", "returned by the installer with seal cut")
    assert staffed.job(job_id).state is JobState.RELEASED
    broken = staffed.entries("seal.broken")
    assert [(e.subject.id, e.data["serial"], e.data.get("state")) for e in broken] == [
        (D1, "SL-0010", "seal_broken"),
        (D1, "SL-0012", None),
    ]
    open_ones, _ = seals.discrepancies(uow, security, "open", 0, 50)
    assert {(d.kind.value, d.serial, d.device_id) for d in open_ones} == {
        ("broken", "SL-0010", D1),
        ("broken", "SL-0012", D1),
    }


def test_stocktake_lists_missing_and_unexpected_and_a_security_manager_resolves(
    staffed: Staffed, security: Caller
) -> None:
    uow = staffed.app.uow
    present = [f"SL-{n:04d}" for n in range(61, 101) if n != 77]  # SL-0077 is not on the shelf
    result = seals.stocktake(
        uow, staffed.stores, "store-a", [*present, present[0], "SL-0005", "QQ-1234"]
    )
    assert result.expected == 40 and result.counted == 41
    assert list(result.missing) == ["SL-0077"]
    assert list(result.unexpected) == [
        UnexpectedSeal("QQ-1234", "not in the seal register"),
        UnexpectedSeal("SL-0005", "issued to ben"),
    ]
    found, _ = seals.discrepancies(uow, staffed.auditor, "open", 0, 50)
    assert sorted((d.kind.value, d.serial) for d in found) == [
        ("missing_at_stocktake", "SL-0077"),
        ("unexpected_at_stocktake", "QQ-1234"),
        ("unexpected_at_stocktake", "SL-0005"),
    ]
    assert sorted(d.id for d in found) == list(result.discrepancy_ids)
    missing = next(d for d in found if d.serial == "SL-0077")

    with pytest.raises(PermissionDenied, match=r"seal\.discrepancy_resolve"):
        seals.resolve_discrepancy(uow, staffed.stores, missing.id, "it was behind the cabinet")
    both = dataclasses.replace(security, id="stella")  # stores raised it: not theirs to close
    with pytest.raises(PermissionDenied, match="separation of duties"):
        seals.resolve_discrepancy(uow, both, missing.id, "it was behind the cabinet")
    closed = seals.resolve_discrepancy(uow, security, missing.id, "it was behind the cabinet")
    assert closed.status == "resolved" and closed.resolved_by == "sam"
    with pytest.raises(Conflict, match="already resolved"):
        seals.resolve_discrepancy(uow, security, missing.id, "it was behind the cabinet")
    stored, total = seals.stocktakes(uow, staffed.auditor, 0, 10)
    assert total == 1 and list(stored[0].missing) == ["SL-0077"]


def _all(staffed: Staffed) -> tuple[list[Movement], list[Any]]:
    with staffed.app.database.read() as conn:
        moves = [
            Movement(r.serial, r.batch_id, Move(r.kind), r.store, r.operator_id)
            for r in conn.execute(select(seal_event))
        ]
        held = [seal_from_row(r) for r in conn.execute(select(seal)).mappings()]
    return moves, held


def _busy(staffed: Staffed) -> None:
    """Some of everything: fitted, returned, void, lost, a second batch."""
    staffed.manifest("C-1", [D1, D2])
    uow = staffed.app.uow
    job_steps.seal(uow, staffed.ben, _verified(staffed, D1), "SL-0001")
    job_steps.seal(uow, staffed.sup, _verified(staffed, D2), "SL-0051")
    seals.return_to_stock(uow, staffed.stores, serials=["SL-0052", "SL-0002"], store="STORE-B")
    seals.void(uow, staffed.ben, "SL-0003", "torn while fitting")
    seals.void(uow, staffed.stores, "SL-0099", "crushed in the store")
    seals.lose(uow, staffed.ben, "SL-0004", "dropped somewhere on the floor")
    _receive(staffed, first="SL-0101", last="SL-0110")
    seals.issue(uow, staffed.stores, "ben", serials=["SL-0101", "SL-0002"])


def test_reconciliation_figures_from_the_database_match_the_reference_count(
    staffed: Staffed,
) -> None:
    _busy(staffed)
    moves, held = _all(staffed)
    batch_ids = sorted({s.batch_id for s in held})
    scopes = [
        ("facility", None),
        ("operator", "ben"),
        ("operator", "sup"),
        ("store", "STORE-A"),
        ("store", "STORE-B"),
        *[("batch", b) for b in batch_ids],
    ]
    for kind, scope_id in scopes:
        result = seals.reconciliation(staffed.app.uow, staffed.auditor, kind, scope_id)
        assert result.figures == tally(moves, held, Scope(ScopeKind(kind), scope_id)), kind
        assert result.balanced, (kind, [e.statement() for e in result.equations])
    ben = seals.reconciliation(staffed.app.uow, staffed.auditor, "operator", "ben")
    (issue_sum,) = ben.equations
    # 50 + 2 issued = 1 fitted + 1 returned + 1 void + 1 lost + 48 still held
    assert issue_sum.to_json()["left"] == {"issued": 52}
    assert issue_sum.to_json()["right"] == {
        "fitted": 1,
        "returned": 1,
        "void_while_held": 1,
        "lost_while_held": 1,
        "held": 48,
    }
    assert [d.serial for d in ben.discrepancies] == ["SL-0004"]
    with pytest.raises(NotFound, match="no operator"):
        seals.reconciliation(staffed.app.uow, staffed.auditor, "operator", "nobody")


def test_the_running_count_keeps_the_facilitys_figures_step_by_step(staffed: Staffed) -> None:
    # The dashboard's glance at the seals reads the figures kept as seals move; after every kind
    # of step (received, issued, returned, fitted, broken, void and lost, held or in stock) they
    # are the figures counted from the seals and their history, and a replay keeps the same.
    _busy(staffed)
    counted = seals.reconciliation(staffed.app.uow, staffed.auditor, "facility")
    running = seals.running_count(staffed.app.uow, staffed.auditor)
    assert running.figures == counted.figures
    assert running.figures["received"] == 110 and running.balanced
    assert [d.serial for d in running.discrepancies] == [d.serial for d in counted.discrepancies]
    with staffed.app.database.engine.connect() as conn:
        kept = {f: n for f, n in conn.execute(select(seal_tally.c.figure, seal_tally.c.count))}
    assert 0 not in kept.values()  # a figure of nought has no row, as a replay builds it
    assert replay_check(staffed.app.database, staffed.app.facility.id).differences == []
    # Changed behind the ledger's back, the running figures no longer agree with a replay.
    with staffed.app.database.engine.begin() as conn:
        conn.execute(update(seal_tally).where(seal_tally.c.figure == "held").values(count=1))
    report = replay_check(staffed.app.database, staffed.app.facility.id)
    assert any(d.table == "seal_tally" for d in report.differences)


def test_the_running_count_starts_from_the_seals_when_the_database_is_upgraded(
    staffed: Staffed,
) -> None:
    _busy(staffed)
    before = seals.running_count(staffed.app.uow, staffed.auditor).figures
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    with staffed.app.database.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0013")
    migrate.upgrade(staffed.app.database)
    assert seals.running_count(staffed.app.uow, staffed.auditor).figures == before
    assert replay_check(staffed.app.database, staffed.app.facility.id).differences == []


def test_a_recorded_reconciliation_is_in_the_ledger_and_replay_agrees(staffed: Staffed) -> None:
    _busy(staffed)
    with pytest.raises(PermissionDenied, match=r"seal\.reconcile"):
        seals.record_reconciliation(staffed.app.uow, staffed.auditor, "facility")
    stored = seals.record_reconciliation(staffed.app.uow, staffed.stores, "facility")
    assert stored.balanced is True and stored.open_discrepancies == 1
    entry = staffed.entries("seal.reconciled")[-1]
    assert entry.data["result"] == stored.result
    assert stored.result["discrepancies"][0]["serial"] == "SL-0004"
    listed, total = seals.reconciliations(staffed.app.uow, staffed.auditor, 0, 10)
    assert total == 1 and listed[0].id == stored.id

    report = replay_check(staffed.app.database, staffed.app.facility.id)
    assert report.differences == []
    assert report.rows > 0


def test_a_seal_changed_behind_the_ledger_unbalances_the_sums_and_replay_names_it(
    staffed: Staffed,
) -> None:
    _busy(staffed)
    with staffed.app.database.engine.begin() as conn:
        conn.execute(update(seal).where(seal.c.serial == "SL-0005").values(status="fitted"))
    result = seals.reconciliation(staffed.app.uow, staffed.auditor, "facility")
    assert not result.balanced
    unbalanced = {e.name for e in result.equations if not e.balanced}
    assert {"issued", "fitted"} <= unbalanced
    report = replay_check(staffed.app.database, staffed.app.facility.id)
    assert any(d.table == "seal" and "SL-0005" in str(d) for d in report.differences)


def test_reports_fitted_per_day_and_seals_held_unused(staffed: Staffed) -> None:
    _busy(staffed)
    report = seals.fitted_report(staffed.app.uow, staffed.auditor)
    assert report.total == 2
    assert sorted((r.operator_id, r.fitted) for r in report.rows) == [
        ("ben", 1),
        ("sup", 1),
    ]
    unused = seals.unused_report(staffed.app.uow, staffed.auditor, days=0)
    held = {r.serial: r.holder for r in unused.seals}
    assert len(held) == 48 + 8  # ben 48, sup 8 (0051 fitted, 0052 returned)
    assert held["SL-0101"] == "ben" and "SL-0001" not in held
    assert seals.unused_report(staffed.app.uow, staffed.auditor, days=7).seals == []
    with pytest.raises(InvalidInput, match="since"):
        seals.fitted_report(staffed.app.uow, staffed.auditor, report.until, report.since)


def test_labels_for_a_batch_and_for_a_device_bag(staffed: Staffed) -> None:
    staffed.manifest("C-1", [D3])
    job_id = _verified(staffed, D3)
    job_steps.seal(staffed.app.uow, staffed.ben, job_id, "SL-0020")
    batch = _receive(staffed, first="SL-0201", last="SL-0205")
    app = staffed.app
    found = documents.seal_labels(
        app.uow, staffed.stores, app.documents, app.facility.name, batch_id=batch.id
    )
    content, name = found.content, found.filename
    pages = PdfReader(io.BytesIO(content)).pages
    assert len(pages) == 5 and name.endswith(".pdf")
    assert "SL-0203" in pages[2].extract_text()
    found = documents.device_label(app.uow, staffed.ben, job_id, app.documents, app.facility.name)
    content = found.content
    text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert D3 in text and "SL-0020" in text and job_id in text
    with pytest.raises(NotFound, match="not in the seal register"):
        documents.seal_labels(
            app.uow,
            staffed.stores,
            app.documents,
            app.facility.name,
            serials=["SL-0001", "NO-0001"],
        )
