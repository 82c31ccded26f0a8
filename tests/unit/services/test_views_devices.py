"""What is read about devices: a device's story from the ledger, each entry proven."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers
from tests.unit.services.workflow_seed import (
    Bench,
    at_the_bench,
    device_id,
    import_consignment,
    inspected,
)
from triage.errors import InvalidInput, NotFound, PermissionDenied
from triage.ledger import rfc6962
from triage.services.views import devices


@pytest.fixture
def at_bench(factory: FakeUnitOfWorkFactory) -> Bench:
    return at_the_bench(factory)


def test_every_entry_about_a_device_is_proven_against_one_tree(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    job_id = inspected(factory, at_bench, 1)
    import_consignment(factory, 2, reference="CN-other")  # about another device
    entries = factory.entries()

    proven = devices.proven_history(factory, callers.auditor(), device_id(1).lower())

    story = proven.story
    assert story.device_id == device_id(1)
    assert [e.type for _, e in story.entries] == [
        "consignment.device_expected",
        "device.received",
        "device.security_log_recorded",
        "device.inspected",
        "device.decided",
    ]
    assert [j.id for j in story.jobs] == [job_id]
    assert sorted(proven.proofs) == [index for index, _ in story.entries]
    root = rfc6962.root_hash(rfc6962.leaf_hashes(e.to_bytes() for e in entries))
    for index, entry in story.entries:
        proof = proven.proofs[index]
        assert (proof.index, proof.size, proof.root) == (index, len(entries), root)
        assert proof.leaf_hash == rfc6962.leaf_hash(entry.to_bytes())
        rfc6962.verify_inclusion(proof.leaf_hash, index, proof.size, proof.hashes, root)


def test_a_device_the_ledger_never_heard_of_has_no_story(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    with pytest.raises(NotFound):
        devices.proven_history(factory, callers.auditor(), device_id(9))
    with pytest.raises(InvalidInput):
        devices.proven_history(factory, callers.auditor(), "not a device")


def test_a_devices_story_needs_the_history_permission(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    inspected(factory, at_bench, 1)
    with pytest.raises(PermissionDenied):
        devices.proven_history(factory, callers.nobody(), device_id(1))
