"""Read Inventory responses (DUIS 8.2) in and the SMI gate, on both databases, through the API
and the web page: the file kept and its devices recorded, a difference from the manifest raised
as an exception, a Commissioned device refused at the bench with the DCC's reason, the refused
statuses changed by an administrator, the readings scoped to the device's asset owner, and
replay agreeing afterwards."""

from __future__ import annotations

import dataclasses
import html
import re

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.duis_responses import (
    BILLION_LAUGHS,
    DUIS_XSD,
    EXTERNAL_DTD,
    READ_INVENTORY_REQUEST,
    XXE,
    Listed,
    read_inventory,
    read_security_log,
)
from tests.gbcs_logs import clean_log
from tests.integration.conftest import Staffed
from tests.integration.test_threshold_pages import _csrf, _signed_in
from tests.people import enrol
from triage.adapters.replay import replay_check
from triage.domain.roles import Role
from triage.entrypoints.asgi import create_app
from triage.errors import Conflict
from triage.services import asset_owners, intake, inventory, operators

D1, D2 = "BC-33-AC-FF-FE-FA-59-01", "BC-33-AC-FF-FE-FA-59-02"


def _listed(device_id: str, status: str, **changes: str) -> Listed:
    fields = {"manufacturer": "Acme", "model": "M1", "firmware_version": "1.0", **changes}
    return Listed(device_id, "ESME", status, smets_chts_version=None, **fields)


def _done(client: TestClient, posted: httpx.Response) -> str:
    """The page a form's success redirects to, with its done message (the cookie is Secure:
    the test client does not send it back over plain HTTP by itself)."""
    assert posted.status_code == 303, posted.text
    client.cookies.set("triage_done", posted.cookies["triage_done"])
    shown = client.get(posted.headers["location"])
    found = re.search(r'<p class="done-message" role="status">([^<]*)</p>', shown.text)
    assert found is not None, shown.text
    return html.unescape(found.group(1))


@pytest.fixture
def configured(staffed: Staffed) -> Staffed:
    staffed.app.settings = dataclasses.replace(staffed.app.settings, duis_schema=DUIS_XSD)
    return staffed


def test_an_82_response_through_the_api_is_kept_compared_and_gates_the_bench(
    configured: Staffed,
) -> None:
    app = configured.app
    configured.manifest("C-SMI", [D1, D2])
    stores = enrol(app, configured.admin, "stella")
    auditor = enrol(app, configured.admin, "audrey")
    xml = read_inventory(
        _listed(D1, "Commissioned"), _listed(D2, "Decommissioned", model="M2"), counter=4242
    )
    with TestClient(create_app(app)) as client:
        refused = client.post(
            "/api/v1/inventory/responses",
            content=xml,
            headers={"Authorization": f"Bearer {auditor.token}"},
        )
        assert refused.status_code == 403
        done = client.post(
            "/api/v1/inventory/responses?reference=DCC-1",
            content=xml,
            headers={"Authorization": f"Bearer {stores.token}", "Content-Type": "application/xml"},
        )
        assert done.status_code == 201, done.text
        outcome = done.json()
        readings = client.get(
            f"/api/v1/devices/{D1}/inventory", headers={"Authorization": f"Bearer {auditor.token}"}
        )
    assert [d["recorded"] for d in outcome["devices"]] == [True, True]
    one, two = outcome["devices"]
    assert "says Commissioned: it is live at a premises" in one["refusal"]
    assert two["mismatches"] == ["model: manifest 'M1', DCC 'M2'"]
    assert app.evidence_store().read(outcome["sha256"]) == xml
    assert readings.status_code == 200
    assert [(r["status"], r["response_id"]) for r in readings.json()] == [
        ("Commissioned", outcome["response_id"])
    ]
    with app.uow(write=False) as uow:
        raised = uow.exceptions.get(two["exception_ids"][0])
    assert raised is not None and raised.kind == "inventory_mismatch"

    with pytest.raises(Conflict) as stopped:
        intake.scan_device(app.uow, configured.ben, D1)
    assert str(stopped.value).startswith(
        f"device {D1}: the DCC's Read Inventory response {outcome['response_id']} of "
        "2026-12-01T10:15:00.000000Z says Commissioned: it is live at a premises"
    )
    assert intake.scan_device(app.uow, configured.ben, D2).created
    assert replay_check(app.database, app.facility.id).differences == []


