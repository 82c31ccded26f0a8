"""The device list through the API and the web page, on both databases: filters, keyset pages
over devices received at one instant, the CSV export, and refusals naming the field."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.conftest import CLEAN, Staffed, move_clock
from tests.integration.test_bench_assignment import Session, Site
from triage.domain.consignment import ManifestRow
from triage.services import asset_owners, intake, job_steps
from triage.services.views import dashboard

AT = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # 00:30 BST on 2 July at the facility


def _device(n: int) -> str:
    return f"00-11-22-33-44-55-{n // 256:02X}-{n % 256:02X}"


def _received(staffed: Staffed, reference: str, owner: str, numbers: range) -> None:
    """A consignment of ``owner`` expecting devices ``numbers``, all scanned in."""
    fields = {
        "device_type": "ESME",
        "manufacturer": "Acme",
        "model": "M1",
        "firmware_version": "1.0",
        "inventory_status": "Decommissioned",
        "asset_owner": owner,
    }
    rows = [ManifestRow(i + 2, {**fields, "device_id": _device(n)}) for i, n in enumerate(numbers)]
    with staffed.app.uow(write=False) as uow:
        registered = uow.asset_owners.get(owner) is not None
    if not registered:
        asset_owners.register(staffed.app.uow, staffed.admin, owner, owner)
    intake.import_manifest(staffed.app.uow, staffed.sup, reference, owner, rows)
    for n in numbers:
        assert intake.scan_device(staffed.app.uow, staffed.ben, _device(n)).job is not None


@pytest.fixture
def reader(staffed: Staffed, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    """Devices 1-7 received at one instant (CN-1, MAP-1), 8-9 a day later (=CN-2, OTHER-CO);
    a bench operator signed in (today, on the real clock)."""
    today = staffed.app.uow.clock
    clock = move_clock(monkeypatch, staffed.app, AT)
    _received(staffed, "CN-1", "MAP-1", range(1, 8))
    clock.advance(timedelta(days=1))
    _received(staffed, "=CN-2", "OTHER-CO", range(8, 10))
    monkeypatch.setattr(staffed.app.uow, "clock", today)
    site = Site(staffed)
    site.enrol("ben")
    with site.client:
        yield site.session("ben")


def _ids(items: list[dict[str, str]]) -> list[str]:
    return [item["device_id"] for item in items]


def test_pages_by_cursor_cover_every_device_once_newest_first(reader: Session) -> None:
    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 2}
    pages = 0
    while True:
        page = reader.call("GET", "/devices", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        seen += _ids(body["items"])
        pages += 1
        if body["next_cursor"] is None:
            break
        params = {"limit": 2, "cursor": body["next_cursor"]}

    assert pages == 5
    assert sorted(seen[:2]) == [_device(8), _device(9)]
    assert sorted(seen) == sorted(_device(n) for n in range(1, 10))
    # The start of an id: by device id, a page at a time.
    by_id: list[str] = []
    params = {"limit": 2, "device_id": "00-11-22-33-44-55-00"}
    while True:
        body = reader.call("GET", "/devices", params=params).json()
        by_id += _ids(body["items"])
        if body["next_cursor"] is None:
            break
        params = {**params, "cursor": body["next_cursor"]}
    assert by_id == [_device(n) for n in range(1, 10)]


# Each search, and the devices it finds.
SEARCHES: list[tuple[dict[str, str], list[int]]] = [
    ({"state": "received", "consignment": "=CN-2"}, [8, 9]),
    ({"asset_owner": "MAP-1", "device_id": "001122334455000"}, [1, 2, 3, 4, 5, 6, 7]),
    ({"device_id": "00:11:22:33:44:55:00:03"}, [3]),
    ({"received_from": "2026-07-02", "received_to": "2026-07-02"}, [1, 2, 3, 4, 5, 6, 7]),
    ({"received_from": "2026-07-03"}, [8, 9]),
    ({"received_to": "2026-07-01"}, []),
    ({"state": "verified"}, []),
]


def test_each_filter_finds_what_it_names(reader: Session) -> None:
    for params, expected in SEARCHES:
        page = reader.call("GET", "/devices", params=params)

        assert page.status_code == 200, page.text
        assert sorted(_ids(page.json()["items"])) == [_device(n) for n in expected], params


def test_a_bad_cursor_or_state_is_refused_naming_it(reader: Session) -> None:
    cursor = reader.call("GET", "/devices", params={"cursor": "bm90IGEgY3Vyc29y"})
    state = reader.call("GET", "/devices", params={"state": "lost"})

    assert cursor.status_code == state.status_code == 422
    assert "cursor" in cursor.json()["detail"]
    assert "state: 'lost' is not a state" in state.json()["detail"]


def test_the_csv_export_has_every_match_and_no_formula(reader: Session) -> None:
    answer = reader.call("GET", "/devices.csv", params={"asset_owner": "OTHER-CO"})

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert sorted(r["device_id"] for r in rows) == [_device(8), _device(9)]
    assert {r["consignment"] for r in rows} == {"'=CN-2"}


def test_the_page_finds_devices_by_state_and_keeps_a_bad_date_beside_its_field(
    reader: Session,
) -> None:
    cookie = {"Cookie": f"triage_session={reader.cookie}"}
    found = reader.client.get("/devices", params={"consignment": "=CN-2"}, headers=cookie)
    refused = reader.client.get(
        "/devices", params={"received_from": "2 July", "asset_owner": "MAP-1"}, headers=cookie
    )

    assert found.status_code == 200
    assert f'href="/devices/{_device(8)}"' in found.text
    assert _device(1) not in found.text
    assert "/api/v1/devices.csv?consignment=%3DCN-2" in found.text
    assert refused.status_code == 422
    assert 'id="received_from-error"' in refused.text
    assert 'value="2 July"' in refused.text and 'value="MAP-1"' in refused.text


def test_the_dashboard_counts_the_jobs_in_each_state_as_the_list_finds_them(
    staffed: Staffed, reader: Session
) -> None:
    job = intake.scan_device(staffed.app.uow, staffed.ben, _device(3)).job
    assert job is not None
    staffed.record_log(job.id)
    job_steps.inspect(staffed.app.uow, staffed.ben, job.id, CLEAN)
    counts = dashboard.dashboard(staffed.app.uow, staffed.auditor).counts
    assert counts == {"received": 8, "eligible": 1}
    for state, expected in (("received", 8), ("eligible", 1)):
        listed = reader.call("GET", "/devices", params={"state": state}).json()["items"]
        assert len(listed) == expected, state
