"""Seeding for the workflow's use-case tests: manifests, consignments, a facility that may
triage, devices scanned in, all through the real use cases."""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tests.gbcs_logs import clean_log
from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers, people_seed, seals_seed
from tests.unit.services.assurance_seed import FakeFileStore
from triage.domain.caller import Caller
from triage.domain.consignment import ManifestRow
from triage.domain.device import DeviceId, DeviceType
from triage.domain.job import TriageJob
from triage.domain.reset_profile import EMPTY_DIGEST
from triage.domain.work_order import ResetOutcome, ToolResult, WorkOrder
from triage.ledger import note
from triage.services import assessment, asset_owners, intake, job_steps, security_log

SUPERVISOR = callers.supervisor()
STORES = callers.stores()


def device_id(n: int) -> str:
    """The canonical id of test device ``n``."""
    return DeviceId.from_int(0xBC33ACFFFE000000 + n).value


def device_fields(n: int, **changes: str) -> dict[str, str]:
    """A manifest row's fields for test device ``n`` (an electricity meter taken out)."""
    fields = {
        "device_id": device_id(n),
        "device_type": "ESME",
        "manufacturer": "Acme Meters",
        "model": "AM-1",
        "firmware_version": "1.0.4",
        "inventory_status": "Decommissioned",
        "asset_owner": "North Energy",
    }
    fields.update(changes)
    return fields


def manifest(*numbers: int, owner: str = "North Energy") -> list[ManifestRow]:
    """A manifest listing the test devices ``numbers`` of asset owner ``owner``, one a line
    from line 2 (after the header)."""
    return [
        ManifestRow(line, device_fields(n, asset_owner=owner))
        for line, n in enumerate(numbers, start=2)
    ]


def register_owners(factory: FakeUnitOfWorkFactory, *owners: str) -> None:
    """The asset owners ``owners`` registered by an administrator (those not registered yet):
    consignments are imported for registered owners only."""
    with factory(write=False) as uow:
        missing = [o for o in owners if uow.asset_owners.get(o) is None]
    for owner in missing:
        asset_owners.register(factory, callers.administrator(), owner, owner)


def import_consignment(
    factory: FakeUnitOfWorkFactory,
    *numbers: int,
    reference: str = "CN-1",
    owner: str = "North Energy",
) -> str:
    """A consignment of asset owner ``owner`` (registered if it is not) expecting the test
    devices ``numbers``; returns its id."""
    register_owners(factory, owner)
    rows = manifest(*numbers, owner=owner)
    report = intake.import_manifest(factory, STORES, reference, owner, rows)
    assert report.consignment_id is not None
    return report.consignment_id


def may_triage(factory: FakeUnitOfWorkFactory) -> None:
    """The provider is a SEC Party in commissioning mode: triage work may go ahead."""
    admin = callers.administrator()
    assessment.record_party(factory, admin, "PARTY-1", "Triage Ltd", ["Meter Asset Provider"])
    until = factory.clock.now() + timedelta(days=30)
    assessment.start_commissioning(factory, admin, until, "first test devices before approval")


def received(factory: FakeUnitOfWorkFactory, n: int, reference: str = "CN-1") -> TriageJob:
    """Test device ``n`` expected in a consignment of its own and scanned in: its job."""
    import_consignment(factory, n, reference=reference)
    scanned = intake.scan_device(factory, SUPERVISOR, device_id(n))
    assert scanned.job is not None, scanned.message
    return scanned.job


# -- the bench ------------------------------------------------------------------------------

FACILITY_SIGNER, FACILITY_VERIFIER = note.generate_key("unit-facility")
BENCH = "BENCH-1"
INTACT = {"metrology_seal_intact": True, "cpa_boundary_intact": True}
BREACHED = {"metrology_seal_intact": True, "cpa_boundary_intact": False}
METROLOGY_BROKEN = {"metrology_seal_intact": False, "cpa_boundary_intact": True}
OTHER_FINDING = {**INTACT, "other_findings": "a scratch across the display window"}


@dataclass(frozen=True)
class Bench:
    """A bench ready for work: its operator signed in there, and its tool with the key its
    agent signs results with."""

    operator: Caller
    tool: Caller
    tool_signer: str


