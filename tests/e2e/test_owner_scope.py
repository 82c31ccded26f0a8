"""An asset owner's person reads only its own devices: every GET route of the running app (the
API and the web pages), taken from the app itself at test time, is tried with a person of owner
B and the real ids of owner A's devices, jobs and consignment; each answers 401, 403 or 404, or
a body naming none of them. B's person does read B's own device, certificate and receipt.

A route added later is tried too; one whose path has a parameter this test cannot fill fails
here, naming its path: add the parameter to ``_fillers``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from tests.e2e.conftest import Facility, Triage, running_facility
from tests.e2e.test_access import _signed_in
from tests.pgserver import PgCluster
from triage.adapters.devices.simulated import DeviceSpec
from triage.entrypoints.asgi import create_app
from triage.ledger.receipt import verify_receipt

OWNER_A, OWNER_B = "MAP-1", "MAP-2"  # MAP-1 is registered by running_facility
A_RELEASED = "BC-33-AC-FF-FE-AA-00-01"
A_QUARANTINED = "BC-33-AC-FF-FE-AA-00-02"
B_RELEASED = "BC-33-AC-FF-FE-BB-00-01"
A_REFERENCE = "OWNER-A-REF-7731"
B_REFERENCE = "OWNER-B-REF-4410"
CLEAN = {"metrology_seal_intact": True, "cpa_boundary_intact": True}
HEADER = "device_id,device_type,manufacturer,model,firmware_version,inventory_status,asset_owner\n"
_PARAM = re.compile(r"\{([a-z_]+)(?::[a-z]+)?\}")
_numbers = itertools.count()


@dataclass(frozen=True)
class OwnerA:
    """What owner A has at the facility: what B's person must never see."""

    devices: list[str]
    jobs: list[str]
    consignment_id: str
    log_sha256: str

    def secrets(self) -> list[str]:
        return [*self.devices, *self.jobs, self.consignment_id, A_REFERENCE]


@dataclass(frozen=True)
class Scene:
    f: Facility
    a: OwnerA
    b_token: str
    b_browser: httpx.Client
    routes: list[str]  # every GET route's path template, from the app


def _manifest(owner: str, devices: list[str]) -> str:
    return HEADER + "".join(f"{d},ESME,Acme,X1,1.0,Decommissioned,{owner}\n" for d in devices)


def _import(f: Facility, owner: str, reference: str, devices: list[str]) -> str:
    found = f.call(
        "sup",
        "POST",
        "/consignments",
        params={"reference": reference, "asset_owner": owner},
        content=_manifest(owner, devices),
        headers={"Content-Type": "text/csv"},
    )
    return str(found["consignment_id"])


def _receive(f: Facility, device: str, evidence: dict[str, Any]) -> tuple[str, str]:
    """Scanned in, its log read by the bench tool, inspected: (job id, log sha256)."""
    scanned = f.call("ben", "POST", "/devices/scan", json={"device_id": device})
    job_id = str(scanned["job"]["id"])
    log = f.read_log(job_id)
    f.call("ben", "POST", f"/jobs/{job_id}/inspection", json=evidence)
    return job_id, str(log.get("sha256", "0" * 64))


def _release(f: Facility, job_id: str, serial: str) -> None:
    f.call("ben", "POST", f"/jobs/{job_id}/work-orders", json={"tool_id": "BENCH-1"})
    assert f.wait_for(job_id, {"verified", "reset_failed", "quarantined"})["state"] == "verified"
    f.call("ben", "POST", f"/jobs/{job_id}/seal", json={"serial": serial})
    assert f.call("ben", "POST", f"/jobs/{job_id}/release")["state"] == "released"


def _get_routes(triage: Triage) -> list[str]:
    """Every GET route of the app (the included routers' too, shown in the OpenAPI document
    or not)."""
    with triage.opened() as application:
        routes = create_app(application).routes
    return sorted(
        {
            str(getattr(context.route, "path", ""))
            for context in iter_route_contexts(routes)
            if "GET" in (getattr(context.route, "methods", None) or ())
        }
    )


