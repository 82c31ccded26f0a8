"""Intake on the fake unit of work: manifests, scanning devices in, unexpected devices,
closing consignments."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers
from tests.unit.services.disposal_seed import DESTRUCTION
from tests.unit.services.workflow_seed import (
    BREACHED,
    STORES,
    SUPERVISOR,
    at_the_bench,
    device_fields,
    device_id,
    import_consignment,
    inspected,
    manifest,
    may_triage,
    register_owners,
)
from triage.domain.consignment import ConsignmentStatus, ManifestRow
from triage.domain.lifecycle import JobState
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.ledger.entry import Entry
from triage.services import intake, job_steps
from triage.services.views import consignments


@pytest.fixture
def factory() -> FakeUnitOfWorkFactory:
    """A facility with the asset owners North Energy and South Gas registered (consignments are
    imported for registered owners only)."""
    made = FakeUnitOfWorkFactory()
    register_owners(made, "North Energy", "South Gas")
    return made


def _recorded(factory: FakeUnitOfWorkFactory) -> list[Entry]:
    """What the test recorded: the ledger after the owners' registration."""
    return [e for e in factory.entries() if not e.type.startswith("asset_owner.")]


def _detail(factory: FakeUnitOfWorkFactory, consignment_id: str) -> consignments.ConsignmentDetail:
    return consignments.consignment_detail(factory, SUPERVISOR, consignment_id)


# -- import_manifest --------------------------------------------------------------------------


def test_a_manifest_becomes_a_consignment_expecting_every_device(
    factory: FakeUnitOfWorkFactory,
) -> None:
    done: list[int] = []
    report = intake.import_manifest(
        factory, STORES, " CN-7 ", " North Energy ", manifest(1, 2), progress=done.append
    )

    assert (report.imported, report.problems) == (2, [])
    assert done == [3]  # the consignment and its two devices
    created, *expected = _recorded(factory)
    assert created.type == "consignment.created"
    assert created.subject.id == report.consignment_id
    assert created.actor.id == STORES.id
    assert created.data == {"reference": "CN-7", "asset_owner": "North Energy", "expected": 2}
    assert [e.type for e in expected] == ["consignment.device_expected"] * 2
    assert [e.subject.id for e in expected] == [device_id(1), device_id(2)]
    assert expected[0].data["consignment_id"] == report.consignment_id
    assert expected[0].data["device"]["type"] == 1  # ESME, in GBCS numbering
    assert expected[0].data["device"]["inventory_status"] == "Decommissioned"
    assert report.consignment_id is not None
    detail = _detail(factory, report.consignment_id)
    assert detail.consignment.status is ConsignmentStatus.OPEN
    assert (detail.consignment.reference, detail.consignment.asset_owner) == (
        "CN-7",
        "North Energy",
    )
    assert (detail.consignment.expected, detail.consignment.arrived) == (2, 0)
    assert detail.not_arrived == [device_id(1), device_id(2)]


