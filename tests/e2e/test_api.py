"""The API served by a real `triage serve` process, checked as an outside auditor would."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import TEMPLATES, Triage, start_server, stop
from triage.ledger import checkpoint, rfc6962

ORIGIN = "device-triage.local/demo"


def _initialised(triage: Triage) -> tuple[str, str]:
    """A new facility with an administrator enrolled and signed in: its verifier key and
    their token. Entries 1 to 7, so the ledger starts at size 8."""
    vkey = triage.run("init").stdout.strip().splitlines()[-1]
    return vkey, triage.first_admin("ada")


@pytest.fixture
def server(triage: Triage) -> Iterator[tuple[httpx.Client, str]]:
    vkey, admin = TEMPLATES.copied(triage, "ada", _initialised)
    proc, client = start_server(triage, "--checkpoint-interval", "1")
    client.headers["Authorization"] = f"Bearer {admin}"
    try:
        yield client, vkey
    finally:
        client.close()
        stop(proc)


def _b64(values: list[str]) -> list[bytes]:
    return [base64.b64decode(v) for v in values]


def _latest_checkpoint(client: httpx.Client, vkey: str, size: int) -> checkpoint.Checkpoint:
    """Wait for the periodic checkpointer to sign a tree of at least ``size`` entries."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        info = client.get("/api/v1/ledger").json()
        if info["checkpoint"] and info["checkpoint_size"] >= size:
            return checkpoint.open_checkpoint(info["checkpoint"], [vkey], ORIGIN)
        time.sleep(0.2)
    raise AssertionError("no periodic checkpoint was issued")


def test_auditor_checks_proofs_against_signed_checkpoints(
    server: tuple[httpx.Client, str], triage: Triage
) -> None:
    client, vkey = server
    health = client.get("/api/v1/health").json()
    assert health["status"] == "ok" and health["facility"] == "demo"
    first = _latest_checkpoint(client, vkey, 8)
    proof = client.get("/api/v1/ledger/proofs/inclusion", params={"index": 0}).json()
    rfc6962.verify_inclusion(
        base64.b64decode(proof["leaf_hash"]), 0, first.size, _b64(proof["proof"]), first.root_hash
    )
    # More entries arrive through another process; the log must stay consistent with the past.
    writer = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.integration.ledger_writer",
            "--url",
            f"sqlite:///{triage.data_dir / 'triage.db'}",
            "--count",
            "300",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert writer.stdout.count("acked") == 300
    second = _latest_checkpoint(client, vkey, 308)
    consistency = client.get(
        "/api/v1/ledger/proofs/consistency", params={"from": first.size, "to": second.size}
    ).json()
    rfc6962.verify_consistency(
        first.size, second.size, _b64(consistency["proof"]), first.root_hash, second.root_hash
    )
    late = client.get("/api/v1/ledger/proofs/inclusion", params={"index": 250, "size": 306})
    body = late.json()
    assert late.status_code == 200
    assert second.size == 308
    # An older tree size: its root is tied to the signed checkpoint by a consistency proof.
    root_306 = base64.b64decode(body["root"])
    rfc6962.verify_inclusion(
        base64.b64decode(body["leaf_hash"]), 250, 306, _b64(body["proof"]), root_306
    )
    tie = client.get("/api/v1/ledger/proofs/consistency", params={"from": 306, "to": 308}).json()
    rfc6962.verify_consistency(306, 308, _b64(tie["proof"]), root_306, second.root_hash)
    at_308 = client.get("/api/v1/ledger/proofs/inclusion", params={"index": 250}).json()
    rfc6962.verify_inclusion(
        base64.b64decode(at_308["leaf_hash"]), 250, 308, _b64(at_308["proof"]), second.root_hash
    )
    page = client.get("/api/v1/ledger/checkpoints", params={"limit": 1}).json()
    assert page["total"] >= 2 and len(page["items"]) == 1 and page["items"][0]["size"] == 8


@pytest.mark.parametrize(
    ("path", "params", "status", "says"),
    [
        ("/api/v1/ledger/proofs/inclusion", {"index": -1}, 422, "index"),
        ("/api/v1/ledger/proofs/inclusion", {"index": "x"}, 422, "index"),
        ("/api/v1/ledger/proofs/inclusion", {"index": 9}, 404, "not in a tree of size 8"),
        ("/api/v1/ledger/proofs/inclusion", {"index": 3, "size": 2}, 422, "not below size 2"),
        ("/api/v1/ledger/proofs/consistency", {"from": 3, "to": 2}, 422, "larger than"),
        ("/api/v1/ledger/proofs/consistency", {"from": 12}, 404, "from size 12 to size 8"),
        ("/api/v1/nothing-here", {}, 404, "Not Found"),
    ],
)
def test_bad_requests_get_problem_details(
    server: tuple[httpx.Client, str],
    path: str,
    params: dict[str, int | str],
    status: int,
    says: str,
) -> None:
    client, _ = server
    response = client.get(path, params=params)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert says in problem["detail"]


def test_openapi_is_published(server: tuple[httpx.Client, str]) -> None:
    client, _ = server
    spec = client.get("/api/v1/openapi.json").json()
    assert {
        "/api/v1/health",
        "/api/v1/ledger",
        "/api/v1/ledger/checkpoints",
        "/api/v1/ledger/proofs/inclusion",
        "/api/v1/ledger/proofs/consistency",
    } <= set(spec["paths"])
    assert client.get("/api/v1/docs").status_code == 200