def at_the_bench(factory: FakeUnitOfWorkFactory, operator_id: str = "op") -> Bench:
    """The facility may triage; a bench operator assigned to BENCH-1; tool T1 enrolled there."""
    may_triage(factory)
    people_seed.add_operator(factory, operator_id)
    people_seed.assign(factory, operator_id, BENCH)
    enrolled = people_seed.enrol_tool(factory, "T1", BENCH)
    return Bench(callers.bench_operator(operator_id, BENCH), Caller.tool("T1"), enrolled.signer_key)


_STORES: weakref.WeakKeyDictionary[FakeUnitOfWorkFactory, FakeFileStore] = (
    weakref.WeakKeyDictionary()
)


def evidence_store(factory: FakeUnitOfWorkFactory) -> FakeFileStore:
    """The evidence files of the facility ``factory`` stands for (in memory)."""
    return _STORES.setdefault(factory, FakeFileStore())


def log_recorded(factory: FakeUnitOfWorkFactory, job: TriageJob, log: bytes | None = None) -> None:
    """The device's security log (by default a clean one) uploaded by a supervisor."""
    raw = clean_log(job.device_id) if log is None else log
    store = evidence_store(factory)
    security_log.upload(factory, SUPERVISOR, store, job.id, raw, "SR-6.13-1")


def inspected(
    factory: FakeUnitOfWorkFactory, bench: Bench, n: int, evidence: Mapping[str, Any] = INTACT
) -> str:
    """Test device ``n`` received, its clean security log recorded, and inspected at the bench;
    returns its job id."""
    job = received(factory, n, reference=f"CN-{n}")
    log_recorded(factory, job)
    job_steps.inspect(factory, bench.operator, job.id, evidence)
    return job.id


def authorise(factory: FakeUnitOfWorkFactory, bench: Bench, job_id: str) -> WorkOrder:
    """A work order for the bench's tool to reset the job's device, as the tool reads it."""
    signed = job_steps.authorise_reset(factory, bench.operator, job_id, "T1", FACILITY_SIGNER)
    return WorkOrder.open(signed, FACILITY_VERIFIER)


def read_back(
    factory: FakeUnitOfWorkFactory, verified: bool = True
) -> tuple[dict[str, str], dict[str, str]]:
    """Digests of an ESME's reset profile items before and after a reset: every item cleared
    or kept as the profile says, or (not ``verified``) nothing cleared at all."""
    profile = factory.packaged.reset_profiles().for_type(DeviceType.ESME)
    before = {item: hashlib.sha256(item.encode()).hexdigest() for item in profile.items}
    if not verified:
        return before, dict(before)
    after = {item: EMPTY_DIGEST if item in profile.clear else before[item] for item in before}
    return before, after


def tool_result(
    factory: FakeUnitOfWorkFactory,
    bench: Bench,
    order: WorkOrder,
    outcome: ResetOutcome = ResetOutcome.COMPLETED,
    verified: bool = True,
    completed_at: datetime | None = None,
) -> str:
    """The tool's signed result for ``order``."""
    before, after = read_back(factory, verified)
    return ToolResult(
        work_order_id=order.id,
        nonce=order.nonce,
        tool_id=order.tool_id,
        device_id=order.device_id,
        outcome=outcome,
        before=before,
        after=after,
        detail="reset by the test tool",
        completed_at=completed_at or factory.clock.now(),
    ).sign(bench.tool_signer)


def verified(factory: FakeUnitOfWorkFactory, bench: Bench, n: int) -> str:
    """Test device ``n`` inspected eligible, reset and verified; returns its job id."""
    job_id = inspected(factory, bench, n)
    order = authorise(factory, bench, job_id)
    job_steps.record_tool_result(factory, bench.tool, tool_result(factory, bench, order))
    return job_id


def issued_seal(factory: FakeUnitOfWorkFactory, operator_id: str, serial: str) -> str:
    """A seal received into stores and issued to ``operator_id``; returns its serial."""
    seals_seed.receive(factory, serial, serial)
    seals_seed.issue(factory, operator_id, serial)
    return serial
