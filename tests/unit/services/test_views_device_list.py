"""The device list: search by id, consignment, state, asset owner and local day received; keyset
pages that neither skip nor repeat a device, ties included; the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.fakes import FakeClock, FakeUnitOfWorkFactory
from tests.unit.services import callers
from tests.unit.services.workflow_seed import (
    Bench,
    at_the_bench,
    device_id,
    may_triage,
    received,
    verified,
)
from triage.domain.device_list import Position
from triage.errors import InvalidInput, PermissionDenied
from triage.services.views import device_list
from triage.services.views.device_list import Filters

READER = callers.bench_operator()


@pytest.fixture(autouse=True)
def bench(factory: FakeUnitOfWorkFactory) -> Bench:
    """The facility may triage, with a bench and its tool."""
    return at_the_bench(factory)


def _ids(page: device_list.DevicePage) -> list[str]:
    return [d.device_id for d in page.items]


def _every_page(factory: FakeUnitOfWorkFactory, filters: Filters, limit: int) -> list[str]:
    seen: list[str] = []
    cursor = ""
    while True:
        page = device_list.search(factory, READER, filters, cursor, limit)
        seen += _ids(page)
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def test_pages_by_cursor_neither_skip_nor_repeat_devices_received_at_one_instant(
    factory: FakeUnitOfWorkFactory,
) -> None:
    # The fake clock stands still: all seven are received at the same moment (a tie in the
    # sort key), then three more a minute later.
    for n in range(1, 8):
        received(factory, n, reference=f"CN-{n}")
    factory.clock.advance(timedelta(minutes=1))
    for n in range(8, 11):
        received(factory, n, reference=f"CN-{n}")

    first = device_list.search(factory, READER, Filters(), limit=3)
    seen = _every_page(factory, Filters(), 3)

    assert sorted(seen) == sorted(device_id(n) for n in range(1, 11))
    assert len(seen) == len(set(seen)) == 10
    # Newest first: the three received last open the list.
    assert set(_ids(first)) == {device_id(n) for n in (8, 9, 10)}
    assert first.next_cursor is not None


def test_the_last_page_has_no_next_cursor(factory: FakeUnitOfWorkFactory) -> None:
    received(factory, 1)
    received(factory, 2, reference="CN-2")

    page = device_list.search(factory, READER, Filters(), limit=2)

    assert len(page.items) == 2
    assert page.next_cursor is None


def test_the_two_devices_left_verified_are_found_by_state(
    factory: FakeUnitOfWorkFactory, bench: Bench
) -> None:
    verified(factory, bench, 1)
    verified(factory, bench, 2)
    received(factory, 3, reference="CN-3")

    found = device_list.search(factory, READER, Filters(state="verified"))

    assert sorted(_ids(found)) == [device_id(1), device_id(2)]
    assert {d.state.value for d in found.items} == {"verified"}
    # The state as the dashboard writes it ("awaiting review") is understood too.
    assert device_list.search(factory, READER, Filters(state="Awaiting Review")).items == []


def test_search_by_id_whole_or_its_start_in_any_spelling(factory: FakeUnitOfWorkFactory) -> None:
    received(factory, 0x11, reference="CN-1")
    received(factory, 0x12, reference="CN-2")
    received(factory, 0x21, reference="CN-3")

    whole = device_id(0x12).replace("-", "").lower()
    start = device_id(0x10)[: len("BC-33-AC-FF-FE-00-00-1")].replace("-", ":")

    assert _ids(device_list.search(factory, READER, Filters(device_id=whole))) == [device_id(0x12)]
    assert sorted(_ids(device_list.search(factory, READER, Filters(device_id=start)))) == [
        device_id(0x11),
        device_id(0x12),
    ]


def test_the_start_of_an_id_lists_by_id_a_page_at_a_time(factory: FakeUnitOfWorkFactory) -> None:
    for n in (0x13, 0x11, 0x12, 0x21):  # received in this order
        received(factory, n, reference=f"CN-{n}")
        factory.clock.advance(timedelta(minutes=1))

    start = Filters(device_id=device_id(0x10)[: len("BC-33-AC-FF-FE-00-00")])

    assert _every_page(factory, start, 1) == [device_id(n) for n in (0x11, 0x12, 0x13, 0x21)]


def test_search_by_consignment_and_asset_owner(factory: FakeUnitOfWorkFactory) -> None:
    received(factory, 1, reference="CN-A")
    received(factory, 2, reference="CN-B")

    by_consignment = device_list.search(factory, READER, Filters(consignment="CN-B"))
    by_owner = device_list.search(factory, READER, Filters(asset_owner="North Energy"))
    nobody_s = device_list.search(factory, READER, Filters(asset_owner="South Gas"))

    assert _ids(by_consignment) == [device_id(2)]
    assert by_consignment.items[0].consignment_reference == "CN-B"
    assert sorted(_ids(by_owner)) == [device_id(1), device_id(2)]
    assert nobody_s.items == []


def test_dates_are_the_facility_s_local_days() -> None:
    # 23:30 UTC on 1 July is 00:30 BST on 2 July in Europe/London, the default zone.
    factory = FakeUnitOfWorkFactory(clock=FakeClock(datetime(2026, 7, 1, 23, 30, tzinfo=UTC)))
    may_triage(factory)
    received(factory, 1)

    on_the_2nd = Filters(received_from="2026-07-02", received_to="2026-07-02")
    on_the_1st = Filters(received_from="2026-07-01", received_to="2026-07-01")

    assert _ids(device_list.search(factory, READER, on_the_2nd)) == [device_id(1)]
    assert device_list.search(factory, READER, on_the_1st).items == []


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        (Filters(state="lost"), "state"),
        (Filters(device_id="BC-33-XY"), "device_id"),
        (Filters(device_id="BC33ACFFFE0000011"), "device_id"),
        (Filters(received_from="6 Dec 2026"), "received_from"),
        (Filters(received_from="20261206"), "received_from"),
        (Filters(received_from="2026-12-06", received_to="2026-12-05"), "received_to"),
        (Filters(asset_owner="x" * 101), "asset_owner"),
        (Filters(consignment="CN\x00-1"), "consignment"),
    ],
)
def test_a_bad_filter_is_refused_naming_its_field(
    factory: FakeUnitOfWorkFactory, filters: Filters, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        device_list.search(factory, READER, filters)
    assert refused.value.field == field


@pytest.mark.parametrize("limit", [0, -1, device_list.MAX_LIMIT + 1])
def test_a_page_size_out_of_range_is_refused(factory: FakeUnitOfWorkFactory, limit: int) -> None:
    with pytest.raises(InvalidInput, match="limit"):
        device_list.search(factory, READER, Filters(), limit=limit)


@given(st.text(max_size=300))
def test_a_cursor_this_list_did_not_give_out_is_refused_as_such(cursor: str) -> None:
    refused: InvalidInput | None = None
    try:
        position = device_list.decode_cursor(cursor)
    except InvalidInput as exc:
        refused = exc
    if refused is not None:  # never another exception, and the cursor field is named
        assert refused.field == "cursor"
    else:  # a well-formed one by chance: it names a position, and names it again when encoded
        assert device_list.decode_cursor(device_list.encode_cursor(position)) == position


def test_a_cursor_round_trips_and_a_tampered_one_is_refused() -> None:
    at = datetime(2026, 12, 6, 10, 15, 30, 123456, tzinfo=UTC)
    cursor = device_list.encode_cursor(Position(at, "job-1", "BC-33-AC-FF-FE-00-00-01"))

    assert device_list.decode_cursor(cursor) == Position(at, "job-1", "BC-33-AC-FF-FE-00-00-01")
    for bad in (cursor[:-3], "not-a-cursor", "W10", "WyJ4IiwxXQ"):
        with pytest.raises(InvalidInput, match="cursor"):
            device_list.decode_cursor(bad)


def test_the_list_needs_triage_read(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(PermissionDenied):
        device_list.search(factory, callers.nobody(), Filters())
    with pytest.raises(PermissionDenied):
        device_list.export_csv(factory, callers.nobody(), Filters())


def test_the_csv_has_every_match_and_no_cell_a_spreadsheet_would_run(
    factory: FakeUnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(device_list, "EXPORT_BATCH", 2)  # three batches, the last short
    received(factory, 1, reference='=HYPERLINK("http://x")')
    for n in range(2, 6):
        received(factory, n, reference=f"CN-{n}")

    text = "".join(device_list.export_csv(factory, READER, Filters()))
    rows = list(csv.DictReader(io.StringIO(text)))

    assert sorted(r["device_id"] for r in rows) == sorted(device_id(n) for n in range(1, 6))
    formula = next(r for r in rows if r["device_id"] == device_id(1))
    assert formula["consignment"] == '\'=HYPERLINK("http://x")'
    assert {r["state"] for r in rows} == {"received"}
    assert rows[0]["received_at"].endswith("Z")
