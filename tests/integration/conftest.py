"""A staffed facility: operators in each role, an enrolled tool, a fleet of simulated devices."""

from __future__ import annotations

import base64
import dataclasses
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SetUp
from tests.gbcs_logs import clean_log
from tests.people_benches import assign_bench
from tests.unit.fakes import FakeClock
from triage import bootstrap
from triage.adapters.devices.base import ResetFailed
from triage.adapters.devices.simulated import DeviceSpec, SimulatedConnector, SimulatedFleet
from triage.domain import agent_request
from triage.domain.agent_request import request_message
from triage.domain.caller import Caller
from triage.domain.consignment import ManifestRow
from triage.domain.job import TriageJob
from triage.domain.roles import Role
from triage.domain.tool import tool_key_name
from triage.domain.work_order import ResetOutcome, ToolResult, WorkOrder
from triage.ledger import note
from triage.ledger.entry import Entry, format_time
from triage.services import (
    assessment,
    asset_owners,
    intake,
    job_steps,
    operators,
    seals,
    security_log,
    tools,
)

CLEAN = {"metrology_seal_intact": True, "cpa_boundary_intact": True}


def move_clock(monkeypatch: pytest.MonkeyPatch, app: bootstrap.App, at: datetime) -> FakeClock:
    """Give the app's unit-of-work factory a clock standing at ``at`` (until the test ends):
    every use case it serves takes its time from it."""
    moved = FakeClock(at)
    monkeypatch.setattr(app.uow, "clock", moved)
    return moved


@dataclass
class Staffed:
    """Everything a service-level test needs, with shortcuts for the usual steps."""

    app: bootstrap.App
    admin: Caller
    sup: Caller
    sup2: Caller
    ben: Caller
    auditor: Caller
    stores: Caller
    tool: Caller
    tool_key: str
    fleet_path: Path
    connector: SimulatedConnector

    def manifest(self, reference: str, device_ids: list[str], device_type: str = "ESME") -> str:
        rows = [
            ManifestRow(
                i + 2,
                {
                    "device_id": d,
                    "device_type": device_type,
                    "manufacturer": "Acme",
                    "model": "M1",
                    "firmware_version": "1.0",
                    "inventory_status": "Decommissioned",
                    "asset_owner": "MAP-1",
                },
            )
            for i, d in enumerate(device_ids)
        ]
        SimulatedFleet(self.fleet_path).add_devices(DeviceSpec(d, device_type) for d in device_ids)
        report = intake.import_manifest(self.app.uow, self.sup, reference, "MAP-1", rows)
        assert report.consignment_id is not None
        return report.consignment_id

    def receive(self, device_id: str, evidence: dict[str, Any] | None = None) -> TriageJob:
        scanned = intake.scan_device(self.app.uow, self.ben, device_id)
        assert scanned.job is not None, scanned.message
        self.record_log(scanned.job.id)
        job_steps.inspect(self.app.uow, self.ben, scanned.job.id, evidence or CLEAN)
        job = self.job(scanned.job.id)
        return job

    def record_log(self, job_id: str, log: bytes | str | None = None) -> str:
        """The device's security log (by default a clean one) uploaded by a supervisor, as the
        supplier's 6.13 response; returns its sha256."""
        with self.app.uow(write=False) as uow:
            job = uow.jobs.get(job_id)
            assert job is not None
            device = uow.devices.get(job.device_id)
            assert device is not None
        raw = clean_log(job.device_id, device.type.name) if log is None else log
        store = self.app.evidence_store()
        return security_log.upload(self.app.uow, self.sup, store, job_id, raw, "SR-1").sha256

    def entries(self, entry_type: str) -> list[Entry]:
        """Every ledger entry of ``entry_type``, oldest first."""
        found = []
        with self.app.uow(write=False) as uow:
            for batch in uow.ledger.storage.read_entries(0, 2**62):
                for _, data in batch:
                    entry = Entry.from_bytes(data)
                    if entry.type == entry_type:
                        found.append(entry)
        return found

    def ledger_size(self) -> int:
        with self.app.uow(write=False) as uow:
            return uow.ledger.log.head().size

    def job(self, job_id: str) -> TriageJob:
        with self.app.uow(write=False) as uow:
            found = uow.jobs.get(job_id)
        assert found is not None
        return found

    def reset(
        self, job_id: str, tamper: Callable[[ToolResult], ToolResult] | None = None
    ) -> TriageJob:
        """Issue a work order and carry it out on the simulated device, as the agent would."""
        signed = job_steps.authorise_reset(
            self.app.uow, self.ben, job_id, self.tool.id, self.app.signer_key()
        )
        return job_steps.record_tool_result(self.app.uow, self.tool, self.carry_out(signed, tamper))

    def carry_out(
        self, signed: str, tamper: Callable[[ToolResult], ToolResult] | None = None
    ) -> str:
        order = WorkOrder.open(signed, self.app.verifier_key())
        device = self.connector.attach(order.device_id)
        before = device.read_state()
        outcome, detail = ResetOutcome.COMPLETED, "done"
        try:
            device.factory_reset(signed)
        except ResetFailed as exc:
            outcome, detail = ResetOutcome.FAILED, str(exc)
        result = ToolResult(
            order.id,
            order.nonce,
            self.tool.id,
            order.device_id,
            outcome,
            before,
            device.read_state(),
            detail,
            datetime.now(UTC),
        )
        return (tamper(result) if tamper else result).sign(self.tool_key)


