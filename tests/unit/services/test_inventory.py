"""DUIS 8.2 Read Inventory responses in, and the SMI gate: what the DCC says of a device is
recorded with its file, compared with the manifest, and stops the triage of a device live at a
premises, with the reason."""

from __future__ import annotations

import pytest

from tests.duis_responses import (
    READ_INVENTORY_REQUEST,
    XXE,
    Listed,
    XsdValidator,
    read_inventory,
    read_security_log,
)
from tests.gbcs_logs import clean_log
from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import workflow_seed
from tests.unit.services.callers import (
    administrator,
    bench_operator,
    stores,
    supervisor,
)
from triage.domain.caller import Caller
from triage.domain.consignment import ManifestRow
from triage.domain.device import InventoryStatus
from triage.domain.roles import Role
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.services import intake, inventory, job_steps, security_log

ONE = workflow_seed.device_id(1)
TWO = workflow_seed.device_id(2)
STRANGER = "00-DB-12-34-56-78-90-FF"


def _owner_person(owner_id: str) -> Caller:
    return Caller.operator("o.person", frozenset({Role.ASSET_OWNER}), asset_owner=owner_id)


def _listed(device_id: str, status: str = "Decommissioned", **changes: str | None) -> Listed:
    fields: dict[str, str | None] = {
        "device_type": "ESME",
        "manufacturer": "Acme Meters",
        "model": "AM-1",
        "firmware_version": "1.0.4",
        "smets_chts_version": None,
        **changes,
    }
    return Listed(device_id, status=status, **fields)  # type: ignore[arg-type]


def _import(factory: FakeUnitOfWorkFactory, xml: bytes) -> inventory.InventoryImport:
    store = workflow_seed.evidence_store(factory)
    return inventory.import_response(factory, stores(), store, xml, XsdValidator(), "DCC-REF-1")


def test_a_response_at_intake_is_kept_and_recorded_device_by_device(
    factory: FakeUnitOfWorkFactory,
) -> None:
    consignment_id = workflow_seed.import_consignment(factory, 1, 2)
    xml = read_inventory(_listed(ONE), _listed(TWO), _listed(STRANGER))
    assert XsdValidator().is_valid(xml)

    done = _import(factory, xml)

    assert workflow_seed.evidence_store(factory).files == {done.sha256: xml}
    assert [(d.device_id, d.recorded) for d in done.devices] == [
        (ONE, True),
        (TWO, True),
        (STRANGER, False),
    ]
    assert done.not_held == [STRANGER]
    types = [e.type for e in factory.entries()[-3:]]
    assert types == [
        "inventory.response_imported",
        "device.inventory_read",
        "device.inventory_read",
    ]
    head = factory.entries()[-3]
    assert head.data["sha256"] == done.sha256 and head.data["not_held"] == [STRANGER]
    assert head.data["reference"] == "DCC-REF-1"
    (reading,) = inventory.readings(factory, supervisor(), ONE)
    assert (reading.status, reading.consignment_id, reading.job_id) == (
        InventoryStatus.DECOMMISSIONED,
        consignment_id,
        None,
    )
    assert reading.response_id == done.response_id and reading.sha256 == done.sha256


def test_each_difference_from_the_manifest_is_an_exception_naming_both_values(
    factory: FakeUnitOfWorkFactory,
) -> None:
    workflow_seed.may_triage(factory)
    job = workflow_seed.received(factory, 1)
    xml = read_inventory(_listed(ONE, "Withdrawn", device_type="GSME", model="AM-2"))

    done = _import(factory, xml)

    (outcome,) = done.devices
    assert outcome.where == f"job {job.id}"
    raised = [e for e in factory.entries() if e.type == "exception.raised"]
    assert [e.data["kind"] for e in raised] == ["inventory_mismatch"] * 3
    assert [e.data["detail"] for e in raised] == [
        f"device_type: the manifest says ESME, the DCC's Read Inventory response "
        f"{done.response_id} says GSME",
        f"model: the manifest says 'AM-1', the DCC's Read Inventory response {done.response_id} "
        "says 'AM-2'",
        f"inventory_status: the manifest says 'Decommissioned', the DCC's Read Inventory "
        f"response {done.response_id} says 'Withdrawn'",
    ]
    assert list(outcome.exception_ids) == [e.data["exception_id"] for e in raised]


