"""The stores' page (services/views/seals.py) against the fake unit of work."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers
from tests.unit.services.seals_seed import STORES, issue, receive, staff
from triage.errors import PermissionDenied
from triage.services import seals
from triage.services.views import seals as seal_views


def test_the_stores_page_shows_the_batches_and_the_facility_count(
    factory: FakeUnitOfWorkFactory,
) -> None:
    holder = staff(factory, "op")
    first = receive(factory, "SL-000100", "SL-000104")
    factory.clock.advance(timedelta(hours=1))
    second = receive(factory, "SL-000200", "SL-000201", store="STORE-B")
    issue(factory, "op", "SL-000100")
    seals.lose(factory, holder, "SL-000100", "not in my tray at the end of the day")

    page = seal_views.stores_overview(factory, callers.auditor())

    assert page.batches == [first, second]
    count = page.reconciliation
    assert (count.scope.kind.value, count.figures["received"], count.figures["lost_now"]) == (
        "facility",
        7,
        1,
    )
    assert count.balanced and [d.serial for d in count.discrepancies] == ["SL-000100"]
    assert page.reconciliation == seals.reconciliation(factory, STORES, "facility")


def test_the_stores_page_lists_at_most_its_share_of_batches(
    factory: FakeUnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(seal_views, "BATCHES_SHOWN", 2)
    made = []
    for n in range(1, 4):
        made.append(receive(factory, f"SL-00{n}00", f"SL-00{n}00"))
        factory.clock.advance(timedelta(minutes=1))

    page = seal_views.stores_overview(factory, STORES)

    assert page.batches == made[:2]
    assert page.reconciliation.figures["received"] == 3


def test_the_stores_page_needs_the_seal_read_permission(factory: FakeUnitOfWorkFactory) -> None:
    receive(factory)
    with pytest.raises(PermissionDenied):
        seal_views.stores_overview(factory, callers.nobody())


def test_the_discrepancies_page_shows_the_open_ones_and_the_latest_resolved_first(
    factory: FakeUnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = staff(factory, "op")
    receive(factory, "SL-000100", "SL-000104")
    issue(factory, "op", "SL-000100", "SL-000101", "SL-000102")
    for serial in ("SL-000100", "SL-000101", "SL-000102"):
        factory.clock.advance(timedelta(minutes=1))
        seals.lose(factory, holder, serial, "not in my tray at the end of the day")
    open_ones, _ = seals.discrepancies(factory, STORES, "open", 0, 10)
    manager = callers.security_manager()
    for found in open_ones[:2]:
        seals.resolve_discrepancy(factory, manager, found.id, "written off after a search")
    monkeypatch.setattr(seal_views, "DISCREPANCIES_SHOWN", 1)

    board = seal_views.discrepancy_board(factory, callers.bench_operator())

    assert [d.serial for d in board.open] == ["SL-000102"] and board.open_total == 1
    assert [d.serial for d in board.resolved] == ["SL-000101"]  # the latest of the two
    assert board.resolved_total == 2
    with pytest.raises(PermissionDenied):
        seal_views.discrepancy_board(factory, callers.nobody())
