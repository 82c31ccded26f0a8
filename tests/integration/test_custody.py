"""Device custody and random seal issue on both databases: moves as recorded scans, the device
stocktake that finds a device moved without a scan, idle devices, the seal drawn at random, the
upgrade that places the devices already received, and replay agreeing after all of it.

The ``staffed`` facility's bench operator ben and supervisor sup are signed in at bench B1;
ben holds seals SL-0001..SL-0050.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient

from tests.integration.conftest import Staffed, move_clock
from tests.integration.test_threshold_pages import _csrf, _signed_in
from triage.adapters import migrate
from triage.adapters.replay import replay_check
from triage.domain.caller import Caller
from triage.domain.lifecycle import JobState
from triage.domain.roles import Role
from triage.entrypoints.asgi import create_app
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.services import custody, intake, job_steps, seal_draw

D1 = "BC-33-AC-FF-FE-FA-57-01"
D2 = "BC-33-AC-FF-FE-FA-57-02"
D3 = "BC-33-AC-FF-FE-FA-57-03"


def _agrees(staffed: Staffed) -> None:
    assert replay_check(staffed.app.database, staffed.app.facility.id).differences == []


def _in_stores(staffed: Staffed, *devices: str) -> None:
    """The devices expected, and received by stores (no bench): at the receiving store."""
    staffed.manifest("CN-CUSTODY", list(devices))
    for device_id in devices:
        scanned = intake.scan_device(staffed.app.uow, staffed.stores, device_id)
        assert scanned.created, scanned.message


def test_a_device_stocktake_finds_a_device_moved_without_a_scan(staffed: Staffed) -> None:
    uow = staffed.app.uow
    _in_stores(staffed, D1, D2, D3)
    custody.define_location(uow, staffed.admin, "SHELF-A1", "Shelf A1", "stores")
    custody.move(uow, staffed.stores, D1, "SHELF-A1", "put away")
    custody.move(uow, staffed.stores, D2, "SHELF-A1")
    # D2 is carried to the quarantine cage and nobody scans it there.
    shelf = custody.stocktake(uow, staffed.stores, "SHELF-A1", [D1])
    cage = custody.stocktake(uow, staffed.stores, "QUARANTINE", [D2])
    assert (shelf.expected, shelf.matched, shelf.missing) == (2, 1, (D2,))
    assert [(u.device_id, u.recorded_at) for u in cage.unexpected] == [(D2, "SHELF-A1")]
    with uow(write=False) as read:
        raised = [read.exceptions.get(i) for i in (*shelf.exception_ids, *cage.exception_ids)]
    assert [(e.kind, e.device_id, e.status) for e in raised if e is not None] == [
        ("device_missing", D2, "open"),
        ("device_unexpected", D2, "open"),
    ]
    assert [s.id for s in custody.stocktakes(uow, staffed.auditor)[0]] == [cage.id, shelf.id]
    assert custody.device_stocktake(uow, staffed.auditor, cage.id).unexpected == cage.unexpected
    _agrees(staffed)


def test_devices_by_location_and_the_idle_ones(
    staffed: Staffed, monkeypatch: pytest.MonkeyPatch
) -> None:
    uow = staffed.app.uow
    start = datetime.now(UTC)
    _in_stores(staffed, D1, D2)
    clock = move_clock(monkeypatch, staffed.app, start + timedelta(days=2))
    custody.move(uow, staffed.stores, D2, "QUARANTINE")
    clock.advance(timedelta(days=2))
    shown = custody.overview(uow, staffed.sup)
    assert [(c.location, c.devices, c.idle) for c in shown.counts] == [
        ("QUARANTINE", 1, 0),
        ("STORES", 1, 1),
    ]
    assert [d.device_id for d in shown.idle] == [D1]
    assert [d.device_id for d in shown.devices] == [D1, D2]
    at_cage = custody.overview(uow, staffed.sup, "QUARANTINE")
    assert (at_cage.location, [d.device_id for d in at_cage.devices]) == ("QUARANTINE", [D2])
    custody.change_settings(uow, staffed.admin, idle_device_days=5)
    assert custody.idle_devices(uow, staffed.sup)[1:] == (0, 5)
    other = Caller.operator("o", frozenset({Role.ASSET_OWNER}), asset_owner="MAP-2")
    assert custody.overview(uow, other).counts == []
    with pytest.raises(NotFound):
        custody.where(uow, other, D1)
    _agrees(staffed)


def test_a_bench_scan_puts_the_device_at_the_bench(staffed: Staffed) -> None:
    uow = staffed.app.uow
    _in_stores(staffed, D1)
    staffed.manifest("CN-BENCH", [D2])
    intake.scan_device(uow, staffed.ben, D1)  # received in stores, now at the bench
    intake.scan_device(uow, staffed.ben, D2)  # received at the bench
    assert custody.where(uow, staffed.sup, D1).location == "B1"
    assert custody.where(uow, staffed.sup, D2).location == "B1"
    [defined] = [e for e in staffed.entries("location.defined") if e.subject.id == "B1"]
    assert defined.data == {"name": "Bench B1", "kind": "bench"}
    [moved] = staffed.entries("device.moved")
    assert (moved.subject.id, moved.data["from"], moved.data["to"]) == (D1, "STORES", "B1")
    with pytest.raises(Conflict, match="already at B1"):
        custody.move(uow, staffed.ben, D1, "B1")
    _agrees(staffed)


def test_the_drawn_seal_is_the_operator_s_and_the_only_one_fitted(staffed: Staffed) -> None:
    uow = staffed.app.uow
    custody.change_settings(uow, staffed.stores, random_seal_issue=True)
    staffed.manifest("CN-SEAL", [D1])
    job = staffed.receive(D1)
    assert staffed.reset(job.id).state is JobState.VERIFIED
    drawn = seal_draw.draw(uow, staffed.ben, job.id)
    held = {f"SL-{n:04d}" for n in range(1, 51)}
    assert drawn.serial in held
    assert seal_draw.draw(uow, staffed.ben, job.id) == drawn
    other = sorted(held - {drawn.serial})[0]
    with pytest.raises(InvalidInput, match=drawn.serial):
        job_steps.seal(uow, staffed.ben, job.id, other)
    assert job_steps.seal(uow, staffed.ben, job.id, drawn.serial).seal_serial == drawn.serial
    _agrees(staffed)


def test_the_upgrade_places_every_device_already_received(staffed: Staffed) -> None:
    uow = staffed.app.uow
    _in_stores(staffed, D1, D2)
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    with staffed.app.database.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0017")
    migrate.upgrade(staffed.app.database)
    at = custody.where(uow, staffed.sup, D1)
    assert at.location == "STORES"
    assert {p.code for p in custody.locations(uow, staffed.sup)} == {
        "STORES",
        "QUARANTINE",
        "DISPATCH",
    }
    _agrees(staffed)


def test_the_supervisor_at_the_bench_counts_but_an_auditor_may_not_move(
    staffed: Staffed,
) -> None:
    uow = staffed.app.uow
    _in_stores(staffed, D1)
    with pytest.raises(PermissionDenied, match=r"device\.move"):
        custody.move(uow, staffed.auditor, D1, "QUARANTINE")
    taken = custody.stocktake(uow, staffed.sup, "STORES", [D1])
    assert taken.agrees and taken.exception_ids == ()


def test_the_bench_page_draws_a_seal_and_refuses_another(staffed: Staffed) -> None:
    custody.change_settings(staffed.app.uow, staffed.stores, random_seal_issue=True)
    staffed.manifest("CN-PAGE", [D1])
    job = staffed.receive(D1)
    staffed.reset(job.id)
    path = f"/bench/jobs/{job.id}"
    with TestClient(create_app(staffed.app)) as client:
        bench = _signed_in(client, staffed, "ben", "B1")
        page = bench.get(path)
        assert 'id="draw-seal"' in page.text and 'name="serial"' not in page.text
        drawn = bench.post(f"{path}/seal-draw", data={"csrf_token": _csrf(page)})
        serial = re.search(r'id="drawn-seal">[^<]*<strong>([^<]+)</strong>', drawn.text)
        assert serial is not None, drawn.text
        other = "SL-0001" if serial.group(1) != "SL-0001" else "SL-0002"
        refused = bench.post(f"{path}/seal", data={"serial": other, "csrf_token": _csrf(page)})
        assert refused.status_code == 422
        assert f"the seal drawn for this job is {serial.group(1)}" in refused.text
        assert 'aria-invalid="true"' in refused.text
