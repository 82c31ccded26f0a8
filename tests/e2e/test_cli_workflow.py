"""The workflow by command line, as an operator at a terminal would run it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import Triage, agent_arguments, start_server, stop
from tests.gbcs_logs import clean_log
from triage.adapters.devices.simulated import DeviceSpec, SimulatedFleet

DEVICE = "BC-33-AC-FF-FE-FA-55-3D"
HEADER = "device_id,device_type,manufacturer,model,firmware_version,inventory_status,asset_owner\n"


def test_a_device_from_manifest_to_verified_receipt_by_cli(triage: Triage, tmp_path: Path) -> None:
    vkey = triage.run("init").stdout.strip().splitlines()[-1]
    tok = {"admin": triage.first_admin()}
    second_admin = triage.run(
        "operator", "add", "eve", "--name", "Eve", "--role", "administrator", check=False
    )
    assert second_admin.returncode == 2
    assert "sign in as one" in second_admin.stderr
    for who, role in [("sup", "supervisor"), ("ben", "bench_operator")]:
        # Signed in at bench B1, where the tool sits: work orders need it.
        tok[who] = triage.staff(tok["admin"], who, role, bench="B1")
    tok["stella"] = triage.staff(tok["admin"], "stella", "stores")
    triage.commission(tok["admin"])
    triage.register_owner(tok["admin"])
    key = tmp_path / "tool.key"
    tool_vkey = triage.run("agent", "keygen", "--tool-id", "BENCH-1", "--out", str(key)).stdout
    triage.run(
        "tool",
        "enrol",
        "BENCH-1",
        "--bench",
        "B1",
        "--key",
        tool_vkey.strip(),
        "--token",
        tok["admin"],
    )

    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER
        + f"{DEVICE},ESME,Acme,E1,1.0,Commissioned,MAP-1\nzz,ESME,Acme,E1,1.0,Withdrawn,MAP-1\n"
    )
    refused = triage.run(
        "consignment",
        "import",
        str(bad),
        "--reference",
        "C-0",
        "--asset-owner",
        "MAP-1",
        "--token",
        tok["sup"],
        check=False,
    )
    assert refused.returncode == 2
    assert "line 2: inventory_status" in refused.stderr
    assert "line 3: device_id" in refused.stderr
    previewed = triage.run(
        "consignment", "import", str(bad), "--reference", "C-0", "--asset-owner", "MAP-1",
        "--dry-run", "--token", tok["sup"],
    )  # fmt: skip
    assert previewed.stdout.startswith("dry run, nothing recorded: 0 device(s)")
    assert "line 3: device_id" in previewed.stdout
    denied = triage.run(
        "consignment",
        "import",
        str(bad),
        "--reference",
        "C-0",
        "--asset-owner",
        "MAP-1",
        "--token",
        tok["ben"],
        check=False,
    )
    assert denied.returncode == 2
    assert "may not consignment.import" in denied.stderr

    manifest = tmp_path / "m.csv"
    manifest.write_text(HEADER + f"{DEVICE.lower()},ESME,Acme,E1,1.0,Decommissioned,MAP-1\n")
    imported = json.loads(
        triage.run(
            "consignment",
            "import",
            str(manifest),
            "--reference",
            "C-1",
            "--asset-owner",
            "MAP-1",
            "--token",
            tok["sup"],
            "--json",
        ).stdout
    )
    assert imported["imported"] == 1
    assert (
        "received" in triage.run("device", "scan", "bc33acfffefa553d", "--token", tok["ben"]).stdout
    )
    listed = triage.run("consignment", "list", "--token", tok["sup"]).stdout
    assert "C-1\tMAP-1\t1/1 arrived\topen" in listed
    closed = triage.run("consignment", "close", "C-1", "--token", tok["sup"]).stdout
    assert closed.startswith("consignment C-1 of MAP-1 closed: 1 of 1 arrived")
    # The supplier read the device's security log before removing it (DUIS 6.13): a
    # supervisor uploads that response, and the inspection weighs its entries.
    supplied = tmp_path / "ECS35b_response.hex"
    supplied.write_text(clean_log(DEVICE).hex().upper())
    triage.run(
        "device",
        "upload-log",
        DEVICE,
        str(supplied),
        "--reference",
        "SR-613-1",
        "--token",
        tok["sup"],
    )
    shown = json.loads(
        triage.run("device", "security-log", DEVICE, "--json", "--token", tok["ben"]).stdout
    )
    assert (shown["use_case"], shown["source"], shown["entries"]) == ("ECS35b", "supplier", [])
    evidence = tmp_path / "evidence.json"
    evidence.write_text(json.dumps({"metrology_seal_intact": True, "cpa_boundary_intact": True}))
    decided = triage.run(
        "device", "inspect", DEVICE, "--evidence", str(evidence), "--token", tok["ben"]
    )
    assert decided.stdout.startswith("decision: eligible")
    triage.run("device", "reset", DEVICE, "--tool", "BENCH-1", "--token", tok["ben"])

    SimulatedFleet.create(tmp_path / "fleet.json", [DeviceSpec(DEVICE, "ESME")])
    server, client = start_server(triage, "--checkpoint-interval", "0")
    try:
        triage.run(
            *agent_arguments(str(client.base_url).rstrip("/"), key, vkey, tmp_path, "--once")
        )
    finally:
        client.close()
        stop(server)
    early = triage.run("device", "release", DEVICE, "--token", tok["ben"], check=False)
    assert early.returncode == 2
    assert "without a fitted seal" in early.stderr
    not_issued = triage.run(
        "device", "seal", DEVICE, "--serial", "SL-0007", "--token", tok["ben"], check=False
    )
    assert not_issued.returncode == 2
    assert "not in the seal register" in not_issued.stderr
    triage.run(
        "seals",
        "receive",
        "--supplier",
        "Acme Seals",
        "--delivery",
        "DN-1",
        "--class",
        "S",
        "--store",
        "STORE-A",
        "--first",
        "SL-0001",
        "--last",
        "SL-0020",
        "--token",
        tok["stella"],
    )
    issued = triage.run(
        "seals", "issue", "ben", "--serial", "SL-0007", "--token", tok["stella"]
    ).stdout
    assert issued.strip() == "1 seal issued to ben"
    triage.run("device", "seal", DEVICE, "--serial", "sl-0007", "--token", tok["ben"])
    label = tmp_path / "device-label.pdf"
    triage.run("seals", "device-label", DEVICE, "--out", str(label), "--token", tok["ben"])
    assert label.read_bytes().startswith(b"%PDF")
    assert triage.run("device", "release", DEVICE, "--token", tok["ben"]).stdout.endswith(
        "released\n"
    )

    story = json.loads(
        triage.run("device", "history", DEVICE, "--token", tok["sup"], "--json").stdout
    )
    assert [e["entry"]["type"] for e in story["entries"]][-4:] == [
        "reset.completed",
        "reset.verified",
        "seal.fitted",
        "device.released",
    ]
    receipt = tmp_path / "receipt.json"
    triage.run("device", "receipt", DEVICE, "--out", str(receipt), "--token", tok["ben"])
    assert triage.run("verify", str(receipt), "--key", vkey).stdout.startswith("ok: 10 entries")
    pdf = tmp_path / "certificate.pdf"
    triage.run("device", "certificate", DEVICE, "--out", str(pdf), "--token", tok["ben"])
    assert pdf.read_bytes().startswith(b"%PDF")
    assert triage.run("ledger", "replay", "--check", "--token", tok["sup"]).stdout.startswith("ok:")
