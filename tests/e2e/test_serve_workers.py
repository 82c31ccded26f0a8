"""`triage serve --workers 2`: two processes behind one port, on SQLite and PostgreSQL.

Writes stay one at a time per facility across the processes (SQLite's write lock, which a
writer waits for; PostgreSQL's advisory lock): many clients writing at once are each recorded
once, identical requests are taken once, and the ledger verifies. One process does the
periodic work.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Facility, Triage, running_facility
from tests.e2e.test_races_http import CLEAN, N, at_once, one_taken
from tests.pgserver import PgCluster
from triage.adapters.devices.simulated import DeviceSpec
from triage.entrypoints.asgi import PERIODIC_LOCK_FILE

CLIENTS = 16
DEVICES = [f"BC-33-AC-FF-FE-FA-5A-{n:02X}" for n in range(CLIENTS + 1)]
MANIFEST = (
    "device_id,device_type,manufacturer,model,firmware_version,inventory_status,asset_owner\n"
)
_numbers = itertools.count()


@pytest.fixture
def facility(
    backend: str, triage: Triage, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Facility]:
    if backend == "postgresql":
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        triage.env["TRIAGE_DATABASE_URL"] = cluster.create_database(f"workers{next(_numbers)}")
    triage.env["TRIAGE_SERVE_WORKERS"] = "2"
    specs = [DeviceSpec(d, "ESME") for d in DEVICES]
    with running_facility(triage, tmp_path, specs) as running:
        yield running


def server_processes(data_dir: Path) -> set[int]:
    """The `triage serve` worker processes of ``data_dir``: those started for it (their
    environment names it) to answer requests (uvicorn's multiprocess workers)."""
    found = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        try:
            command = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        # Started by uvicorn with multiprocessing's spawn (its resource tracker is not one).
        if (
            f"TRIAGE_DATA_DIR={data_dir}".encode() in environ
            and any(e.startswith(b"TRIAGE_SERVE_WORKER=") for e in environ)
            and b"spawn_main" in command
        ):
            found.add(int(proc.name))
    return found


def all_at_once(
    f: Facility, who: str, requests: list[tuple[str, str, dict[str, str]]]
) -> list[httpx.Response | BaseException]:
    """Each (method, path, JSON body) as ``who``, all released together, each on its own
    connection (so that both processes get some)."""
    barrier = threading.Barrier(len(requests))
    answers: list[httpx.Response | BaseException] = [RuntimeError("no answer")] * len(requests)
    headers = {"Authorization": f"Bearer {f.tokens[who]}"}

    def send(i: int) -> None:
        method, path, body = requests[i]
        with httpx.Client(base_url=f.client.base_url, timeout=120) as client:
            barrier.wait()
            try:
                answers[i] = client.request(method, f"/api/v1{path}", headers=headers, json=body)
            except httpx.HTTPError as exc:
                answers[i] = exc

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    return answers


def test_two_processes_record_each_of_many_concurrent_writes_once(facility: Facility) -> None:
    f = facility
    assert len(server_processes(f.triage.data_dir.resolve())) == 2
    f.call(
        "sup",
        "POST",
        "/consignments",
        params={"reference": "C-W", "asset_owner": "MAP-1"},
        content=MANIFEST + "".join(f"{d},ESME,Acme,X1,1.0,Decommissioned,MAP-1\n" for d in DEVICES),
        headers={"Content-Type": "text/csv"},
    )

    # Sixteen clients scan sixteen devices at once: sixteen jobs, none lost, none twice.
    scans = all_at_once(
        f, "ben", [("POST", "/devices/scan", {"device_id": d}) for d in DEVICES[:CLIENTS]]
    )
    for answer in scans:
        assert isinstance(answer, httpx.Response), repr(answer)
        assert answer.status_code == 200, answer.text
        assert answer.json()["created"] is True, answer.json()
    jobs = {a.json()["job"]["id"] for a in scans if isinstance(a, httpx.Response)}
    assert len(jobs) == CLIENTS

    # Eight identical work orders for one device at once: one is signed, seven are refused.
    device = DEVICES[CLIENTS]
    job_id = f.call("ben", "POST", "/devices/scan", json={"device_id": device})["job"]["id"]
    f.read_log(job_id)
    f.call("ben", "POST", f"/jobs/{job_id}/inspection", json=CLEAN)
    orders = at_once(f, "ben", f"/jobs/{job_id}/work-orders", [{"tool_id": "BENCH-1"}] * N)
    one_taken(orders, 201, "")
    assert f.wait_for(job_id, {"verified", "reset_failed"})["state"] == "verified"

    for d in DEVICES:
        story = f.call("sup", "GET", f"/devices/{d}/history")
        assert len(story["jobs"]) == 1, (d, story["jobs"])
    types = [
        i["entry"]["type"] for i in f.call("sup", "GET", f"/devices/{device}/history")["items"]
    ]
    assert types.count("reset.authorised") == 1

    verify = json.loads(f.triage.run("ledger", "verify", "--json").stdout)
    assert verify["ok"] is True
    replay = json.loads(f.triage.run("ledger", "replay", "--check", "--json").stdout)
    assert replay["ok"] is True, replay["differences"]


def test_one_of_the_two_processes_holds_the_periodic_work(facility: Facility) -> None:
    # The sweep runs by default: the process doing it holds the lock, so no one else can.
    lock = facility.triage.data_dir.resolve() / PERIODIC_LOCK_FILE
    with lock.open("ab") as file, pytest.raises(BlockingIOError):
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