def test_an_82_commissioned_stops_the_triage_with_the_dccs_reason(
    factory: FakeUnitOfWorkFactory,
) -> None:
    bench = workflow_seed.at_the_bench(factory)
    job = workflow_seed.received(factory, 1)
    workflow_seed.log_recorded(factory, job)

    done = _import(factory, read_inventory(_listed(ONE, "Commissioned")))

    assert done.devices[0].refusal is not None
    with pytest.raises(Conflict) as refused:
        job_steps.inspect(factory, bench.operator, job.id, workflow_seed.INTACT)
    assert str(refused.value) == (
        f"device {ONE}: the DCC's Read Inventory response {done.response_id} of "
        "2026-12-01T10:15:00.000000Z says Commissioned: it is live at a premises; the facility "
        "refuses triage of devices InstalledNotCommissioned, Commissioned in the Smart Metering "
        "Inventory"
    )


def test_an_older_response_imported_later_does_not_lift_the_gate(
    factory: FakeUnitOfWorkFactory,
) -> None:
    """The gate follows the DCC's latest answer, not the last file imported: a stale
    Decommissioned found in someone's mail cannot clear a device the DCC says is live."""
    workflow_seed.may_triage(factory)
    workflow_seed.import_consignment(factory, 1)
    _import(
        factory, read_inventory(_listed(ONE, "Commissioned"), counter=2, at="2026-12-02T09:00:00Z")
    )
    _import(factory, read_inventory(_listed(ONE), counter=1, at="2026-11-20T09:00:00Z"))

    with pytest.raises(Conflict, match=r":2 of 2026-12-02T09:00:00.000000Z says Commissioned"):
        intake.scan_device(factory, supervisor(), ONE)
    # A newer answer does.
    _import(factory, read_inventory(_listed(ONE), counter=3, at="2026-12-03T09:00:00Z"))
    assert intake.scan_device(factory, supervisor(), ONE).created


def test_a_device_the_dcc_says_is_installed_is_not_scanned_in(
    factory: FakeUnitOfWorkFactory,
) -> None:
    workflow_seed.may_triage(factory)
    workflow_seed.import_consignment(factory, 1)
    _import(factory, read_inventory(_listed(ONE, "InstalledNotCommissioned")))
    before = len(factory.entries())

    with pytest.raises(Conflict, match="says InstalledNotCommissioned: it is installed"):
        intake.scan_device(factory, supervisor(), ONE)

    assert len(factory.entries()) == before


def test_the_refused_statuses_are_data_a_policy_manager_sets(
    factory: FakeUnitOfWorkFactory,
) -> None:
    workflow_seed.may_triage(factory)
    with pytest.raises(PermissionDenied):
        inventory.set_smi_policy(factory, supervisor(), ["Commissioned"])
    with pytest.raises(InvalidInput) as bad:
        inventory.set_smi_policy(factory, administrator(), ["Commissioned", "NotApplicable"])
    assert bad.value.field == "refuse" and "DUIS 5.4 has no NotApplicable" in str(bad.value)

    assert inventory.set_smi_policy(factory, administrator(), ["suspended"]) == ["Suspended"]

    assert inventory.smi_policy(factory, supervisor()) == ["Suspended"]
    assert factory.entries()[-1].type == "inventory.smi_policy_set"
    rows = [
        ManifestRow(2, workflow_seed.device_fields(1, inventory_status="Suspended")),
        ManifestRow(3, workflow_seed.device_fields(2, inventory_status="Commissioned")),
    ]
    workflow_seed.register_owners(factory, "North Energy")
    report = intake.import_manifest(factory, stores(), "CN-9", "North Energy", rows, True)
    assert [(p.line, p.field) for p in report.problems] == [(2, "inventory_status")]
    assert "the manifest says Suspended" in report.problems[0].problem
    assert intake.scan_device(factory, supervisor(), TWO).created