def test_importing_needs_the_import_permission(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(PermissionDenied):
        intake.import_manifest(factory, callers.bench_operator(), "CN-1", "North", manifest(1))
    assert _recorded(factory) == []


@pytest.mark.parametrize(
    ("reference", "asset_owner", "named"),
    [("  ", "North", "reference"), ("R" * 101, "North", "reference"), ("CN-1", "", "asset_owner")],
)
def test_a_consignment_needs_a_reference_and_an_asset_owner(
    factory: FakeUnitOfWorkFactory, reference: str, asset_owner: str, named: str
) -> None:
    with pytest.raises(InvalidInput, match=rf"^{named}:"):
        intake.import_manifest(factory, STORES, reference, asset_owner, manifest(1))
    assert _recorded(factory) == []


def test_a_reference_is_imported_once_per_asset_owner(factory: FakeUnitOfWorkFactory) -> None:
    first = import_consignment(factory, 1, reference="CN-1")
    with pytest.raises(Conflict, match="imported already"):
        intake.import_manifest(factory, STORES, "CN-1", "North Energy", manifest(2))
    # Another owner may use the same reference.
    factory.clock.advance(timedelta(minutes=1))
    intake.import_manifest(factory, STORES, "CN-1", "South Gas", manifest(2, owner="South Gas"))
    listed, total = consignments.consignments(factory, SUPERVISOR, 0, 10)
    assert total == 2
    assert listed[0].id == first
    assert [c.asset_owner for c in listed] == ["North Energy", "South Gas"]


def test_a_manifest_with_bad_rows_is_refused_whole_naming_every_problem(
    factory: FakeUnitOfWorkFactory,
) -> None:
    rows = [
        ManifestRow(2, device_fields(1)),
        ManifestRow(3, problem="7 values where the header has 9"),
        ManifestRow(4, device_fields(2, device_id="not-an-eui64")),
        ManifestRow(5, device_fields(1)),
        ManifestRow(6, device_fields(3, inventory_status="Commissioned")),
    ]
    with pytest.raises(intake.ManifestRejected) as refused:
        intake.import_manifest(factory, STORES, "CN-1", "North Energy", rows)

    problems = [(p.line, p.field) for p in refused.value.problems]
    assert problems == [(3, "row"), (4, "device_id"), (5, "device_id"), (6, "inventory_status")]
    assert "duplicate of line 2" in refused.value.problems[2].problem
    assert "--skip-invalid" in str(refused.value)
    assert _recorded(factory) == []


def test_skipping_invalid_rows_imports_the_good_ones_and_reports_the_rest(
    factory: FakeUnitOfWorkFactory,
) -> None:
    rows = [*manifest(1, 2), ManifestRow(9, device_fields(3, device_type="kettle"))]
    report = intake.import_manifest(factory, STORES, "CN-1", "North Energy", rows, True)

    assert report.imported == 2
    assert [(p.line, p.field) for p in report.problems] == [(9, "device_type")]
    assert factory.entry_types().count("consignment.device_expected") == 2


def test_skipping_invalid_rows_still_needs_one_good_row(factory: FakeUnitOfWorkFactory) -> None:
    rows = [ManifestRow(2, device_fields(1, model=""))]
    with pytest.raises(intake.ManifestRejected):
        intake.import_manifest(factory, STORES, "CN-1", "North Energy", rows, skip_invalid=True)
    with pytest.raises(InvalidInput, match="lists no devices"):
        intake.import_manifest(factory, STORES, "CN-1", "North Energy", [])
    assert _recorded(factory) == []


def test_a_device_awaited_in_an_open_consignment_cannot_be_expected_twice(
    factory: FakeUnitOfWorkFactory,
) -> None:
    first = import_consignment(factory, 1, reference="CN-1")
    with pytest.raises(
        intake.ManifestRejected, match=f"already expected in open consignment {first}"
    ):
        intake.import_manifest(factory, STORES, "CN-2", "North Energy", manifest(1))

    # Once the first consignment is closed without it, a new one may expect it.
    intake.close_consignment(factory, SUPERVISOR, first)
    report = intake.import_manifest(factory, STORES, "CN-2", "North Energy", manifest(1))
    assert report.imported == 1


def test_a_device_with_an_open_job_cannot_be_expected(factory: FakeUnitOfWorkFactory) -> None:
    may_triage(factory)
    first = import_consignment(factory, 1, reference="CN-1")
    intake.scan_device(factory, STORES, device_id(1))
    intake.close_consignment(factory, SUPERVISOR, first)
    before = factory.entry_types()

    with pytest.raises(intake.ManifestRejected, match="has an open triage job"):
        intake.import_manifest(factory, STORES, "CN-2", "North Energy", manifest(1))
    assert factory.entry_types() == before


# -- scan_device ------------------------------------------------------------------------------


def test_an_expected_device_scanned_in_opens_its_job(factory: FakeUnitOfWorkFactory) -> None:
    may_triage(factory)
    consignment_id = import_consignment(factory, 1, 2)
    factory.clock.advance(timedelta(hours=1))

    scanned = intake.scan_device(factory, STORES, device_id(1).lower().replace("-", ""))

    assert scanned.created and scanned.exception_id is None
    assert scanned.device_id == device_id(1)
    job = scanned.job
    assert job is not None
    assert (job.state, job.device_id, job.consignment_id) == (
        JobState.RECEIVED,
        device_id(1),
        consignment_id,
    )
    assert job.opened_at == factory.clock.now() and job.closed_at is None
    entry = _recorded(factory)[-1]
    assert (entry.type, entry.subject.id, entry.actor.id) == (
        "device.received",
        device_id(1),
        STORES.id,
    )
    assert entry.data["job_id"] == job.id
    assert entry.data["consignment_id"] == consignment_id
    assert entry.data["state"] == "received"
    assert entry.data["device"]["manufacturer"] == "Acme Meters"
    detail = _detail(factory, consignment_id)
    assert (detail.consignment.expected, detail.consignment.arrived) == (2, 1)
    assert detail.not_arrived == [device_id(2)]


def test_scanning_a_device_again_finds_its_open_job(factory: FakeUnitOfWorkFactory) -> None:
    may_triage(factory)
    import_consignment(factory, 1)
    first = intake.scan_device(factory, STORES, device_id(1))
    before = factory.entry_types()

    again = intake.scan_device(factory, SUPERVISOR, device_id(1))

    assert not again.created
    assert again.job == first.job
    assert again.message == "already received, received"
    assert factory.entry_types() == before


def test_an_unexpected_device_raises_an_exception_for_a_supervisor(
    factory: FakeUnitOfWorkFactory,
) -> None:
    may_triage(factory)
    scanned = intake.scan_device(factory, STORES, device_id(5))

    assert scanned.job is None and not scanned.created
    assert scanned.exception_id is not None
    entry = _recorded(factory)[-1]
    assert (entry.type, entry.subject.id) == ("exception.raised", device_id(5))
    assert entry.data["kind"] == "unexpected_device"
    listed, total = consignments.exceptions(factory, SUPERVISOR, "open", 0, 10)
    assert total == 1
    assert (listed[0].id, listed[0].device_id, listed[0].raised_by) == (
        scanned.exception_id,
        device_id(5),
        STORES.id,
    )


def test_a_device_of_a_closed_consignment_is_unexpected(factory: FakeUnitOfWorkFactory) -> None:
    may_triage(factory)
    consignment_id = import_consignment(factory, 1)
    intake.close_consignment(factory, SUPERVISOR, consignment_id)

    scanned = intake.scan_device(factory, STORES, device_id(1))

    assert scanned.job is None and scanned.exception_id is not None


def test_scanning_needs_the_scan_permission(factory: FakeUnitOfWorkFactory) -> None:
    may_triage(factory)
    import_consignment(factory, 1)
    before = factory.entry_types()
    with pytest.raises(PermissionDenied):
        intake.scan_device(factory, callers.auditor(), device_id(1))
    assert factory.entry_types() == before


def test_a_scan_that_is_no_device_id_is_refused(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(InvalidInput, match=r"^device_id:"):
        intake.scan_device(factory, STORES, "12-34")
    assert _recorded(factory) == []


def test_no_device_is_received_before_the_facility_may_triage(
    factory: FakeUnitOfWorkFactory,
) -> None:
    consignment_id = import_consignment(factory, 1)
    before = factory.entry_types()

    with pytest.raises(Conflict, match="not recorded as a SEC Party"):
        intake.scan_device(factory, STORES, device_id(1))

    assert factory.entry_types() == before
    assert _detail(factory, consignment_id).consignment.arrived == 0


def _disposed(factory: FakeUnitOfWorkFactory, n: int, action: str) -> str:
    """Test device ``n`` inspected with its CPA boundary breached (quarantined), then returned
    to its manufacturer or destroyed; returns its job's id."""
    job_id = inspected(factory, at_the_bench(factory), n, BREACHED)
    destruction = DESTRUCTION if action == "destroy" else None
    job_steps.dispose(factory, SUPERVISOR, job_id, action, "DC-0001", destruction)
    return job_id


def test_a_destroyed_device_scanned_again_is_flagged_and_not_received(
    factory: FakeUnitOfWorkFactory,
) -> None:
    job_id = _disposed(factory, 1, "destroy")
    # Even when a new consignment lists it: the device should not exist any more.
    import_consignment(factory, 1, reference="CN-2")
    before = factory.entry_types()

    scanned = intake.scan_device(factory, STORES, device_id(1))

    assert scanned.job is None and not scanned.created
    assert "DESTROYED" in scanned.message
    assert factory.entry_types() == [*before, "exception.raised"]
    entry = _recorded(factory)[-1]
    assert entry.subject.id == device_id(1)
    assert entry.data["kind"] == intake.DESTROYED_RETURNED
    assert job_id in entry.data["detail"]
    listed, _ = consignments.exceptions(factory, SUPERVISOR, "open", 0, 10)
    assert [(e.id, e.kind) for e in listed] == [(scanned.exception_id, "destroyed_device_returned")]
    history = consignments.exceptions(factory, SUPERVISOR, None, 0, 10)[1]
    assert history == 1


def test_a_device_returned_to_its_manufacturer_may_come_back_for_triage(
    factory: FakeUnitOfWorkFactory,
) -> None:
    _disposed(factory, 1, "return")
    import_consignment(factory, 1, reference="CN-2")

    scanned = intake.scan_device(factory, STORES, device_id(1))

    assert scanned.created and scanned.exception_id is None


# -- the preview (a dry run) and the consignment by its reference ------------------------------


def test_a_dry_run_shows_what_would_be_imported_and_every_bad_row_recording_nothing(
    factory: FakeUnitOfWorkFactory,
) -> None:
    rows = [*manifest(1, 2), ManifestRow(4, device_fields(3, device_type="kettle"))]

    report = intake.import_manifest(factory, STORES, "CN-1", "North Energy", rows, dry_run=True)

    assert report.consignment_id is None
    assert report.imported == 2
    assert [(line, d.id.value) for line, d in report.accepted] == [
        (rows[0].line, device_id(1)),
        (rows[1].line, device_id(2)),
    ]
    assert [(p.line, p.field) for p in report.problems] == [(4, "device_type")]
    assert _recorded(factory) == []
    # The same manifest, the bad row skipped as asked: what the preview said is what is done.
    done = intake.import_manifest(factory, STORES, "CN-1", "North Energy", rows, True)
    assert (done.imported, done.problems) == (report.imported, report.problems)


def test_a_dry_run_still_refuses_a_reference_imported_already(
    factory: FakeUnitOfWorkFactory,
) -> None:
    import_consignment(factory, 1, reference="CN-1")
    before = factory.entry_types()
    with pytest.raises(Conflict, match="imported already"):
        intake.import_manifest(factory, STORES, "CN-1", "North Energy", manifest(2), dry_run=True)
    with pytest.raises(InvalidInput, match="lists no devices"):
        intake.import_manifest(factory, STORES, "CN-9", "North Energy", [], dry_run=True)
    assert factory.entry_types() == before


def test_a_consignment_is_closed_and_read_by_its_reference(factory: FakeUnitOfWorkFactory) -> None:
    may_triage(factory)
    import_consignment(factory, 1, 2, reference="CN-7")
    intake.scan_device(factory, STORES, device_id(2))

    shown = consignments.consignment_detail(factory, SUPERVISOR, " CN-7 ")
    assert (shown.arrived, shown.not_arrived) == ([device_id(2)], [device_id(1)])

    closed, missing = intake.close_consignment(factory, SUPERVISOR, "CN-7")

    assert (closed.reference, missing) == ("CN-7", [device_id(1)])
    assert closed.status is ConsignmentStatus.CLOSED


def test_a_reference_two_asset_owners_used_needs_the_owner(factory: FakeUnitOfWorkFactory) -> None:
    import_consignment(factory, 1, reference="CN-1")
    factory.clock.advance(timedelta(minutes=1))
    intake.import_manifest(factory, STORES, "CN-1", "South Gas", manifest(2, owner="South Gas"))
    before = factory.entry_types()

    with pytest.raises(InvalidInput, match="North Energy, South Gas") as ambiguous:
        intake.close_consignment(factory, SUPERVISOR, "CN-1")
    assert ambiguous.value.field == "asset_owner"
    assert factory.entry_types() == before
    with pytest.raises(NotFound, match="of Nobody"):
        intake.close_consignment(factory, SUPERVISOR, "CN-1", "Nobody")

    closed, _ = intake.close_consignment(factory, SUPERVISOR, "CN-1", "South Gas")
    assert (closed.asset_owner, closed.status) == ("South Gas", ConsignmentStatus.CLOSED)
    north = consignments.consignment_detail(factory, SUPERVISOR, "CN-1", "North Energy")
    assert north.consignment.status is ConsignmentStatus.OPEN


# -- close_consignment ------------------------------------------------------------------------


def test_closing_a_consignment_records_the_devices_that_never_came(
    factory: FakeUnitOfWorkFactory,
) -> None:
    may_triage(factory)
    consignment_id = import_consignment(factory, 1, 2, 3)
    intake.scan_device(factory, STORES, device_id(2))
    factory.clock.advance(timedelta(days=2))

    closed, missing = intake.close_consignment(factory, SUPERVISOR, consignment_id)

    assert missing == [device_id(1), device_id(3)]
    assert closed.status is ConsignmentStatus.CLOSED
    assert closed.closed_at == factory.clock.now()
    assert (closed.expected, closed.arrived) == (3, 1)
    entry = _recorded(factory)[-1]
    assert (entry.type, entry.subject.id) == ("consignment.closed", consignment_id)
    assert entry.data == {"missing": missing, "arrived": 1, "expected": 3}


def test_closing_needs_the_close_permission(factory: FakeUnitOfWorkFactory) -> None:
    consignment_id = import_consignment(factory, 1)
    with pytest.raises(PermissionDenied):
        intake.close_consignment(factory, callers.bench_operator(), consignment_id)
    assert _detail(factory, consignment_id).consignment.status is ConsignmentStatus.OPEN


def test_a_consignment_is_closed_once(factory: FakeUnitOfWorkFactory) -> None:
    consignment_id = import_consignment(factory, 1)
    intake.close_consignment(factory, SUPERVISOR, consignment_id)
    before = factory.entry_types()

    with pytest.raises(Conflict, match="already closed"):
        intake.close_consignment(factory, SUPERVISOR, consignment_id)
    with pytest.raises(NotFound):
        intake.close_consignment(factory, SUPERVISOR, "no-such-consignment")
    assert factory.entry_types() == before


# -- resolve_exception ------------------------------------------------------------------------


def _unexpected(factory: FakeUnitOfWorkFactory) -> str:
    may_triage(factory)
    exception_id = intake.scan_device(factory, STORES, device_id(5)).exception_id
    assert exception_id is not None
    return exception_id


def test_resolving_an_exception_records_what_was_done(factory: FakeUnitOfWorkFactory) -> None:
    exception_id = _unexpected(factory)
    factory.clock.advance(timedelta(minutes=30))

    intake.resolve_exception(factory, SUPERVISOR, exception_id, "  returned to  the owner  ")

    entry = _recorded(factory)[-1]
    assert (entry.type, entry.subject.id, entry.actor.id) == (
        "exception.resolved",
        device_id(5),
        SUPERVISOR.id,
    )
    assert entry.data == {"exception_id": exception_id, "resolution": "returned to the owner"}
    resolved, total = consignments.exceptions(factory, SUPERVISOR, "resolved", 0, 10)
    assert total == 1
    found = resolved[0]
    assert (found.status, found.resolved_by, found.resolution, found.resolved_at) == (
        "resolved",
        SUPERVISOR.id,
        "returned to the owner",
        factory.clock.now(),
    )
    assert consignments.exceptions(factory, SUPERVISOR, "open", 0, 10) == ([], 0)


def test_resolving_needs_the_resolve_permission(factory: FakeUnitOfWorkFactory) -> None:
    exception_id = _unexpected(factory)
    before = factory.entry_types()
    with pytest.raises(PermissionDenied):
        intake.resolve_exception(factory, STORES, exception_id, "returned to the owner")
    assert factory.entry_types() == before


def test_a_resolution_says_what_was_done(factory: FakeUnitOfWorkFactory) -> None:
    exception_id = _unexpected(factory)
    before = factory.entry_types()
    with pytest.raises(InvalidInput) as refused:
        intake.resolve_exception(factory, SUPERVISOR, exception_id, " ok ")
    assert refused.value.field == "resolution"
    assert factory.entry_types() == before


def test_an_exception_is_resolved_once(factory: FakeUnitOfWorkFactory) -> None:
    exception_id = _unexpected(factory)
    intake.resolve_exception(factory, SUPERVISOR, exception_id, "returned to the owner")
    before = factory.entry_types()

    with pytest.raises(Conflict, match="already resolved"):
        intake.resolve_exception(factory, SUPERVISOR, exception_id, "returned it again")
    with pytest.raises(NotFound):
        intake.resolve_exception(factory, SUPERVISOR, "no-such-exception", "returned it")
    assert factory.entry_types() == before
