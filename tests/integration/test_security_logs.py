"""The device's own security log drives the tamper decision, on SQLite and PostgreSQL: read by
the tool from the simulated device under a read order, or uploaded by a supervisor; kept in the
evidence store; the replay check agrees with what was projected."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.gbcs_logs import clean_log
from tests.integration.conftest import CLEAN, Staffed, tool_headers
from tests.integration.test_threshold_pages import _signed_in
from tests.people import enrol
from triage.adapters.devices import scenarios
from triage.adapters.devices.simulated import SimulatedFleet
from triage.adapters.replay import replay_check
from triage.domain.lifecycle import JobState
from triage.domain.security_log_reading import SecurityLogReading
from triage.domain.work_order import WorkOrder
from triage.entrypoints.asgi import create_app
from triage.errors import InvalidInput
from triage.ledger.entry import format_time
from triage.services import intake, job_steps, security_log

D1, D2, D3 = "BC-33-AC-FF-FE-FA-57-01", "BC-33-AC-FF-FE-FA-57-02", "BC-33-AC-FF-FE-FA-57-03"


def _scanned(staffed: Staffed, device_id: str) -> str:
    scanned = intake.scan_device(staffed.app.uow, staffed.ben, device_id)
    assert scanned.job is not None, scanned.message
    return scanned.job.id


def _read_by_tool(staffed: Staffed, job_id: str) -> tuple[str, bytes]:
    """The bench's tool reads the device's log under a read order, as the agent does; returns
    the signed reading and the raw bytes the device gave."""
    app = staffed.app
    signed = security_log.request_read(app.uow, staffed.ben, job_id, "BENCH-1", app.signer_key())
    order = WorkOrder.open(signed, app.verifier_key())
    device = staffed.connector.attach(order.device_id)
    order.check("BENCH-1", device.device_id, datetime.now(UTC))
    raw = device.read_security_log()
    reading = SecurityLogReading(
        order.id, order.nonce, "BENCH-1", order.device_id, datetime.now(UTC), raw
    )
    return reading.sign(staffed.tool_key), raw


def test_the_devices_own_times_decide_and_the_decision_names_the_logs_digest(
    staffed: Staffed,
) -> None:
    app = staffed.app
    staffed.manifest("C-1", [D1, D2])
    SimulatedFleet.create(
        staffed.fleet_path,
        [
            scenarios.failing_battery(D1, gap=timedelta(days=5)),
            scenarios.failing_battery(D2, gap=timedelta(hours=2)),
        ],
    )
    decisions = {}
    for device_id in (D1, D2):
        job_id = _scanned(staffed, device_id)
        signed, raw = _read_by_tool(staffed, job_id)
        record = security_log.record_reading(app.uow, staffed.tool, app.evidence_store(), signed)
        assert record.sha256 == hashlib.sha256(raw).hexdigest()
        decisions[device_id] = (job_steps.inspect(app.uow, staffed.ben, job_id, CLEAN), raw)

    far, raw = decisions[D1]
    assert far.outcome.value == "supervisor_review"
    tamper_at = scenarios.DEFAULT_AT.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert any(
        r.rule == "unexplained-tamper-alert" and f"tamper detect at {tamper_at}" in r.text
        for r in far.reasons
    )
    near, _ = decisions[D2]
    assert near.outcome.value == "eligible"
    battery_at = (scenarios.DEFAULT_AT - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"low battery capacity at {battery_at}" in near.reasons[0].text

    decided = staffed.entries("device.decided")[0]
    sha256 = hashlib.sha256(raw).hexdigest()
    assert decided.data["security_log"] == {
        "source": "tool",
        "sha256": sha256,
        "use_case": "ECS35b",
    }
    # The raw log is in the evidence store, and reads back by the digest the decision names.
    job_id = decided.data["job_id"]
    kept = security_log.raw(app.uow, staffed.auditor, app.evidence_store(), job_id, sha256)
    assert kept == raw
    shown = security_log.for_job(app.uow, staffed.auditor, job_id)
    assert shown is not None and [e.code for e in shown.entries] == ["0x8F1F", "0x8F3F"]
    assert replay_check(app.database, app.facility.id).differences == []


def test_a_supervisors_upload_and_a_typed_log_are_recorded_and_replay_agrees(
    staffed: Staffed,
) -> None:
    app = staffed.app
    staffed.manifest("C-1", [D1, D2])
    first, second = _scanned(staffed, D1), _scanned(staffed, D2)
    # A read order nobody carried out is withdrawn when the device is inspected.
    security_log.request_read(app.uow, staffed.ben, first, "BENCH-1", app.signer_key())
    staffed.record_log(first, clean_log(D1).hex())
    assert job_steps.inspect(app.uow, staffed.ben, first, CLEAN).outcome.value == "eligible"
    assert job_steps.work_orders_for_tool(app.uow, staffed.tool) == []
    typed = {"reason": "log unreadable: optical port broken", "alerts": []}

    decision = job_steps.inspect(app.uow, staffed.ben, second, {**CLEAN, "typed_log": typed})

    assert decision.outcome.value == "supervisor_review"
    assert staffed.job(second).state is JobState.AWAITING_REVIEW
    assert staffed.entries("device.decided")[-1].data["security_log"]["source"] == "typed"
    assert replay_check(app.database, app.facility.id).differences == []


def test_a_reading_of_another_device_is_refused_and_nothing_is_recorded(
    staffed: Staffed,
) -> None:
    app = staffed.app
    staffed.manifest("C-1", [D1, D3])
    job_id = _scanned(staffed, D1)
    signed = security_log.request_read(app.uow, staffed.ben, job_id, "BENCH-1", app.signer_key())
    order = WorkOrder.open(signed, app.verifier_key())
    other = staffed.connector.attach(D3).read_security_log()
    reading = SecurityLogReading(order.id, order.nonce, "BENCH-1", D1, datetime.now(UTC), other)

    with pytest.raises(InvalidInput, match=f"comes from device {D3}"):
        security_log.record_reading(
            app.uow, staffed.tool, app.evidence_store(), reading.sign(staffed.tool_key)
        )

    assert staffed.entries("device.security_log_recorded") == []
    assert staffed.entries("tool.result_refused")[-1].subject.id == "BENCH-1"
    assert security_log.for_job(app.uow, staffed.auditor, job_id) is None
    assert replay_check(app.database, app.facility.id).differences == []


def test_the_log_travels_through_the_api_from_read_order_to_raw_bytes(staffed: Staffed) -> None:
    app = staffed.app
    client = TestClient(create_app(app))
    ben = {"Authorization": f"Bearer {enrol(app, staffed.admin, 'ben', bench='B1').token}"}
    sup = {"Authorization": f"Bearer {enrol(app, staffed.admin, 'sup').token}"}
    staffed.manifest("C-1", [D1, D2])
    SimulatedFleet.create(staffed.fleet_path, [scenarios.supplier_job(D1), scenarios.clean(D2)])
    job_id, other = _scanned(staffed, D1), _scanned(staffed, D2)
    assert client.get(f"/api/v1/jobs/{job_id}/security-log", headers=ben).status_code == 404

    ordered = client.post(
        f"/api/v1/jobs/{job_id}/security-log/read-orders", json={"tool_id": "BENCH-1"}, headers=ben
    )
    assert ordered.status_code == 201, ordered.text
    order = WorkOrder.open(ordered.json()["work_order"], app.verifier_key())
    device = staffed.connector.attach(order.device_id)
    raw = device.read_security_log()
    reading = SecurityLogReading(
        order.id, order.nonce, "BENCH-1", order.device_id, datetime.now(UTC), raw
    ).sign(staffed.tool_key)
    body = json.dumps({"reading": reading}).encode()
    path = "/api/v1/agent/security-logs"
    recorded = client.post(path, content=body, headers=tool_headers(staffed, path, body))
    assert recorded.status_code == 200, recorded.text
    sha256 = hashlib.sha256(raw).hexdigest()
    assert recorded.json()["sha256"] == sha256
    assert (recorded.json()["source"], recorded.json()["entries"]) == ("tool", 1)

    shown = client.get(f"/api/v1/jobs/{job_id}/security-log", headers=ben).json()
    assert [(e["code"], e["name"], e["alert_class"], e["at"]) for e in shown["entries"]] == [
        ("0x8F76", "terminal cover removed", "tamper", format_time(scenarios.DEFAULT_AT))
    ]
    got = client.get(f"/api/v1/jobs/{job_id}/security-log/{sha256}/raw", headers=ben)
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.content == raw

    # The supplier job entered with the inspection explains the terminal cover it opened.
    evidence = {**CLEAN, **scenarios.supplier_job(D1).tamper}
    decided = client.post(f"/api/v1/jobs/{job_id}/inspection", json=evidence, headers=ben)
    assert decided.status_code == 200, decided.text
    assert decided.json()["outcome"] == "eligible"
    # A bench operator may not upload a supplier's response; a supervisor may.
    upload = {"reference": "SR-77", "gbcs_hex": clean_log(D2).hex()}
    refused = client.post(f"/api/v1/jobs/{other}/security-log", json=upload, headers=ben)
    assert refused.status_code == 403
    uploaded = client.post(f"/api/v1/jobs/{other}/security-log", json=upload, headers=sup)
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["source_detail"] == {"uploaded_by": "sup", "reference": "SR-77"}
    typed = {**CLEAN, "typed_log": {"reason": "log unreadable: x", "alerts": []}}
    refused = client.post(f"/api/v1/jobs/{other}/inspection", json=typed, headers=ben)
    assert refused.status_code == 422
    assert "typed_log: the device's own log was read" in refused.json()["detail"]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_while_the_tool_has_not_read_the_log_the_bench_page_says_it_waits(
    staffed: Staffed,
) -> None:
    # The browser tests may find the tool quicker than the page; here no tool answers.
    staffed.manifest("C-9", [D3])
    job_id = _scanned(staffed, D3)
    security_log.request_read(
        staffed.app.uow, staffed.ben, job_id, "BENCH-1", staffed.app.signer_key()
    )
    with TestClient(create_app(staffed.app)) as client:
        page = _signed_in(client, staffed, "ben", "B1").get(f"/bench/jobs/{job_id}")
    assert page.status_code == 200
    assert 'id="log-waiting"' in page.text
    assert "The read order for BENCH-1 is waiting for the tool" in page.text
    assert 'id="log-source"' not in page.text