@pytest.fixture
def scene(
    backend: str, triage: Triage, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Scene]:
    if backend == "postgresql":
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        database = f"ownerscope{next(_numbers)}"
        triage.env["TRIAGE_DATABASE_URL"] = cluster.create_database(database)
    devices = [DeviceSpec(d, "ESME") for d in (A_RELEASED, A_QUARANTINED, B_RELEASED)]
    with running_facility(triage, tmp_path, devices) as f:
        admin = f.tokens["admin"]
        triage.register_owner(admin, OWNER_B)
        b_token = triage.staff(admin, "b.reader", "asset_owner", asset_owner=OWNER_B)
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
                "last": "SL-2010",
            },
        )
        f.call(
            "stella",
            "POST",
            "/seals/issue",
            json={"operator_id": "ben", "first": "SL-2001", "last": "SL-2010"},
        )
        consignment_a = _import(f, OWNER_A, A_REFERENCE, [A_RELEASED, A_QUARANTINED])
        _import(f, OWNER_B, B_REFERENCE, [B_RELEASED])
        job_a1, log_a = _receive(f, A_RELEASED, CLEAN)
        _release(f, job_a1, "SL-2001")
        job_a2, _ = _receive(f, A_QUARANTINED, {**CLEAN, "cpa_boundary_intact": False})
        job_b, _ = _receive(f, B_RELEASED, CLEAN)
        _release(f, job_b, "SL-2002")
        a = OwnerA([A_RELEASED, A_QUARANTINED], [job_a1, job_a2], consignment_a, log_a)
        browser = _signed_in(f.client, triage, "b.reader")
        try:
            yield Scene(f, a, b_token, browser, _get_routes(triage))
        finally:
            browser.close()


def _fillers(scene: Scene) -> dict[str, list[str]]:
    """The values tried for each path parameter: owner A's real ids where the route names one
    of A's things, else a value of the right shape (the route is refused by permission)."""
    a = scene.a
    return fillers_for(
        OWNER_A,
        a.devices,
        a.jobs,
        [a.consignment_id, A_REFERENCE],
        [a.log_sha256],
        _dispatch_ids(scene) or ["no-such-dispatch"],
    )


def fillers_for(
    owner: str,
    devices: list[str],
    jobs: list[str],
    consignments: list[str],
    files: list[str],
    dispatches: list[str],
    stocktakes: tuple[str, ...] = ("no-such-stocktake",),
) -> dict[str, list[str]]:
    """Path parameters filled with one owner's real ids (consignments: ids and references;
    files: SHA-256 digests of its evidence files), and a value of the right shape for the
    others (those routes are refused by permission)."""
    return {
        "device_id": devices,
        "job_id": jobs,
        "consignment_id": consignments,
        "asset_owner": [owner],
        "reference": consignments,
        "owner_id": [owner],
        "sha256": files,
        "fmt": ["csv", "pdf", "json"],
        "dispatch_id": dispatches,
        "stocktake_id": list(stocktakes),
        "operator_id": ["sup"],
        "assessment_id": ["no-such-assessment"],
        "batch_id": ["no-such-batch"],
        "reconciliation_id": ["no-such-reconciliation"],
        "serial": ["SL-2001"],
        "evidence_id": ["no-such-evidence"],
        "kind": ["photo"],
        "code": ["shred"],
    }


def _dispatch_ids(scene: Scene) -> list[str]:
    """Owner A's dispatches, when the app has dispatches and A has any."""
    if "/api/v1/dispatches" not in scene.routes:
        return []
    answer = scene.f.client.get(
        "/api/v1/dispatches", headers={"Authorization": f"Bearer {scene.f.tokens['sup']}"}
    )
    if answer.status_code != 200:
        return []
    items = answer.json().get("items", [])
    return [str(d["id"]) for d in items if d.get("asset_owner") == OWNER_A]


