"""Every seal accounted for, through the real API, a real agent and the command line: a batch
received, seals issued, some fitted to released devices, one voided, one lost, one returned,
a stocktake, a reconciliation; the discrepancy report names exactly the lost seal."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.e2e.conftest import Facility, Triage, running_facility
from triage.adapters.devices.simulated import DeviceSpec

DEVICES = [f"BC-33-AC-FF-FE-FA-70-0{n}" for n in range(1, 4)]
CLEAN = {"metrology_seal_intact": True, "cpa_boundary_intact": True}
BATCH = [f"SL-50{n:02d}" for n in range(1, 21)]  # SL-5001..SL-5020


@pytest.fixture
def facility(triage: Triage, tmp_path: Path) -> Iterator[Facility]:
    with running_facility(triage, tmp_path, [DeviceSpec(d, "ESME") for d in DEVICES]) as f:
        yield f


def test_receive_issue_fit_void_lose_count_and_reconcile(
    facility: Facility, tmp_path: Path
) -> None:
    f = facility
    batch = f.call(
        "stella",
        "POST",
        "/seals/batches",
        json={
            "supplier": "Acme Seals",
            "delivery_reference": "DN-77",
            "seal_class": "H",
            "store": "STORE-A",
            "first": "SL-5001",
            "last": "SL-5020",
        },
    )
    assert batch["size"] == 20
    overlap = f.client.post(
        "/api/v1/seals/batches",
        headers={"Authorization": f"Bearer {f.tokens['stella']}"},
        json={
            "supplier": "Acme Seals",
            "delivery_reference": "DN-78",
            "seal_class": "H",
            "store": "STORE-A",
            "first": "SL-5015",
            "last": "SL-5030",
        },
    )
    assert overlap.status_code == 409
    assert "6 of these serials are already in the seal register" in overlap.json()["detail"]

    issued = f.call(
        "stella", "POST", "/seals/issue", json={"operator_id": "ben", "serials": BATCH[:6]}
    )
    assert [s["holder"] for s in issued["items"]] == ["ben"] * 6

    # Three devices through triage, each sealed with one of ben's seals and released.
    manifest = (
        "device_id,device_type,manufacturer,model,firmware_version,inventory_status,asset_owner\n"
    )
    manifest += "".join(f"{d},ESME,Acme,X1,1.0,Decommissioned,MAP-1\n" for d in DEVICES)
    f.call(
        "sup",
        "POST",
        "/consignments",
        params={"reference": "C-1", "asset_owner": "MAP-1"},
        content=manifest,
        headers={"Content-Type": "text/csv"},
    )
    for device, serial in zip(DEVICES, BATCH[:3], strict=True):
        job_id = f.call("ben", "POST", "/devices/scan", json={"device_id": device})["job"]["id"]
        f.read_log(job_id)
        f.call("ben", "POST", f"/jobs/{job_id}/inspection", json=CLEAN)
        f.call("ben", "POST", f"/jobs/{job_id}/work-orders", json={"tool_id": "BENCH-1"})
        assert f.wait_for(job_id, {"verified", "quarantined"})["state"] == "verified"
        if serial == BATCH[0]:
            # A seal still in the store is refused at the bench, and says why.
            refused = f.client.post(
                f"/api/v1/jobs/{job_id}/seal",
                headers={"Authorization": f"Bearer {f.tokens['ben']}"},
                json={"serial": BATCH[10]},
            )
            assert refused.status_code == 409
            assert "stores must issue it to you" in refused.json()["detail"]
        f.call("ben", "POST", f"/jobs/{job_id}/seal", json={"serial": serial})
        assert f.call("ben", "POST", f"/jobs/{job_id}/release")["state"] == "released"
        label = f.raw("ben", "GET", f"/jobs/{job_id}/label")
        assert serial in PdfReader(io.BytesIO(label.content)).pages[0].extract_text()

    # One damaged, one lost, one handed back to the store.
    f.call("ben", "POST", f"/seals/{BATCH[3]}/void", json={"reason": "tab torn off while fitting"})
    f.call(
        "ben",
        "POST",
        f"/seals/{BATCH[4]}/lost",
        json={"reason": "not in the bench tray at end of shift"},
    )
    f.call("stella", "POST", "/seals/return", json={"serials": [BATCH[5]]})

    # Stores scans every seal on the shelf: the fourteen never issued and the one returned.
    on_shelf = [BATCH[5], *BATCH[6:]]
    counted = f.call(
        "stella", "POST", "/seals/stocktakes", json={"store": "STORE-A", "serials": on_shelf}
    )
    assert (counted["expected"], counted["counted"]) == (15, 15)
    assert counted["missing"] == [] and counted["unexpected"] == []

    stored = f.call("stella", "POST", "/seals/reconciliations", json={"scope": "facility"})
    result = stored["result"]
    assert result["balanced"] is True
    issue_sum = next(e for e in result["equations"] if e["name"] == "issued")
    assert issue_sum["left"] == {"issued": 6}
    assert issue_sum["right"] == {
        "fitted": 3,
        "returned": 1,
        "void_while_held": 1,
        "lost_while_held": 1,
        "held": 0,
    }
    assert [(d["kind"], d["serial"]) for d in result["discrepancies"]] == [("lost", BATCH[4])]

    report = f.call("sam", "GET", "/seals/discrepancies")
    assert report["total"] == 1
    assert [(d["kind"], d["serial"]) for d in report["items"]] == [("lost", BATCH[4])]

    # The same answer from the command line, and the record holds together.
    cli = json.loads(
        f.triage.run("seals", "reconcile", "--json", "--token", f.tokens["stella"]).stdout
    )
    assert [d["serial"] for d in cli["discrepancies"]] == [BATCH[4]]
    assert cli["figures"]["fitted"] == 3 and cli["figures"]["in_stock"] == 15
    fitted = f.call("stella", "GET", "/seals/reports/fitted")
    assert [(r["operator_id"], r["fitted"]) for r in fitted["rows"]] == [("ben", 3)]
    labels = f.raw("stella", "GET", f"/seals/batches/{batch['id']}/labels")
    assert len(PdfReader(io.BytesIO(labels.content)).pages) == 20
    assert f.triage.run("ledger", "verify", "--token", f.tokens["sam"]).stdout.startswith("ok:")
    replay = f.triage.run("ledger", "replay", "--check", "--token", f.tokens["sam"])
    assert replay.stdout.startswith("ok:")
