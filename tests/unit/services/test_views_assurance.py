"""What the auditor reads first: the ledger's standing and the assessments with each control's
readiness, against the fake unit of work."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import assurance_seed as seed
from tests.unit.services.assurance_seed import ISSUER, FakeFileStore, FakeReplay
from tests.unit.services.callers import administrator, auditor, nobody
from triage.errors import PermissionDenied
from triage.services import assurance, automatic_evidence
from triage.services import ledger as ledger_service
from triage.services.views import assurance as views


def test_the_ledger_overview_shows_the_last_full_verification(
    factory: FakeUnitOfWorkFactory,
) -> None:
    store = FakeFileStore()
    empty = views.ledger_overview(factory, auditor(), ISSUER.verifier_key)
    assert (empty.size, empty.checkpoint, empty.last_verification) == (0, None, None)
    assert empty.verifier_key == ISSUER.verifier_key

    for _ in range(2):
        [last] = automatic_evidence.generate(
            factory, administrator(), ISSUER, FakeReplay(), store, ["ledger_verification"]
        )
        factory.clock.advance(timedelta(hours=1))
    [replayed] = automatic_evidence.generate(
        factory, administrator(), ISSUER, FakeReplay(), store, ["replay_check"]
    )
    stored = ledger_service.issue_checkpoint(
        factory, administrator(), ISSUER.origin, ISSUER.signer_key
    )

    shown = views.ledger_overview(factory, auditor(), ISSUER.verifier_key)

    assert (shown.size, shown.checkpoint) == (3, stored.note)
    assert shown.last_verification == views.Verification(
        last.id, last.recorded_at, True, dict(last.summary), administrator().id
    )
    assert shown.last_verification.figures["entries_checked"] == 1  # the first one
    assert shown.last_replay is not None
    assert (shown.last_replay.evidence_id, shown.last_replay.ok) == (replayed.id, True)


def test_the_assessments_overview_counts_the_controls_per_readiness(
    factory: FakeUnitOfWorkFactory,
) -> None:
    store = FakeFileStore()
    planned = seed.plan(factory, controls=["G1"])
    automatic_evidence.generate(
        factory,
        administrator(),
        ISSUER,
        FakeReplay(),
        store,
        ["ledger_verification", "replay_check"],
    )
    assurance.set_applicable(factory, administrator(), "TD.3", False, "No seals are kept here")

    shown = views.assessments_overview(factory, auditor(), store)

    assert [a.id for a in shown.assessments] == [planned.id]
    statuses = {row.control.id: row.status for row in shown.readiness}
    assert (statuses["G3.4"], statuses["TD.3"], statuses["G1"]) == (
        "ready",
        "not_applicable",
        "missing",
    )
    total = len(factory.packaged.catalogue().controls)
    assert shown.summary == {"ready": 1, "not_applicable": 1, "missing": total - 2}


def test_the_overviews_need_the_assurance_read_permission(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(PermissionDenied):
        views.ledger_overview(factory, nobody(), ISSUER.verifier_key)
    with pytest.raises(PermissionDenied):
        views.assessments_overview(factory, nobody(), FakeFileStore())