def _paths(template: str, fillers: dict[str, list[str]]) -> list[str]:
    names = _PARAM.findall(template)
    unknown = [n for n in names if n not in fillers]
    assert not unknown, f"{template}: say in _fillers what to try for {unknown}"
    paths = []
    for values in itertools.product(*(fillers[n] for n in names)):
        path = template
        for name, value in zip(names, values, strict=True):
            path = re.sub(r"\{" + name + r"(?::[a-z]+)?\}", quote(value, safe=""), path, count=1)
        paths.append(path)
    return paths


def reads_leaking(
    f: Facility,
    routes: list[str],
    fillers: dict[str, list[str]],
    secrets: list[str],
    token: str,
    browser: httpx.Client,
) -> tuple[int, list[tuple[str, int, list[str]]]]:
    """Every GET route, with every filling of its path, asked with ``token`` (the API) or
    ``browser`` (the pages): how many paths were tried, and those whose answer (other than 401,
    403 or 404) shows any of ``secrets``."""
    tried, leaks = 0, []
    for template in routes:
        for path in _paths(template, fillers):
            if path.startswith("/api/"):
                answer = f.client.get(path, headers={"Authorization": f"Bearer {token}"})
            else:
                answer = browser.get(path, follow_redirects=False)
            tried += 1
            if answer.status_code in (401, 403, 404):
                continue
            body = answer.content.decode("utf-8", errors="replace")
            shown = [s for s in secrets if s in body or s.lower() in body]
            if shown:
                leaks.append((path, answer.status_code, shown))
    return tried, leaks


def test_another_owners_person_reads_nothing_of_owner_a(scene: Scene) -> None:
    tried, leaks = reads_leaking(
        scene.f, scene.routes, _fillers(scene), scene.a.secrets(), scene.b_token, scene.b_browser
    )
    assert not leaks, f"owner A's ids shown to owner B's person: {leaks}"
    # The check can fail: the facility's reader is shown A's device on such a path.
    assert A_RELEASED in scene.f.raw("sup", "GET", f"/devices/{A_RELEASED}/history").text
    assert tried >= len(scene.routes)
    # The API's reads of devices and consignments are among them, and let B's person in.
    assert "/api/v1/devices/{device_id}/receipt" in scene.routes


def test_an_owners_person_reads_its_own_devices(scene: Scene) -> None:
    f, headers = scene.f, {"Authorization": f"Bearer {scene.b_token}"}
    listed = f.client.get("/api/v1/devices", headers=headers)
    assert listed.status_code == 200, listed.text
    assert [d["device_id"] for d in listed.json()["items"]] == [B_RELEASED]
    csv = f.client.get("/api/v1/devices.csv", headers=headers)
    assert csv.status_code == 200 and B_RELEASED in csv.text and A_RELEASED not in csv.text
    page = scene.b_browser.get(f"/devices/{B_RELEASED}")
    assert page.status_code == 200 and B_RELEASED in page.text
    home = scene.b_browser.get("/", follow_redirects=True)
    assert home.status_code == 200 and B_RELEASED in home.text and B_REFERENCE in home.text
    certificate = f.client.get(f"/api/v1/devices/{B_RELEASED}/certificate", headers=headers)
    assert certificate.status_code == 200, certificate.text
    assert certificate.content.startswith(b"%PDF")
    receipt = f.client.get(f"/api/v1/devices/{B_RELEASED}/receipt", headers=headers)
    assert receipt.status_code == 200, receipt.text
    verified = verify_receipt(receipt.text, [f.vkey])
    assert verified.subject.id == B_RELEASED
    assert {e.type for _, e in verified.entries} >= {"device.received", "device.released"}
    # Its own consignment, by reference; not A's.
    own = f.client.get(f"/api/v1/consignments/{B_REFERENCE}", headers=headers)
    assert own.status_code == 200, own.text
    other = f.client.get(f"/api/v1/consignments/{scene.a.consignment_id}", headers=headers)
    assert other.status_code == 404
