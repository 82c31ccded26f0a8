"""A device's history and its offline receipt, from the ledger itself."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import workflow_seed
from tests.unit.services.callers import auditor, bench_operator, nobody, stores
from tests.unit.services.ledger_seed import SIGNER, VERIFIER, grow
from tests.unit.services.security_seed import ORIGIN
from triage.errors import InvalidInput, NotFound, PermissionDenied
from triage.ledger.receipt import verify_receipt
from triage.services import history, ledger, photos

DEVICE = workflow_seed.device_id(1)


@pytest.fixture
def factory() -> FakeUnitOfWorkFactory:
    """A facility that may triage (devices may be scanned in)."""
    made = FakeUnitOfWorkFactory()
    workflow_seed.may_triage(made)
    return made


def test_a_device_id_is_read_in_its_canonical_form() -> None:
    assert history.parse_device_id(DEVICE.lower().replace("-", "")) == DEVICE
    with pytest.raises(InvalidInput, match="device_id: "):
        history.parse_device_id("not a device")


def test_the_history_is_every_entry_about_the_device_and_its_jobs(
    factory: FakeUnitOfWorkFactory,
) -> None:
    job = workflow_seed.received(factory, 1)
    workflow_seed.received(factory, 2, reference="CN-2")  # another device: not in the story

    story = history.device_history(factory, auditor(), DEVICE.lower())

    assert story.device_id == DEVICE
    assert [e.type for _, e in story.entries] == ["consignment.device_expected", "device.received"]
    indexes = [i for i, _ in story.entries]
    assert indexes == sorted(indexes)
    assert all(factory.entries()[i] == e for i, e in story.entries)
    assert [j.id for j in story.jobs] == [job.id]


def test_the_history_of_an_unknown_device_or_for_nobody_is_refused(
    factory: FakeUnitOfWorkFactory,
) -> None:
    with pytest.raises(NotFound, match="nothing about device"):
        history.device_history(factory, auditor(), DEVICE)
    with pytest.raises(InvalidInput):
        history.device_history(factory, auditor(), "12")
    workflow_seed.received(factory, 1)
    with pytest.raises(PermissionDenied):
        history.device_history(factory, nobody(), DEVICE)


def test_a_receipt_proves_every_entry_about_the_device_against_a_fresh_checkpoint(
    factory: FakeUnitOfWorkFactory,
) -> None:
    workflow_seed.received(factory, 1)
    grow(factory, 2)  # entries about something else, after the device's

    signed = history.device_receipt(factory, bench_operator(), DEVICE, ORIGIN, SIGNER)

    verified = verify_receipt(signed, [VERIFIER])
    assert [e.type for _, e in verified.entries] == [
        "consignment.device_expected",
        "device.received",
    ]
    [checkpoint] = ledger.checkpoints(factory, auditor())
    assert checkpoint.size == len(factory.entries())


def test_a_receipt_reuses_a_checkpoint_that_covers_the_device(
    factory: FakeUnitOfWorkFactory,
) -> None:
    job = workflow_seed.received(factory, 1)
    history.device_receipt(factory, auditor(), DEVICE, ORIGIN, SIGNER)
    grow(factory, 1)

    history.device_receipt(factory, auditor(), DEVICE, ORIGIN, SIGNER)

    assert len(ledger.checkpoints(factory, auditor())) == 1
    photos.attach_photo(factory, bench_operator(), job.id, "ab" * 32, "image/png", 10)
    signed = history.device_receipt(factory, auditor(), DEVICE, ORIGIN, SIGNER)
    assert len(ledger.checkpoints(factory, auditor())) == 2
    assert len(verify_receipt(signed, [VERIFIER]).entries) == 3


def test_a_receipt_needs_the_permission_and_a_known_device(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(NotFound):
        history.device_receipt(factory, auditor(), DEVICE, ORIGIN, SIGNER)
    workflow_seed.received(factory, 1)
    with pytest.raises(PermissionDenied):
        history.device_receipt(factory, stores(), DEVICE, ORIGIN, SIGNER)
    assert ledger.checkpoints(factory, auditor()) == []
