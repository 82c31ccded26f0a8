"""The database goes away, or its disk fills: clear 503s, nothing half-written, and the server
carries on by itself once the database is back (a real `triage serve`, a real PostgreSQL
server stopped and started, a real full file system)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Triage, start_server, stop
from tests.pgserver import running_cluster

HEADER = "device_id,device_type,manufacturer,model,firmware_version,inventory_status,asset_owner\n"


def manifest(first: int, count: int) -> str:
    return HEADER + "".join(
        f"{device_id(first + i)},ESME,Acme,X1,1.0,Decommissioned,MAP-1\n" for i in range(count)
    )


def device_id(n: int) -> str:
    return "BC-33-AC-FF-FE-" + "-".join(f"{b:02X}" for b in n.to_bytes(3, "big"))


def import_consignment(
    client: httpx.Client, token: str, reference: str, first: int, count: int = 5
) -> httpx.Response:
    return client.post(
        "/api/v1/consignments",
        params={"reference": reference, "asset_owner": "MAP-1"},
        content=manifest(first, count),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
    )


def references(client: httpx.Client, token: str) -> set[str]:
    page = client.get(
        "/api/v1/consignments",
        params={"limit": 500},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert page.status_code == 200, page.text
    return {c["reference"] for c in page.json()["items"]}


def assert_unavailable(response: httpx.Response, says: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) > 0
    assert says in response.json()["detail"]
    assert "nothing was recorded" in response.json()["detail"]


def assert_record_intact(triage: Triage, token: str) -> None:
    triage.env["TRIAGE_TOKEN"] = token
    verified = triage.run("ledger", "verify", check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    replayed = triage.run("ledger", "replay", "--check", check=False)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr


@pytest.mark.postgres
def test_postgresql_outage_gives_503_then_the_server_recovers_by_itself(tmp_path: Path) -> None:
    with running_cluster() as cluster:
        triage = Triage(tmp_path / "data")
        triage.env["TRIAGE_DATABASE_URL"] = cluster.create_database("outage")
        triage.run("init")
        admin = triage.first_admin()
        sup = triage.staff(admin, "sup", "supervisor")
        triage.register_owner(admin)
        server, client = start_server(triage, "--checkpoint-interval", "0")
        try:
            assert import_consignment(client, sup, "BEFORE", 0x100).status_code == 201
            cluster.pause()
            assert_unavailable(client.get("/api/v1/health"), "cannot be reached")
            assert_unavailable(
                import_consignment(client, sup, "DURING", 0x200), "cannot be reached"
            )
            # A person at a web page gets a page that says the same, not a JSON document.
            page = client.get("/bench", headers={"Cookie": "triage_session=someone-signed-in"})
            assert page.status_code == 503 and int(page.headers["retry-after"]) > 0
            assert page.headers["content-type"].startswith("text/html")
            assert (
                "nothing was recorded" in page.text and "<h1>Service unavailable</h1>" in page.text
            )
            cluster.resume()
            # The same server process, no restart: the pool replaces its broken connections.
            deadline = time.monotonic() + 30
            while client.get("/api/v1/health").status_code != 200:
                assert time.monotonic() < deadline, "the server did not recover by itself"
                time.sleep(0.2)
            assert import_consignment(client, sup, "AFTER", 0x300).status_code == 201
            assert references(client, sup) == {"BEFORE", "AFTER"}
        finally:
            client.close()
            stop(server)
        assert_record_intact(triage, admin)


@contextlib.contextmanager
def small_file_system(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``path`` (needs root, as CI runs)."""
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert mounted.returncode == 0, f"cannot mount a tmpfs: {mounted.stderr}"
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(directory: Path) -> Path:
    """Fill the file system holding ``directory`` to the last byte; returns the filler."""
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as f, contextlib.suppress(OSError):
        while True:
            f.write(b"\0" * 65536)
    with filler.open("ab", buffering=0) as f, contextlib.suppress(OSError):
        while True:
            f.write(b"\0")
    assert os.statvfs(directory).f_bavail == 0
    return filler


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small file system needs root")
def test_sqlite_disk_full_gives_a_clear_error_and_no_corruption(tmp_path: Path) -> None:
    with small_file_system(tmp_path / "small", "16m") as data:
        triage = Triage(data)
        triage.run("init")
        admin = triage.first_admin()
        sup = triage.staff(admin, "sup", "supervisor")
        triage.register_owner(admin)
        server, client = start_server(triage, "--checkpoint-interval", "0")
        try:
            assert import_consignment(client, sup, "BEFORE", 0x100).status_code == 201
            filler = fill(data)
            acknowledged, refused = {"BEFORE"}, []
            for n in range(200):  # pages SQLite had free absorb a few; then the disk is full
                response = import_consignment(client, sup, f"FULL-{n}", 0x1000 + 100 * n, 50)
                if response.status_code == 201:
                    acknowledged.add(f"FULL-{n}")
                    continue
                assert_unavailable(response, "disk holding the database is full")
                refused.append(f"FULL-{n}")
                break
            assert refused, "the disk never filled up"
            filler.unlink()
            assert import_consignment(client, sup, "AFTER", 0x900).status_code == 201
            assert references(client, sup) == acknowledged | {"AFTER"}
        finally:
            client.close()
            stop(server)
        with contextlib.closing(sqlite3.connect(data / "triage.db")) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert_record_intact(triage, admin)