def tool_headers(
    staffed: Staffed, path: str, body: bytes, nonce: str | None = None
) -> dict[str, str]:
    """The headers of a POST to ``path`` signed by the bench's tool, as the agent sends it
    (with a new nonce unless ``nonce`` is given)."""
    sent = format_time(datetime.now(UTC))
    nonce = nonce or secrets.token_hex(16)
    message = request_message("POST", path, sent, nonce, body)
    return {
        agent_request.HEADER_TOOL: "BENCH-1",
        agent_request.HEADER_TIME: sent,
        agent_request.HEADER_NONCE: nonce,
        agent_request.HEADER_SIGNATURE: base64.b64encode(
            note.sign_message(message, staffed.tool_key)
        ).decode(),
        "Content-Type": "application/json",
    }


def _staff(app: bootstrap.App) -> tuple[dict[str, Caller], str]:
    """Operators in each role, a tool at bench B1, a SEC Party in commissioning, an asset
    owner and seals: the facility every ``staffed`` test starts from. Returns the callers by
    operator id and the tool's signing key."""
    uow = app.uow
    system = Caller.system("test")
    made = {}
    for operator_id, role in [
        ("admin", Role.ADMINISTRATOR),
        ("sup", Role.SUPERVISOR),
        ("sup2", Role.SUPERVISOR),
        ("ben", Role.BENCH_OPERATOR),
        ("audrey", Role.AUDITOR),
        ("stella", Role.STORES),
    ]:
        operators.create_operator(uow, system, operator_id, operator_id.title(), frozenset({role}))
        caller = operators.operator_caller(uow, operator_id)
        # Those who run triage are signed in at bench B1, where tool BENCH-1 sits.
        bench_ = "B1" if role in (Role.SUPERVISOR, Role.BENCH_OPERATOR) else None
        made[operator_id] = dataclasses.replace(caller, bench=bench_)
    assign_bench(uow, ["sup", "sup2", "ben"], "B1")
    signer, verifier = note.generate_key(tool_key_name("BENCH-1"))
    tools.enrol_tool(uow, made["admin"], "BENCH-1", "B1", verifier)
    # Triage work needs a SEC Party and an approval, or commissioning mode (as here).
    assessment.record_party(uow, made["admin"], "TFP-1", "Test Triage Ltd", ["Other SEC Party"])
    # Consignments are imported for registered asset owners only.
    asset_owners.register(uow, made["admin"], "MAP-1", "Meter Assets One")
    assessment.start_commissioning(
        uow, made["admin"], datetime.now(UTC) + timedelta(days=30), "test devices before the FUSA"
    )
    # Stores has seals SL-0001..SL-0100 in STORE-A; ben holds 0001-0050 and sup 0051-0060.
    seals.receive_batch(
        uow,
        made["stella"],
        supplier="Acme Seals",
        delivery_reference="DN-1",
        iso_class="H",
        class_description=None,
        store="STORE-A",
        first="SL-0001",
        last="SL-0100",
    )
    seals.issue(uow, made["stella"], "ben", first="SL-0001", last="SL-0050")
    seals.issue(uow, made["stella"], "sup", first="SL-0051", last="SL-0060")
    return made, signer


@pytest.fixture
def facility_set_up(request: pytest.FixtureRequest) -> SetUp | None:
    """A test that asks for ``staffed`` gets its facility staffed by ``_staff``: staffed once
    per test process, backend and day, then copied for each test (``tests/conftest.py``,
    ``Facilities``)."""
    return SetUp("staffed", _staff) if "staffed" in request.fixturenames else None


@pytest.fixture
def staffed(app: bootstrap.App, facility_set_up: SetUp | None, tmp_path: Path) -> Staffed:
    assert facility_set_up is not None and facility_set_up.value is not None
    made, signer = facility_set_up.value
    fleet_path = tmp_path / "fleet.json"
    SimulatedFleet.create(fleet_path, [])
    return Staffed(
        app=app,
        admin=made["admin"],
        sup=made["sup"],
        sup2=made["sup2"],
        ben=made["ben"],
        auditor=made["audrey"],
        stores=made["stella"],
        tool=Caller.tool("BENCH-1"),
        tool_key=signer,
        fleet_path=fleet_path,
        connector=SimulatedConnector(fleet_path, app.verifier_key(), "BENCH-1"),
    )
