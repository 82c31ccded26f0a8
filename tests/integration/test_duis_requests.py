"""DUIS requests out on both databases (issue 20 item 2): a released and a destroyed device's
requests produced as one batch whose every file validates against DUIS 5.4 (checked with
xmlschema directly), read back byte for byte, rebuilt by replay, downloaded through the API
and the page by the facility and by the asset owner's person (its own only)."""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from datetime import UTC, datetime

import pytest
import xmlschema
from fastapi.testclient import TestClient

from tests.duis_responses import DUIS_DIR
from tests.integration.conftest import Staffed
from tests.integration.test_threshold_pages import _csrf, _signed_in
from tests.people import enrol
from triage.adapters.replay import replay_check
from triage.domain.caller import Caller
from triage.domain.roles import Role
from triage.entrypoints.asgi import create_app
from triage.errors import Conflict, NotFound
from triage.services import asset_owners, disposals, duis_requests, job_steps, operators

XSD = DUIS_DIR / "DUIS Schema V5.4.xsd"
D1, D2 = "BC-33-AC-FF-FE-FA-58-01", "BC-33-AC-FF-FE-FA-58-02"
BREACHED = {"metrology_seal_intact": True, "cpa_boundary_intact": False}
DCC_USER = "90-B3-D5-1F-30-01-00-00"


@pytest.fixture
def ready(staffed: Staffed) -> Staffed:
    """D1 released and D2 destroyed, MAP-1's DCC User on record, the DUIS schema configured."""
    app = staffed.app
    app.settings = dataclasses.replace(app.settings, duis_schema=XSD)
    staffed.manifest("C-DUIS", [D1, D2])
    job = staffed.reset(staffed.receive(D1).id)
    job_steps.seal(app.uow, staffed.ben, job.id, "SL-0001")
    job_steps.release(app.uow, staffed.ben, job.id)
    gone = staffed.receive(D2, BREACHED)
    disposals.destroy(
        app.uow,
        staffed.sup,
        app.evidence_store(),
        gone.id,
        reference="DC-2026-0101",
        method="shred",
        site="Shredding bay 2",
        destroyed_on=datetime.now(UTC).date(),
        contact="+44 20 7946 0000",
        files=[b"\xff\xd8\xff\xe0 photo of the shredder output"],
    )
    duis_requests.set_dcc_user(app.uow, staffed.admin, "MAP-1", DCC_USER)
    return staffed


def test_a_batch_validates_reads_back_and_replays(ready: Staffed) -> None:
    app = ready.app
    independent = xmlschema.XMLSchema10(str(XSD), defuse="always")

    produced = duis_requests.produce_batch(
        app.uow, ready.stores, app.duis_schema(), app.evidence_store(), "MAP-1"
    )

    with zipfile.ZipFile(io.BytesIO(produced.content)) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    written = [n for n in files if n.endswith(".xml")]
    assert len(written) == 2
    for name in written:
        independent.validate(files[name].decode("utf-8"))
    assert sorted((r.device_id, r.service_reference) for r in produced.requests) == [
        (D1, "8.4"),
        (D2, "8.4"),
    ]
    for request in produced.requests:
        found, xml = duis_requests.request_file(app.uow, ready.auditor, request.request_id)
        assert xml == files[found.file_name]
    _, content = duis_requests.batch_file(
        app.uow, ready.auditor, app.evidence_store(), produced.batch.id
    )
    assert content == produced.content
    with pytest.raises(Conflict, match="no DUIS request is due"):
        duis_requests.produce_batch(
            app.uow, ready.stores, app.duis_schema(), app.evidence_store(), "MAP-1"
        )
    assert replay_check(app.database, app.facility.id).differences == []


def test_an_unconfigured_schema_says_how_to_configure_it(staffed: Staffed) -> None:
    with pytest.raises(Conflict, match="TRIAGE_DUIS_SCHEMA"):
        staffed.app.duis_schema()


def test_the_api_and_the_page_produce_and_download_for_whom_they_should(ready: Staffed) -> None:
    app = ready.app
    asset_owners.register(app.uow, ready.admin, "MAP-2", "Meter Assets Two")
    stores = enrol(app, ready.admin, "stella")
    for person, owner in (("owner1", "MAP-1"), ("owner2", "MAP-2")):
        operators.create_operator(
            app.uow, ready.admin, person, person, frozenset({Role.ASSET_OWNER}), owner
        )
    ours, theirs = enrol(app, ready.admin, "owner1"), enrol(app, ready.admin, "owner2")
    with TestClient(create_app(app)) as client:
        made = client.post(
            "/api/v1/duis/batches",
            json={"asset_owner": "MAP-1"},
            headers={"Authorization": f"Bearer {stores.token}"},
        )
        assert made.status_code == 201, made.text
        batch = made.json()
        assert [r["request_id"].split(":")[0] for r in batch["requests"]] == [DCC_USER] * 2
        refused = client.post(
            "/api/v1/duis/batches",
            json={"asset_owner": "MAP-1"},
            headers={"Authorization": f"Bearer {ours.token}"},
        )
        assert refused.status_code == 403
        got = client.get(
            f"/api/v1/duis/batches/{batch['id']}/zip",
            headers={"Authorization": f"Bearer {ours.token}"},
        )
        assert got.status_code == 200 and got.content.startswith(b"PK")
        number = batch["requests"][0]["request_id"]
        xml = client.get(
            f"/api/v1/duis/requests/{number}/xml",
            headers={"Authorization": f"Bearer {ours.token}"},
        )
        assert xml.status_code == 200 and b"<sr:Request" in xml.content
        for path in (
            f"/api/v1/duis/batches/{batch['id']}/zip",
            f"/api/v1/duis/requests/{number}/xml",
        ):
            other = client.get(path, headers={"Authorization": f"Bearer {theirs.token}"})
            assert other.status_code == 404, path
        listed = client.get(
            "/api/v1/duis/batches", headers={"Authorization": f"Bearer {theirs.token}"}
        )
        assert listed.json()["total"] == 0

        page = _signed_in(client, ready, "sup", "B1").get("/duis")
        assert page.status_code == 200
        link = re.search(r'href="(/duis/batches/[^"]+\.zip)"', page.text)
        assert link is not None, page.text
        assert client.get(link.group(1)).content == got.content
        again = client.post("/duis", data={"asset_owner": "MAP-1", "csrf_token": _csrf(page)})
        assert again.status_code == 409
        assert "no DUIS request is due for asset owner MAP-1" in again.text


def test_a_person_of_another_owner_gets_not_found(ready: Staffed) -> None:
    app = ready.app
    produced = duis_requests.produce_batch(
        app.uow, ready.stores, app.duis_schema(), app.evidence_store(), "MAP-1"
    )
    other = Caller.operator("o2", frozenset({Role.ASSET_OWNER}), asset_owner="MAP-2")
    with pytest.raises(NotFound):
        duis_requests.batch(app.uow, other, produced.batch.id)
