"""Eight identical requests at once against a real `triage serve`, on SQLite and PostgreSQL.

On PostgreSQL the server used to take several of them: eight valid work orders for one device,
five seals fitted to it, six `device.released` entries, and 500s from unique keys. Now exactly
one is taken and the other seven are told why with a 409; the record stays verifiable.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Facility, Triage, running_facility
from tests.pgserver import PgCluster
from triage.adapters.devices.simulated import DeviceSpec

N = 8
DEVICE = "BC-33-AC-FF-FE-FA-59-01"
CLEAN = {"metrology_seal_intact": True, "cpa_boundary_intact": True}
MANIFEST = (
    "device_id,device_type,manufacturer,model,firmware_version,inventory_status,asset_owner\n"
    f"{DEVICE},ESME,Acme,X1,1.0,Decommissioned,MAP-1\n"
)
_numbers = itertools.count()


@pytest.fixture
def facility(
    backend: str, triage: Triage, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Facility]:
    if backend == "postgresql":
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        triage.env["TRIAGE_DATABASE_URL"] = cluster.create_database(f"races{next(_numbers)}")
    with running_facility(triage, tmp_path, [DeviceSpec(DEVICE, "ESME")]) as running:
        yield running


def at_once(
    f: Facility, who: str, path: str, bodies: list[dict[str, Any] | None]
) -> list[httpx.Response]:
    """POST ``path`` as ``who`` once per body, all released together from a barrier, each on
    its own connection."""
    barrier = threading.Barrier(len(bodies))
    answers: list[httpx.Response | BaseException] = [RuntimeError("no answer")] * len(bodies)
    headers = {"Authorization": f"Bearer {f.tokens[who]}"}

    def send(i: int) -> None:
        with httpx.Client(base_url=f.client.base_url, timeout=60) as client:
            barrier.wait()
            try:
                answers[i] = client.post(f"/api/v1{path}", headers=headers, json=bodies[i])
            except httpx.HTTPError as exc:
                answers[i] = exc

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    got = []
    for answer in answers:
        assert isinstance(answer, httpx.Response), repr(answer)
        got.append(answer)
    return got


def one_taken(answers: list[httpx.Response], ok: int, says: str) -> httpx.Response:
    """One answer ``ok``, the others 409 problems whose detail says ``says``; no 5xx."""
    codes = sorted(a.status_code for a in answers)
    assert codes == sorted([ok] + [409] * (N - 1)), [(a.status_code, a.text) for a in answers]
    for answer in answers:
        if answer.status_code == 409:
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert says in answer.json()["detail"], answer.json()
    (taken,) = [a for a in answers if a.status_code == ok]
    return taken


def test_eight_identical_steps_at_once_are_taken_once(facility: Facility) -> None:
    f = facility
    f.call(
        "sup",
        "POST",
        "/consignments",
        params={"reference": "C-1", "asset_owner": "MAP-1"},
        content=MANIFEST,
        headers={"Content-Type": "text/csv"},
    )
    job_id = f.call("ben", "POST", "/devices/scan", json={"device_id": DEVICE})["job"]["id"]
    f.read_log(job_id)
    f.call("ben", "POST", f"/jobs/{job_id}/inspection", json=CLEAN)

    # Eight work orders for the one device: one is signed, the others wait for it.
    orders = at_once(f, "ben", f"/jobs/{job_id}/work-orders", [{"tool_id": "BENCH-1"}] * N)
    one_taken(orders, 201, "")
    assert f.wait_for(job_id, {"verified", "reset_failed"})["state"] == "verified"

    f.call(
        "stella",
        "POST",
        "/seals/batches",
        json={
            "supplier": "Acme Seals",
            "delivery_reference": "DN-1",
            "seal_class": "H",
            "store": "STORE-A",
            "first": "SL-2001",
            "last": "SL-2020",
        },
    )
    f.call(
        "stella",
        "POST",
        "/seals/issue",
        json={"operator_id": "ben", "first": "SL-2001", "last": "SL-2010"},
    )

    # Eight different seals for the one device: one is fitted.
    sealing = at_once(
        f, "ben", f"/jobs/{job_id}/seal", [{"serial": f"SL-{2001 + i}"} for i in range(N)]
    )
    fitted = one_taken(sealing, 200, "cannot seal a device that is sealed").json()
    assert fitted["state"] == "sealed"

    # Eight releases: one.
    releases = at_once(f, "ben", f"/jobs/{job_id}/release", [None] * N)
    released = one_taken(releases, 200, "cannot release a device that is released").json()
    assert released["state"] == "released"
    assert released["seal_serial"] == fitted["seal_serial"]

    story = f.call("sup", "GET", f"/devices/{DEVICE}/history")
    types = [item["entry"]["type"] for item in story["items"]]
    assert types.count("reset.authorised") == 1
    assert types.count("seal.fitted") == 1
    assert types.count("device.released") == 1

    verify = json.loads(f.triage.run("ledger", "verify", "--json").stdout)
    assert verify["ok"] is True
    replay = json.loads(f.triage.run("ledger", "replay", "--check", "--json").stdout)
    assert replay["ok"] is True, replay["differences"]
