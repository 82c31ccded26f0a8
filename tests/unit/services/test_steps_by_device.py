"""The bench's steps named by device: each is taken on the device's open triage job."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers
from tests.unit.services.workflow_seed import (
    BREACHED,
    FACILITY_SIGNER,
    FACILITY_VERIFIER,
    INTACT,
    OTHER_FINDING,
    Bench,
    at_the_bench,
    device_id,
    import_consignment,
    inspected,
    issued_seal,
    log_recorded,
    received,
    tool_result,
)
from triage.domain.lifecycle import JobState
from triage.domain.tamper_policy import Outcome
from triage.domain.work_order import WorkOrder
from triage.errors import InvalidInput, NotFound, PermissionDenied
from triage.services import intake, job_steps, steps_by_device
from triage.services.views import jobs

SUPERVISOR = callers.supervisor()
# The device as a bench scanner reads it: no separators, lower case.
SCANNED = device_id(1).replace("-", "").lower()


@pytest.fixture
def at_bench(factory: FakeUnitOfWorkFactory) -> Bench:
    return at_the_bench(factory)


def test_the_open_job_of_a_device_is_found_by_its_id(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job = received(factory, 1)
    assert steps_by_device.open_job_id(factory, at_bench.operator, SCANNED) == job.id


def test_a_device_with_no_open_job_is_not_found(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    import_consignment(factory, 1)  # expected, but not scanned in
    with pytest.raises(NotFound, match="scan it in first"):
        steps_by_device.open_job_id(factory, at_bench.operator, SCANNED)
    with pytest.raises(InvalidInput, match="device_id"):
        steps_by_device.open_job_id(factory, at_bench.operator, "not a device")


def test_a_job_that_is_over_is_not_the_devices_open_job(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1, BREACHED)
    job_steps.dispose(factory, SUPERVISOR, job_id, "return", "RMA-0001")
    with pytest.raises(NotFound):
        steps_by_device.open_job_id(factory, at_bench.operator, SCANNED)


def test_the_step_is_refused_before_it_is_looked_up_without_the_read_permission(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    received(factory, 1)
    before = factory.entry_types()
    with pytest.raises(PermissionDenied):
        steps_by_device.inspect(factory, callers.nobody(), SCANNED, INTACT)
    assert factory.entry_types() == before


def test_a_device_goes_through_the_bench_by_its_id(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job = received(factory, 1)
    job_id = job.id
    log_recorded(factory, job)
    operator = at_bench.operator

    decision = steps_by_device.inspect(factory, operator, SCANNED, INTACT)
    assert decision.outcome is Outcome.eligible

    issued = steps_by_device.authorise_reset(factory, operator, SCANNED, "T1", FACILITY_SIGNER)
    assert issued.job_id == job_id
    order = WorkOrder.open(issued.work_order, FACILITY_VERIFIER)
    assert (order.job_id, order.device_id) == (job_id, device_id(1))
    job_steps.record_tool_result(factory, at_bench.tool, tool_result(factory, at_bench, order))

    issued_seal(factory, "op", "SL-000100")
    sealed = steps_by_device.seal(factory, operator, SCANNED, "SL-000100")
    assert (sealed.id, sealed.state, sealed.seal_serial) == (job_id, JobState.SEALED, "SL-000100")

    released = steps_by_device.release(factory, operator, SCANNED)
    assert (released.id, released.state) == (job_id, JobState.RELEASED)
    assert factory.entry_types()[-1] == "device.released"


def test_a_supervisor_overrides_quarantines_and_disposes_by_device(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1, OTHER_FINDING)

    overridden = steps_by_device.override(
        factory, SUPERVISOR, SCANNED, "eligible", "the scratch is old, the boundary is intact"
    )
    assert (overridden.id, overridden.state) == (job_id, JobState.ELIGIBLE)

    quarantined = steps_by_device.quarantine(
        factory, SUPERVISOR, SCANNED, "case cracked in transit"
    )
    assert (quarantined.id, quarantined.state) == (job_id, JobState.QUARANTINED)

    returned = steps_by_device.dispose(factory, SUPERVISOR, SCANNED, "return", "RMA-0042")
    assert (returned.id, returned.state) == (job_id, JobState.RETURNED_TO_MANUFACTURER)
    assert factory.entry_types()[-3:] == [
        "decision.overridden",
        "device.quarantined",
        "device.returned_to_manufacturer",
    ]


def test_a_device_back_for_a_second_visit_is_worked_on_its_new_job(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    first = inspected(factory, at_bench, 1, BREACHED)
    job_steps.dispose(factory, SUPERVISOR, first, "return", "RMA-0042")
    import_consignment(factory, 1, reference="CN-again")
    second = intake.scan_device(factory, callers.stores(), SCANNED).job
    assert second is not None and second.id != first
    log_recorded(factory, second)

    steps_by_device.inspect(factory, at_bench.operator, SCANNED, INTACT)

    assert jobs.job_detail(factory, SUPERVISOR, second.id).job.state is JobState.ELIGIBLE
    assert jobs.job_detail(factory, SUPERVISOR, first).job.state is (
        JobState.RETURNED_TO_MANUFACTURER
    )
