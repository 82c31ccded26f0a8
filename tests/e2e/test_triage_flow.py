"""A consignment through the real API and a real `triage agent` process, every outcome covered,
then every receipt verified offline and the whole record checked."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Facility, Triage, running_facility
from tests.gbcs_logs import clean_log
from triage.adapters.devices.simulated import DeviceSpec

RELEASED = "BC-33-AC-FF-FE-FA-00-01"
CPA_BREACHED = "BC-33-AC-FF-FE-FA-00-02"
METROLOGY = "BC-33-AC-FF-FE-FA-00-03"
REVIEWED = "BC-33-AC-FF-FE-FA-00-04"
RESET_RETRIED = "BC-33-AC-FF-FE-FA-00-05"
NEVER_VERIFIES = "BC-33-AC-FF-FE-FA-00-06"
NOT_AT_BENCH = "BC-33-AC-FF-FE-FA-00-07"
NEVER_ARRIVES = "BC-33-AC-FF-FE-FA-00-08"
UNEXPECTED = "BC-33-AC-FF-FE-FA-00-09"
CLEAN = {"metrology_seal_intact": True, "cpa_boundary_intact": True}


@pytest.fixture
def facility(triage: Triage, tmp_path: Path) -> Iterator[Facility]:
    devices = [
        DeviceSpec(RELEASED, "ESME"),
        DeviceSpec(CPA_BREACHED, "ESME"),
        DeviceSpec(METROLOGY, "GSME"),
        DeviceSpec(REVIEWED, "ESME"),
        DeviceSpec(RESET_RETRIED, "CHF", fail_times=1),
        DeviceSpec(NEVER_VERIFIES, "ESME", half_fail_times=5),
    ]
    with running_facility(triage, tmp_path, devices) as running:
        yield running


MANIFEST_HEADER = (
    "device_id,device_type,manufacturer,model,firmware_version,inventory_status,asset_owner\n"
)


def _manifest(rows: list[tuple[str, str]]) -> str:
    return MANIFEST_HEADER + "".join(
        f"{device},{kind},Acme,X1,1.0,Decommissioned,MAP-1\n" for device, kind in rows
    )


def test_every_outcome_through_the_api_and_the_agent(facility: Facility, tmp_path: Path) -> None:
    f = facility
    bad = f.client.post(
        "/api/v1/consignments",
        params={"reference": "C-0", "asset_owner": "MAP-1"},
        content=_manifest([(RELEASED, "ESME")])
        + "nonsense,ESME,Acme,X1,1.0,Decommissioned,MAP-1\n",
        headers={"Authorization": f"Bearer {f.tokens['sup']}", "Content-Type": "text/csv"},
    )
    assert bad.status_code == 422
    assert bad.json()["rows"][0]["line"] == 3
    assert bad.json()["rows"][0]["field"] == "device_id"

    imported = f.call(
        "sup",
        "POST",
        "/consignments",
        params={"reference": "C-1", "asset_owner": "MAP-1"},
        content=_manifest(
            [
                (RELEASED, "ESME"),
                (CPA_BREACHED, "ESME"),
                (METROLOGY, "GSME"),
                (REVIEWED, "ESME"),
                (RESET_RETRIED, "CHF"),
                (NEVER_VERIFIES, "ESME"),
                (NOT_AT_BENCH, "ESME"),
                (NEVER_ARRIVES, "ESME"),
            ]
        ),
        headers={"Content-Type": "text/csv"},
    )
    assert imported["imported"] == 8

    def receive(
        device: str, evidence: dict[str, Any], inspector: str = "ben", *, supplied: bool = False
    ) -> tuple[str, str]:
        scanned = f.call("ben", "POST", "/devices/scan", json={"device_id": device.lower()})
        assert scanned["created"], scanned
        job_id = scanned["job"]["id"]
        if supplied:  # the supplier read the security log before removal (DUIS 6.13)
            body = {"reference": "SR-613", "gbcs_hex": clean_log(device).hex()}
            f.call("sup", "POST", f"/jobs/{job_id}/security-log", json=body)
        else:  # the bench tool reads it
            f.read_log(job_id)
        decision = f.call(inspector, "POST", f"/jobs/{job_id}/inspection", json=evidence)
        return job_id, decision["outcome"]

    def reset(job_id: str) -> dict[str, Any]:
        f.call("ben", "POST", f"/jobs/{job_id}/work-orders", json={"tool_id": "BENCH-1"})
        return f.wait_for(
            job_id, {"verified", "reset_failed", "verification_failed", "quarantined"}
        )

    # Stores receives a batch of seals and issues ten to ben.
    f.call(
        "stella",
        "POST",
        "/seals/batches",
        json={
            "supplier": "Acme Seals",
            "delivery_reference": "DN-1",
            "seal_class": "H",
            "store": "STORE-A",
            "first": "SL-1001",
            "last": "SL-1100",
        },
    )
    f.call(
        "stella",
        "POST",
        "/seals/issue",
        json={"operator_id": "ben", "first": "SL-1001", "last": "SL-1010"},
    )

    def seal_and_release(job_id: str, serial: str) -> None:
        f.call("ben", "POST", f"/jobs/{job_id}/seal", json={"serial": serial})
        assert f.call("ben", "POST", f"/jobs/{job_id}/release")["state"] == "released"

    # Eligible, reset by the agent, verified, sealed, released.
    job_released, outcome = receive(RELEASED, CLEAN)
    assert outcome == "eligible"
    assert reset(job_released)["state"] == "verified"
    seal_and_release(job_released, "SL-1001")

    # CPA boundary breached: quarantined, then destroyed.
    job_cpa, outcome = receive(CPA_BREACHED, {**CLEAN, "cpa_boundary_intact": False})
    assert outcome == "quarantine"
    # Destroyed with a photo of it (kept first), then witnessed by a second person.
    photo = f.call(
        "sup",
        "POST",
        "/disposals/evidence",
        content=b"\xff\xd8\xff\xe0 the shredder's output",
        headers={"Content-Type": "image/jpeg"},
    )
    destruction = {
        "job_id": job_cpa,
        "reference": "DC-1",
        "method": "shred",
        "site": "Shredding bay 2",
        "destroyed_on": datetime.now(UTC).date().isoformat(),
        "evidence": [photo],
    }
    f.call("sup", "POST", "/disposals/destructions", json=destruction)
    f.call(
        "stella",
        "POST",
        f"/disposals/jobs/{job_cpa}/witness",
        json={"statement": "saw it shredded"},
    )
    # Its certificate of destruction, by the API and by the CLI; none for the released device.
    pdf = f.raw("ben", "GET", f"/devices/{CPA_BREACHED}/certificate-of-destruction")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    written = tmp_path / "destruction.pdf"
    f.triage.run("device", "certificate-of-destruction", CPA_BREACHED, "--out", str(written),
                 "--token", f.tokens["ben"])  # fmt: skip
    assert written.read_bytes().startswith(b"%PDF")
    not_destroyed = f.client.get(
        f"/api/v1/devices/{RELEASED}/certificate-of-destruction",
        headers={"Authorization": f"Bearer {f.tokens['ben']}"},
    )
    assert not_destroyed.status_code == 409
    assert "was not destroyed" in not_destroyed.json()["detail"]

    # Metrology seal broken: routed to re-verification, returned.
    job_mid, outcome = receive(METROLOGY, {**CLEAN, "metrology_seal_intact": False})
    assert outcome == "reverify_metrology"
    f.call(
        "sup", "POST", f"/jobs/{job_mid}/disposal", json={"action": "return", "reference": "RMA-1"}
    )

    # Unexplained cover: supervisor review; the inspecting supervisor may not override.
    job_rev, outcome = receive(REVIEWED, {**CLEAN, "outer_covers_opened": ["terminal"]}, "sup")
    assert outcome == "supervisor_review"
    own = f.client.post(
        f"/api/v1/jobs/{job_rev}/override",
        json={
            "outcome": "eligible",
            "justification": "supplier job J-55 opened the terminal cover",
        },
        headers={"Authorization": f"Bearer {f.tokens['sup']}"},
    )
    assert own.status_code == 403
    assert "separation of duties" in own.json()["detail"]
    f.call(
        "sup2",
        "POST",
        f"/jobs/{job_rev}/override",
        json={
            "outcome": "eligible",
            "justification": "supplier job J-55 opened the terminal cover",
        },
    )
    assert reset(job_rev)["state"] == "verified"
    seal_and_release(job_rev, "SL-1002")

    # The reset fails once, the retry succeeds. The device is a comms hub, which goes back to
    # the DCC unless the hub policy lets it be reset like a meter (issue 20): here it does.
    f.call("admin", "PUT", "/hubs/policy", json={"allow_reset": True})
    job_retry, _ = receive(RESET_RETRIED, CLEAN)
    assert reset(job_retry)["state"] == "reset_failed"
    assert reset(job_retry)["state"] == "verified"
    seal_and_release(job_retry, "SL-1003")

    # Verification keeps failing: quarantined after the last allowed attempt.
    job_never, _ = receive(NEVER_VERIFIES, CLEAN)
    assert reset(job_never)["state"] == "verification_failed"
    assert reset(job_never)["state"] == "verification_failed"
    final = reset(job_never)
    assert final["state"] == "quarantined"
    assert all(r["verified"] is False for r in final["resets"])
    assert any("not cleared" in failure for failure in final["resets"][0]["failures"])

    # The agent refuses a work order for a device that is not at its bench, and says so.
    job_absent, _ = receive(NOT_AT_BENCH, CLEAN, supplied=True)
    f.call("ben", "POST", f"/jobs/{job_absent}/work-orders", json={"tool_id": "BENCH-1"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        story = f.call("sup", "GET", f"/devices/{NOT_AT_BENCH}/history")
        if any(item["entry"]["type"] == "tool.command_refused" for item in story["items"]):
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the agent's refusal was not recorded")
    assert f.job(job_absent)["state"] == "reset_authorised"
    f.call(
        "sup",
        "POST",
        f"/jobs/{job_absent}/quarantine",
        json={"reason": "device missing from bench B1"},
    )

    # An unexpected device is an exception, not silently ignored.
    unexpected = f.call("ben", "POST", "/devices/scan", json={"device_id": UNEXPECTED})
    assert unexpected["job"] is None
    assert unexpected["exception_id"]
    assert f.call("sup", "GET", "/exceptions", params={"status": "open"})["total"] == 1

    closed = f.call("sup", "POST", f"/consignments/{imported['consignment_id']}/close")
    assert closed["never_arrived"] == [NEVER_ARRIVES]

    # Every receipt verifies offline with nothing but the verifier key, and a forgery does not.
    for device in (RELEASED, CPA_BREACHED, METROLOGY, REVIEWED, RESET_RETRIED, NEVER_VERIFIES):
        receipt = f.raw("ben", "GET", f"/devices/{device}/receipt").text
        path = tmp_path / f"{device}.json"
        path.write_text(receipt)
        checked = f.triage.run("verify", str(path), "--key", f.vkey, "--json")
        assert json.loads(checked.stdout)["subject"]["id"] == device
    forged = json.loads((tmp_path / f"{RELEASED}.json").read_text())
    forged["entries"][-1]["entry"] = forged["entries"][-1]["entry"].replace("SL-1001", "SL-9999")
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    refused = f.triage.run("verify", str(tmp_path / "forged.json"), "--key", f.vkey, check=False)
    assert refused.returncode == 1
    assert "not proven" in refused.stdout

    certificate = f.raw("ben", "GET", f"/devices/{RELEASED}/certificate")
    assert certificate.headers["content-type"] == "application/pdf"
    assert certificate.content.startswith(b"%PDF")
    not_released = f.client.get(
        f"/api/v1/devices/{NEVER_VERIFIES}/certificate",
        headers={"Authorization": f"Bearer {f.tokens['ben']}"},
    )
    assert not_released.status_code == 409
    assert "was not released" in not_released.json()["detail"]

    assert f.triage.run("ledger", "verify").stdout.startswith("ok:")
    assert f.triage.run("ledger", "replay", "--check").stdout.startswith("ok:")
