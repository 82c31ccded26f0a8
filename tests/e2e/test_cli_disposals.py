"""Destruction and return by command line on a running facility: the methods listed, a device
destroyed with a photo of it, refused a witness by the person who destroyed it, witnessed by a
second person, its certificate of destruction written; another returned under its RMA; a batch
certificate written with its signed JSON, which `triage verify` checks offline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.conftest import Facility, Triage, running_facility
from tests.e2e.test_web import _receive
from triage.adapters.devices.simulated import DeviceSpec

DESTROYED = "BC-33-AC-FF-FE-FA-81-01"
RETURNED = "BC-33-AC-FF-FE-FA-81-02"
BREACHED = {"metrology_seal_intact": True, "cpa_boundary_intact": False}


@pytest.fixture
def facility(triage: Triage, tmp_path: Path) -> Iterator[Facility]:
    devices = [DeviceSpec(DESTROYED, "ESME"), DeviceSpec(RETURNED, "ESME")]
    with running_facility(triage, tmp_path, devices) as running:
        yield running


def test_destruction_witness_and_certificates_by_cli(facility: Facility, tmp_path: Path) -> None:
    f = facility
    run = f.triage.run
    sup, stella = f.tokens["sup"], f.tokens["stella"]
    _receive(f, DESTROYED, BREACHED, "ben")
    _receive(f, RETURNED, BREACHED, "ben")
    assert "crush-and-recycle" in run("disposal", "methods", "--token", stella).stdout

    photo = tmp_path / "shredded.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + b"the shredder's output" * 50)
    today = datetime.now(UTC).date().isoformat()
    destroyed = json.loads(
        run(
            "disposal", "destroy", DESTROYED, "--method", "shred", "--site", "bay 2",
            "--destroyed-on", today, "--evidence", str(photo), "--reference", "DC-7",
            "--token", sup, "--json",
        ).stdout
    )  # fmt: skip
    assert destroyed["kind"] == "destroy" and destroyed["witness_id"] is None
    assert len(destroyed["evidence"]) == 1
    assert DESTROYED in run("disposal", "awaiting", "--token", stella).stdout

    own = run("disposal", "witness", DESTROYED, "--statement", "mine", "--token", sup, check=False)
    assert own.returncode != 0 and "separation of duties" in own.stderr
    out = tmp_path / "destruction.pdf"
    early = run("disposal", "certificate", DESTROYED, "--out", str(out), "--token", sup,
                check=False)  # fmt: skip
    assert early.returncode != 0 and "awaiting a witness" in early.stderr
    run("disposal", "witness", DESTROYED, "--statement", "saw it shredded", "--token", stella)
    run("disposal", "certificate", DESTROYED, "--out", str(out), "--token", sup)
    assert out.read_bytes().startswith(b"%PDF")

    returned = run("disposal", "return", RETURNED, "--reference", "RMA-9", "--token", sup).stdout
    assert f"{RETURNED}: returned to Acme under RMA RMA-9" in returned

    batch = tmp_path / "batch.pdf"
    run("disposal", "batch-certificate", "--out", str(batch), "--since", today, "--token", sup)
    assert batch.read_bytes().startswith(b"%PDF")
    checked = json.loads(
        run("verify", str(batch.with_suffix(".json")), "--key", f.vkey, "--json").stdout
    )
    assert checked["ok"] and checked["kind"] == "destruction-batch"
    assert [d["device_id"] for d in checked["document"]["devices"]] == [DESTROYED]