def test_the_gate_follows_the_dccs_latest_answer_not_the_last_file_imported(
    configured: Staffed,
) -> None:
    app = configured.app
    configured.manifest("C-LATE", [D1])
    store = app.evidence_store()
    newer = read_inventory(_listed(D1, "Commissioned"), counter=7, at="2026-12-02T09:00:00Z")
    older = read_inventory(_listed(D1, "Decommissioned"), counter=6, at="2026-11-20T09:00:00Z")
    for xml in (newer, older):
        inventory.import_response(app.uow, configured.stores, store, xml, None, None)

    with pytest.raises(Conflict, match=r":7 of 2026-12-02T09:00:00.000000Z says Commissioned"):
        intake.scan_device(app.uow, configured.ben, D1)
    assert replay_check(app.database, app.facility.id).differences == []


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (BILLION_LAUGHS, "a DTD/entity declaration is refused"),
        (XXE, "a DTD/entity declaration is refused"),
        (EXTERNAL_DTD, "a DTD/entity declaration is refused"),
        (b"<sr:Response", "not well-formed XML at line 1"),
        (b"", "the file is empty"),
    ],
    ids=["bomb", "xxe", "external-dtd", "malformed", "empty"],
)
def test_hostile_or_broken_xml_is_refused_clearly_and_nothing_is_recorded(
    configured: Staffed, xml: bytes, message: str
) -> None:
    app = configured.app
    configured.manifest("C-SMI", [D1])
    stores = enrol(app, configured.admin, "stella")
    before = len(configured.entries("inventory.response_imported"))
    with TestClient(create_app(app)) as client:
        refused = client.post(
            "/api/v1/inventory/responses",
            content=xml,
            headers={"Authorization": f"Bearer {stores.token}"},
        )
    assert refused.status_code == 422, refused.text
    assert message in refused.json()["detail"]
    assert len(configured.entries("inventory.response_imported")) == before
    assert not any((app.settings.data_dir / "evidence").rglob("*"))


def test_the_inventory_page_imports_sets_the_policy_and_the_device_page_shows_the_refusal(
    configured: Staffed,
) -> None:
    app = configured.app
    configured.manifest("C-SMI", [D1])
    enrol(app, configured.admin, "admin2", [Role.ADMINISTRATOR])
    with TestClient(create_app(app)) as office, TestClient(create_app(app)) as admin:
        _signed_in(office, configured, "stella", "")
        page = office.get("/inventory")
        assert page.status_code == 200 and "Import a Read Inventory response" in page.text
        template = office.post(
            "/inventory/responses",
            data={"csrf_token": _csrf(page)},
            files={"response": ("8.2.xml", READ_INVENTORY_REQUEST.read_bytes(), "text/xml")},
        )
        assert template.status_code == 422
        assert "DUIS request (sr:Request), not a response" in template.text
        done = _done(
            office,
            office.post(
                "/inventory/responses",
                data={"csrf_token": _csrf(page), "reference": "DCC-7"},
                files={
                    "response": ("8.2.xml", read_inventory(_listed(D1, "Suspended")), "text/xml")
                },
                follow_redirects=False,
            ),
        )
        assert "1 device(s) recorded" in done
        assert "Suspended" in office.get(f"/devices/{D1}").text

        _signed_in(admin, configured, "admin2", "")
        policy = admin.get("/inventory")
        changed = admin.post(
            "/inventory/smi-policy",
            data={"csrf_token": _csrf(policy), "refuse-Suspended": "on"},
            follow_redirects=False,
        )
        assert "Triage is now refused in: Suspended" in _done(admin, changed)
        device = office.get(f"/devices/{D1}")
    assert 'id="smi-refusal"' in device.text and "says Suspended" in device.text
    assert [e.data["refused"] for e in configured.entries("inventory.smi_policy_set")] == [
        ["Suspended"]
    ]
    assert replay_check(app.database, app.facility.id).differences == []


def test_an_asset_owner_reads_only_its_own_devices_readings(configured: Staffed) -> None:
    app = configured.app
    configured.manifest("C-SMI", [D1])
    stores = enrol(app, configured.admin, "stella")
    asset_owners.register(app.uow, configured.admin, "MAP-2", "Meter Assets Two")
    for person, owner in (("owner1", "MAP-1"), ("owner2", "MAP-2")):
        operators.create_operator(
            app.uow, configured.admin, person, person, frozenset({Role.ASSET_OWNER}), owner
        )
    ours, theirs = enrol(app, configured.admin, "owner1"), enrol(app, configured.admin, "owner2")
    with TestClient(create_app(app)) as client:
        client.post(
            "/api/v1/inventory/responses",
            content=read_inventory(_listed(D1, "Decommissioned")),
            headers={"Authorization": f"Bearer {stores.token}"},
        )
        path = f"/api/v1/devices/{D1}/inventory"
        mine = client.get(path, headers={"Authorization": f"Bearer {ours.token}"})
        other = client.get(path, headers={"Authorization": f"Bearer {theirs.token}"})
    assert mine.status_code == 200 and len(mine.json()) == 1
    assert other.status_code == 404


def test_a_duis_security_log_response_is_recorded_with_its_response_id(
    configured: Staffed,
) -> None:
    app = configured.app
    configured.manifest("C-SMI", [D1])
    job = intake.scan_device(app.uow, configured.ben, D1).job
    assert job is not None
    configured.record_log(job.id, read_security_log(clean_log(D1, "ESME"), counter=613))
    (recorded,) = configured.entries("device.security_log_recorded")
    assert recorded.data["source"]["duis_response_id"].endswith(":613")
