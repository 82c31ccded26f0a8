"""What is read about intake: consignments, the devices still expected, intake exceptions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers
from tests.unit.services.workflow_seed import (
    STORES,
    device_id,
    import_consignment,
    may_triage,
)
from triage.errors import InvalidInput, NotFound, PermissionDenied
from triage.services import intake
from triage.services.views import consignments

READER = callers.auditor()


def test_consignments_come_oldest_first_a_page_at_a_time(factory: FakeUnitOfWorkFactory) -> None:
    made = []
    for n in range(1, 4):
        made.append(import_consignment(factory, n, reference=f"CN-{n}"))
        factory.clock.advance(timedelta(minutes=1))

    page, total = consignments.consignments(factory, READER, 1, 5)

    assert total == 3
    assert [c.id for c in page] == made[1:]
    assert [(c.expected, c.arrived) for c in page] == [(1, 0), (1, 0)]
    assert consignments.consignments(factory, READER, 3, 5) == ([], 3)


def test_a_consignments_detail_lists_what_has_not_arrived(factory: FakeUnitOfWorkFactory) -> None:
    may_triage(factory)
    consignment_id = import_consignment(factory, 3, 1, 2)
    intake.scan_device(factory, STORES, device_id(1))

    detail = consignments.consignment_detail(factory, READER, consignment_id)

    assert detail.consignment.id == consignment_id
    assert detail.not_arrived == [device_id(2), device_id(3)]
    with pytest.raises(NotFound):
        consignments.consignment_detail(factory, READER, "no-such-consignment")


def test_exceptions_are_listed_by_status(factory: FakeUnitOfWorkFactory) -> None:
    may_triage(factory)
    raised = []
    for n in (7, 8, 9):
        raised.append(intake.scan_device(factory, STORES, device_id(n)).exception_id)
        factory.clock.advance(timedelta(minutes=1))
    intake.resolve_exception(factory, callers.supervisor(), raised[1] or "", "returned to owner")

    every, total = consignments.exceptions(factory, READER, None, 0, 10)
    opened, open_total = consignments.exceptions(factory, READER, "open", 0, 1)

    assert total == 3 and [e.id for e in every] == raised
    assert open_total == 2 and [e.id for e in opened] == [raised[0]]
    assert [e.id for e in consignments.exceptions(factory, READER, "resolved", 0, 9)[0]] == [
        raised[1]
    ]


def test_the_exceptions_queue_shows_the_open_oldest_first_and_the_latest_resolved(
    factory: FakeUnitOfWorkFactory,
) -> None:
    may_triage(factory)
    raised = []
    for n in (4, 5, 6, 7):
        raised.append(intake.scan_device(factory, STORES, device_id(n)).exception_id or "")
        factory.clock.advance(timedelta(minutes=1))
    for exception_id in (raised[2], raised[0], raised[3]):
        intake.resolve_exception(factory, callers.supervisor(), exception_id, "returned to owner")
        factory.clock.advance(timedelta(minutes=1))

    queue = consignments.exceptions_queue(factory, READER, limit=2)

    assert ([e.id for e in queue.open], queue.open_total) == ([raised[1]], 1)
    # Raised last, shown first: the two most recently raised of the three resolved.
    assert [e.id for e in queue.resolved] == [raised[3], raised[2]]
    assert queue.resolved_total == 3
    assert queue.resolved[0].resolution == "returned to owner"


def test_an_exception_status_is_open_or_resolved(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(InvalidInput, match=r"^status:"):
        consignments.exceptions(factory, READER, "pending", 0, 10)


@pytest.mark.parametrize(
    "read",
    [
        lambda f: consignments.consignments(f, callers.nobody(), 0, 10),
        lambda f: consignments.consignment_detail(f, callers.nobody(), "any"),
        lambda f: consignments.exceptions(f, callers.nobody(), None, 0, 10),
        lambda f: consignments.exceptions_queue(f, callers.nobody()),
    ],
    ids=["consignments", "consignment_detail", "exceptions", "exceptions_queue"],
)
def test_intake_is_read_with_the_triage_read_permission(
    factory: FakeUnitOfWorkFactory, read: Callable[[FakeUnitOfWorkFactory], object]
) -> None:
    with pytest.raises(PermissionDenied):
        read(factory)
