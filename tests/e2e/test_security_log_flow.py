"""The device's own security log decides, end to end: the real server and a real `triage agent`
process read it from a simulated device under a signed read order, the decision uses its times,
records its digest, and the reset that follows keeps it.

A battery alert 5 days before a battery-cover alert does not explain it (supervisor review); 2
hours before, it does (eligible). The decision's reasons carry the device's own times, and the
digest in the decision entry is the SHA-256 of the very bytes the tool uploaded.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Facility, Triage, running_facility
from triage import gbcs
from triage.adapters.devices import scenarios
from triage.adapters.devices.simulated import SECURITY_LOG_ITEM, SimulatedConnector
from triage.domain.work_order import WorkOrder, WorkOrderRefused

FAR = "BC-33-AC-FF-FE-FA-17-01"  # low battery 5 days before the battery cover alert
NEAR = "BC-33-AC-FF-FE-FA-17-02"  # low battery 2 hours before it
AT = scenarios.DEFAULT_AT  # the battery cover alert, by the device's clock: 2026-11-20T08:15:00Z
CLEAN = {"metrology_seal_intact": True, "cpa_boundary_intact": True}


@pytest.fixture
def facility(triage: Triage, tmp_path: Path) -> Iterator[Facility]:
    devices = [
        scenarios.failing_battery(
            FAR, gap=timedelta(days=5), tamper_code=scenarios.BATTERY_COVER_REMOVED
        ),
        scenarios.failing_battery(
            NEAR, gap=timedelta(hours=2), tamper_code=scenarios.BATTERY_COVER_REMOVED
        ),
    ]
    with running_facility(triage, tmp_path, devices) as running:
        yield running


def _manifest(device_ids: list[str]) -> str:
    return (
        "device_id,device_type,manufacturer,model,firmware_version,inventory_status,asset_owner\n"
        + "".join(f"{d},ESME,Acme,X1,1.0,Decommissioned,MAP-1\n" for d in device_ids)
    )


def _read_log(f: Facility, job_id: str) -> tuple[str, dict[str, Any]]:
    """Ask the bench tool to read the device's security log; the signed read order and the log
    the server recorded once the agent has uploaded it."""
    ordered = f.call(
        "ben", "POST", f"/jobs/{job_id}/security-log/read-orders", json={"tool_id": "BENCH-1"}
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = f.client.get(
            f"/api/v1/jobs/{job_id}/security-log",
            headers={"Authorization": f"Bearer {f.tokens['ben']}"},
        )
        if response.status_code == 200 and response.json():
            return str(ordered["work_order"]), response.json()
        assert response.status_code in (200, 404), response.text
        time.sleep(0.1)
    raise AssertionError(f"the agent did not upload the security log of job {job_id}")


def _raw(f: Facility, job_id: str, sha256: str) -> bytes:
    return f.raw("sup", "GET", f"/jobs/{job_id}/security-log/{sha256}/raw").content


def _entry(f: Facility, device_id: str, entry_type: str) -> dict[str, Any]:
    """The data of the device's one ledger entry of this type."""
    story = f.call("sup", "GET", f"/devices/{device_id}/history")
    [found] = [i["entry"] for i in story["items"] if i["entry"]["type"] == entry_type]
    return dict(found["data"])


def test_the_devices_own_log_read_by_the_agent_decides_and_the_reset_keeps_it(
    facility: Facility, tmp_path: Path
) -> None:
    f = facility
    imported = f.call(
        "sup",
        "POST",
        "/consignments",
        params={"reference": "C-17", "asset_owner": "MAP-1"},
        content=_manifest([FAR, NEAR]),
        headers={"Content-Type": "text/csv"},
    )
    assert imported["imported"] == 2
    jobs = {
        device: f.call("ben", "POST", "/devices/scan", json={"device_id": device})["job"]["id"]
        for device in (FAR, NEAR)
    }

    decisions = {}
    for device, job_id in jobs.items():
        signed_order, recorded = _read_log(f, job_id)
        # The raw bytes the tool uploaded are kept by their digest, and are the device's own.
        raw = _raw(f, job_id, recorded["sha256"])
        assert hashlib.sha256(raw).hexdigest() == recorded["sha256"]
        response = gbcs.decode(raw)
        assert (response.device_id, response.use_case.name) == (device, "ECS35b")
        assert [e.hex for e in response.entries] == ["0x8F1F", "0x8F73"]
        assert (recorded["source"], recorded["usable"]) == ("tool", True)
        assert [(e["code"], e["name"]) for e in recorded["entries"]] == [
            ("0x8F1F", "low battery capacity"),
            ("0x8F73", "battery cover removed"),
        ]

        decision = f.call("ben", "POST", f"/jobs/{job_id}/inspection", json=CLEAN)
        decisions[device] = decision
        entry = _entry(f, device, "device.decided")
        assert entry["security_log"]["sha256"] == hashlib.sha256(raw).hexdigest()
        assert entry["security_log"]["source"] == "tool"

        # The read order is for reading only: the device refuses to be reset under it.
        connector = SimulatedConnector(tmp_path / "bench" / "fleet.json", f.vkey, "BENCH-1")
        with pytest.raises(WorkOrderRefused, match="not to reset"):
            connector.attach(device).factory_reset(signed_order)
        assert WorkOrder.open(signed_order, f.vkey).action == "read_security_log"

    # 5 days apart: the low battery does not explain the battery cover alert.
    far = decisions[FAR]
    assert far["outcome"] == "supervisor_review"
    [unexplained] = [r for r in far["reasons"] if r["rule"] == "unexplained-tamper-alert"]
    assert "0x8F73 battery cover removed at 2026-11-20T08:15:00Z" in unexplained["text"]

    # 2 hours apart: it does, and the reason gives both of the device's own times.
    near = decisions[NEAR]
    assert near["outcome"] == "eligible"
    [explained] = [r for r in near["reasons"] if r["rule"] == "explained-tamper-alert"]
    assert "2026-11-20T08:15:00Z" in explained["text"]
    assert "0x8F1F low battery capacity at 2026-11-20T06:15:00Z" in explained["text"]

    # The reset keeps the security log: verified, and the kept digest is unchanged.
    f.call("ben", "POST", f"/jobs/{jobs[NEAR]}/work-orders", json={"tool_id": "BENCH-1"})
    job = f.wait_for(jobs[NEAR], {"verified", "reset_failed", "verification_failed"})
    assert job["state"] == "verified"
    completed = _entry(f, NEAR, "reset.completed")
    kept = completed["after"][SECURITY_LOG_ITEM]
    assert kept == completed["before"][SECURITY_LOG_ITEM]
    assert _entry(f, NEAR, "reset.verified")["failures"] == []
    # And the device answers with the same log as before the reset.
    connector = SimulatedConnector(tmp_path / "bench" / "fleet.json", f.vkey, "BENCH-1")
    again = gbcs.decode(connector.attach(NEAR).read_security_log())
    assert [(e.code, e.at) for e in again.entries] == [
        (0x8F1F, AT - timedelta(hours=2)),
        (0x8F73, AT),
    ]