def test_a_response_that_is_not_a_successful_read_inventory_records_nothing(
    factory: FakeUnitOfWorkFactory,
) -> None:
    workflow_seed.import_consignment(factory, 1)
    before = len(factory.entries())
    cases = [
        (read_inventory(code="E3"), "the DCC answered E3"),
        (READ_INVENTORY_REQUEST.read_bytes(), r"DUIS request \(sr:Request\), not a response"),
        (XXE, "a DTD/entity declaration is refused"),
        (
            read_inventory(_listed(ONE)).replace(b' schemaVersion="5.4"', b""),
            "not valid against the DUIS schema: /sr:Response",
        ),
    ]
    for xml, message in cases:
        with pytest.raises(InvalidInput, match=message) as refused:
            _import(factory, xml)
        assert refused.value.field == "response"
    assert len(factory.entries()) == before
    assert workflow_seed.evidence_store(factory).files == {}


def test_a_response_naming_no_device_held_or_imported_twice_is_refused(
    factory: FakeUnitOfWorkFactory,
) -> None:
    workflow_seed.import_consignment(factory, 1)
    with pytest.raises(Conflict, match="names no device the facility holds"):
        _import(factory, read_inventory(_listed(STRANGER)))
    xml = read_inventory(_listed(ONE))
    _import(factory, xml)
    with pytest.raises(Conflict, match="imported already"):
        _import(factory, xml)
    with pytest.raises(PermissionDenied):
        inventory.import_response(
            factory, bench_operator(), workflow_seed.evidence_store(factory), xml
        )


def test_an_asset_owner_reads_its_own_devices_readings_only(
    factory: FakeUnitOfWorkFactory,
) -> None:
    workflow_seed.may_triage(factory)
    workflow_seed.received(factory, 1)
    _import(factory, read_inventory(_listed(ONE)))

    assert len(inventory.readings(factory, _owner_person("North Energy"), ONE)) == 1
    with pytest.raises(NotFound):
        inventory.readings(factory, _owner_person("South Power"), ONE)
    shown = inventory.overview(factory, supervisor())
    assert [r.device_id for r in shown.recent] == [ONE]
    assert (shown.refused, shown.is_default) == (["InstalledNotCommissioned", "Commissioned"], True)


def test_a_duis_read_security_log_response_feeds_the_security_log_evidence(
    factory: FakeUnitOfWorkFactory,
) -> None:
    workflow_seed.may_triage(factory)
    job = workflow_seed.received(factory, 1)
    store = workflow_seed.evidence_store(factory)
    gbcs = clean_log(ONE)
    for wrong, message in [
        (read_inventory(_listed(ONE)), "a DUIS response to service request 8.2, not a 6.13"),
        (read_security_log(gbcs).replace(b"I0", b"E3"), "the DCC answered E3"),
        (XXE, "a DTD/entity declaration is refused"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            security_log.upload(factory, supervisor(), store, job.id, wrong, "SR-1")

    record = security_log.upload(
        factory, supervisor(), store, job.id, read_security_log(gbcs, counter=77), "SR-1"
    )

    assert store.files[record.sha256] == gbcs  # the GBCS bytes are the evidence
    assert record.source_detail["duis_response_id"] == (
        "90-B3-D5-1F-30-00-00-02:90-B3-D5-1F-30-01-00-00:77"
    )
    job_two = workflow_seed.received(factory, 2, reference="CN-2")
    kept = security_log.upload(
        factory, supervisor(), store, job_two.id, clean_log(TWO).hex(), "SR-2"
    )
    assert "duis_response_id" not in kept.source_detail
