"""Pages show times on the facility's clock, with the zone (Settings.time_zone; stored in UTC)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from tests.integration.conftest import Staffed, move_clock
from tests.integration.test_bench_assignment import Site
from triage.entrypoints.sessions import CSRF_FIELD

DEVICE = "00-11-22-33-44-55-66-01"


@pytest.mark.parametrize(
    ("zone", "at", "shown"),
    [
        ("Europe/London", datetime(2026, 7, 1, 9, 15, 42, tzinfo=UTC), "2026-07-01 10:15:42 BST"),
        ("Europe/London", datetime(2026, 12, 7, 9, 15, 42, tzinfo=UTC), "2026-12-07 09:15:42 GMT"),
        ("Asia/Tokyo", datetime(2026, 12, 7, 22, 5, 1, tzinfo=UTC), "2026-12-08 07:05:01 JST"),
    ],
)
def test_a_device_s_history_shows_local_time_with_the_zone(
    staffed: Staffed, monkeypatch: pytest.MonkeyPatch, zone: str, at: datetime, shown: str
) -> None:
    app = staffed.app
    monkeypatch.setattr(app, "settings", dataclasses.replace(app.settings, time_zone=zone))
    now = app.uow.clock
    move_clock(monkeypatch, app, at)
    staffed.manifest("C-1", [DEVICE])
    staffed.receive(DEVICE)
    monkeypatch.setattr(app.uow, "clock", now)  # the auditor signs in today
    site = Site(staffed)
    site.enrol("audrey")
    with site.client:
        auditor = site.session("audrey")
        page = site.client.post(
            "/auditor/device",
            data={CSRF_FIELD: auditor.csrf, "device_id": DEVICE},
            headers={"Cookie": f"triage_session={auditor.cookie}"},
            follow_redirects=False,
        )
    assert page.status_code == 200, page.headers
    assert f"device.received at {shown} by ben" in page.text
