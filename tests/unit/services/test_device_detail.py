"""A device's page as the view gives it: identity, consignment, jobs, history, the documents it
has and the acts the reader may take, by the device's state and the reader's permissions."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import disposal_seed, workflow_seed
from tests.unit.services.callers import auditor, nobody, stores, supervisor
from triage.errors import NotFound, PermissionDenied
from triage.services import job_steps
from triage.services.views import device_detail
from triage.services.views.device_detail import CERTIFICATE, DESTRUCTION, LABEL, RECEIPT

BREACHED = workflow_seed.BREACHED


@pytest.fixture
def bench(factory: FakeUnitOfWorkFactory) -> workflow_seed.Bench:
    return workflow_seed.at_the_bench(factory)


def test_a_device_at_the_bench_shows_who_it_is_where_it_came_from_and_its_story(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench
) -> None:
    job_id = workflow_seed.inspected(factory, bench, 1)
    device = workflow_seed.device_id(1)

    shown = device_detail.device_page(factory, supervisor(), device.lower().replace("-", ""))

    assert shown.device_id == device
    assert shown.device is not None and shown.device.id.value == device
    assert shown.consignment is not None and shown.consignment.reference == "CN-1"
    assert [j.id for j in shown.jobs] == [job_id]
    assert shown.state == "eligible"
    assert shown.decision is not None and shown.decision.outcome == "eligible"
    assert [e.type for _, e in shown.entries][-1] == "device.decided"
    assert shown.open_job is not None and shown.open_job.id == job_id
    # A supervisor may set it aside; it has no certificate yet.
    assert "quarantine" in shown.acts and shown.may_open_job
    assert shown.documents == [RECEIPT, LABEL]


def test_a_reader_is_offered_only_what_they_may_take(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench
) -> None:
    workflow_seed.inspected(factory, bench, 1)
    device = workflow_seed.device_id(1)

    shown = device_detail.device_page(factory, auditor(), device)

    assert shown.acts == [] and not shown.may_open_job
    assert shown.documents == [RECEIPT, LABEL]
    # A bench operator opens the job at the bench but takes no supervisor's act.
    at_bench = device_detail.device_page(factory, bench.operator, device)
    assert at_bench.may_open_job and at_bench.acts == []


def test_a_destroyed_device_offers_its_certificate_of_destruction_and_no_acts(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench
) -> None:
    job_id = workflow_seed.inspected(factory, bench, 1, BREACHED)
    job_steps.dispose(factory, supervisor(), job_id, "destroy", "WEEE-1", disposal_seed.DESTRUCTION)

    shown = device_detail.device_page(factory, supervisor(), workflow_seed.device_id(1))

    assert shown.state == "destroyed"
    assert shown.open_job is None and shown.acts == [] and not shown.may_open_job
    assert CERTIFICATE not in shown.documents
    assert shown.documents == [DESTRUCTION, RECEIPT, LABEL]


def test_a_device_page_is_refused_without_the_history_permission_or_the_device(
    factory: FakeUnitOfWorkFactory, bench: workflow_seed.Bench
) -> None:
    workflow_seed.inspected(factory, bench, 1)
    with pytest.raises(PermissionDenied):
        device_detail.device_page(factory, nobody(), workflow_seed.device_id(1))
    with pytest.raises(NotFound):
        device_detail.device_page(factory, stores(), workflow_seed.device_id(9))
