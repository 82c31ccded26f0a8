"""Ledger use cases (status, checkpoints, the write hold, proofs, verification, export)
against the fake unit of work and an in-memory checkpoint keeper."""

from __future__ import annotations

import io

import pytest

from tests.unit.fakes import FakeCheckpointKeeper, FakeUnitOfWorkFactory
from tests.unit.services.callers import (
    administrator,
    auditor,
    bench_operator,
    nobody,
    security_manager,
)
from tests.unit.services.ledger_seed import SIGNER, VERIFIER, grow, kept_factory, tamper
from tests.unit.services.security_seed import ORIGIN
from triage.errors import Conflict, IntegrityFailure, InvalidInput, NotFound, PermissionDenied
from triage.ledger.export import verify_export
from triage.ledger.rfc6962 import verify_consistency, verify_inclusion
from triage.ledger.vouch import open_anchor
from triage.services import anomaly, ledger
from triage.services.proof_encoding import inclusion_json, verification_json


def _checkpoint(factory: FakeUnitOfWorkFactory) -> int:
    return ledger.issue_checkpoint(factory, administrator(), ORIGIN, SIGNER).size


# -- status and checkpoints --------------------------------------------------------------------


def test_a_checkpoint_signs_the_ledger_and_is_kept_outside_the_database() -> None:
    factory = kept_factory()
    grow(factory, 3)

    stored = ledger.issue_checkpoint(factory, security_manager(), ORIGIN, SIGNER)

    status = ledger.status(factory, auditor())
    assert (status.size, stored.size) == (3, 3)
    assert status.latest_checkpoint == stored
    assert open_anchor(stored.note, [VERIFIER], ORIGIN).root == status.root
    assert ledger.checkpoints(factory, auditor()) == [stored]
    keeper = factory.keeper
    assert keeper is not None
    assert (keeper.note, keeper.hashes_count()) == (stored.note, 3)
    assert len(factory.entries()) == 3  # a checkpoint is no entry


def test_the_kept_hashes_follow_each_checkpoint() -> None:
    factory = kept_factory()
    grow(factory, 2)
    _checkpoint(factory)
    grow(factory, 3)

    assert _checkpoint(factory) == 5
    assert factory.keeper is not None and factory.keeper.hashes_count() == 5
    assert [c.size for c in ledger.checkpoints(factory, auditor())] == [2, 5]


def test_a_checkpoint_is_issued_only_when_the_ledger_grew(factory: FakeUnitOfWorkFactory) -> None:
    grow(factory, 2)
    first = ledger.issue_checkpoint_if_grown(factory, administrator(), ORIGIN, SIGNER)
    assert first is not None and first.size == 2

    assert ledger.issue_checkpoint_if_grown(factory, administrator(), ORIGIN, SIGNER) is None
    grow(factory, 1)
    grown = ledger.issue_checkpoint_if_grown(factory, administrator(), ORIGIN, SIGNER)
    assert grown is not None and grown.size == 3


def test_only_who_may_checkpoint_signs_and_only_readers_read(
    factory: FakeUnitOfWorkFactory,
) -> None:
    grow(factory, 1)

    with pytest.raises(PermissionDenied):
        ledger.issue_checkpoint(factory, bench_operator(), ORIGIN, SIGNER)
    with pytest.raises(PermissionDenied):
        ledger.issue_checkpoint_if_grown(factory, auditor(), ORIGIN, SIGNER)
    with pytest.raises(PermissionDenied):
        ledger.status(factory, nobody())
    with pytest.raises(PermissionDenied):
        ledger.checkpoints(factory, nobody())
    assert ledger.checkpoints(factory, auditor()) == []


# -- refusing to sign, and the write hold -------------------------------------------------------


def test_a_rewritten_entry_is_refused_recorded_and_holds_writes() -> None:
    factory = kept_factory()
    grow(factory, 3)
    _checkpoint(factory)
    grow(factory, 2)
    tamper(factory, 3)

    with pytest.raises(IntegrityFailure) as refused:
        _checkpoint(factory)

    assert refused.value.index == 3
    assert [c.size for c in ledger.checkpoints(factory, auditor())] == [3]
    assert factory.entry_types()[-3:] == [
        "alert.raised",
        "ledger.checkpoint_refused",
        "incident.raised",
    ]
    raised, recorded, incident = factory.entries()[-3:]
    # The refusal is an incident in the register, in the same transaction.
    assert (incident.data["source"], incident.data["about_kind"]) == (
        "checkpoint_refused",
        "ledger",
    )
    assert incident.data["detail"] == {"alert_id": raised.data["alert_id"], "index": 3}
    assert (recorded.subject.kind, recorded.subject.id) == ("ledger", "unit")
    assert recorded.data["index"] == 3
    assert raised.data["metric"] == "ledger_integrity"
    refusal = ledger.latest_refusal(factory, auditor())
    assert refusal is not None
    assert (refusal.index, refusal.acknowledged, refusal.alert_id) == (
        3,
        False,
        raised.data["alert_id"],
    )
    assert refusal.to_json() == {
        "alert_id": refusal.alert_id,
        "first_bad_index": 3,
        "reason": refusal.reason,
        "refused_at": "2026-12-01T09:00:00.000000Z",
        "acknowledged": False,
        "writes_held": True,
    }
    held = ledger.writes_held(factory)
    assert held is not None and "(first bad index 3)" in held
    [alert], _ = anomaly.alerts(factory, security_manager())
    assert (alert.id, alert.detail["action"]) == (refusal.alert_id, "writes_held")


def test_the_same_finding_is_recorded_once() -> None:
    factory = kept_factory()
    grow(factory, 2)
    _checkpoint(factory)
    grow(factory, 1)
    tamper(factory, 2)
    for _ in range(2):
        with pytest.raises(IntegrityFailure):
            ledger.check(factory, ORIGIN, VERIFIER)

    assert factory.entry_types().count("ledger.checkpoint_refused") == 1
    assert ledger.record_refusal(factory, IntegrityFailure("another finding")) is not None
    assert factory.entry_types().count("ledger.checkpoint_refused") == 2


def test_checkpoints_deleted_from_the_database_are_found_by_the_kept_one() -> None:
    factory = kept_factory()
    grow(factory, 2)
    _checkpoint(factory)
    factory.database.storage.checkpoints.clear()

    with pytest.raises(IntegrityFailure, match="lacks the checkpoint at size 2"):
        ledger.check(factory, ORIGIN, VERIFIER)
    assert ledger.writes_held(factory) is not None


def test_an_administrator_acknowledges_the_refusal_and_writes_resume() -> None:
    factory = kept_factory()
    grow(factory, 1)
    _checkpoint(factory)
    factory.database.storage.checkpoints.clear()
    with pytest.raises(IntegrityFailure):
        _checkpoint(factory)
    refusal = ledger.latest_refusal(factory, auditor())
    assert refusal is not None

    acknowledged = ledger.acknowledge_refusal(
        factory, administrator(), "restored the checkpoint table from last night's backup"
    )

    assert acknowledged.acknowledged and acknowledged.alert_id == refusal.alert_id
    assert factory.entry_types()[-2:] == ["ledger.refusal_acknowledged", "alert.resolved"]
    assert ledger.writes_held(factory) is None
    assert ledger.latest_refusal(factory, auditor()) == acknowledged
    assert anomaly.alerts(factory, security_manager()) == ([], 0)
    with pytest.raises(Conflict, match="no refusal"):
        ledger.acknowledge_refusal(factory, administrator(), "acknowledged a second time")


def test_acknowledging_needs_the_permission_a_reason_and_a_refusal(
    factory: FakeUnitOfWorkFactory,
) -> None:
    with pytest.raises(Conflict, match="no refusal"):
        ledger.acknowledge_refusal(factory, administrator(), "nothing was refused at all")
    ledger.record_refusal(factory, IntegrityFailure("the head was altered"))
    count = len(factory.entries())

    with pytest.raises(PermissionDenied):
        ledger.acknowledge_refusal(factory, security_manager(), "the head was restored")
    with pytest.raises(InvalidInput, match="reason"):
        ledger.acknowledge_refusal(factory, administrator(), "ok")
    assert len(factory.entries()) == count
    assert ledger.writes_held(factory) is not None
    with pytest.raises(PermissionDenied):
        ledger.latest_refusal(factory, nobody())


# -- proofs ------------------------------------------------------------------------------------


def test_inclusion_and_consistency_proofs_verify(factory: FakeUnitOfWorkFactory) -> None:
    grow(factory, 5)
    head = ledger.status(factory, auditor())

    inclusion = ledger.prove_inclusion(factory, auditor(), 2)
    verify_inclusion(inclusion.leaf_hash, 2, inclusion.size, inclusion.hashes, inclusion.root)
    assert (inclusion.size, inclusion.root) == (5, head.root)
    assert inclusion_json(inclusion)["index"] == 2

    at_three = ledger.prove_inclusion(factory, auditor(), 2, size=3)
    verify_inclusion(at_three.leaf_hash, 2, 3, at_three.hashes, at_three.root)

    consistency = ledger.prove_consistency(factory, auditor(), 3)
    assert (consistency.size2, consistency.root2) == (5, head.root)
    verify_consistency(3, 5, consistency.hashes, consistency.root1, consistency.root2)
    assert consistency.root1 == at_three.root

    assert ledger.warm_tile_cache(factory) >= 1


def test_proofs_beyond_the_ledger_are_not_found(factory: FakeUnitOfWorkFactory) -> None:
    grow(factory, 2)

    with pytest.raises(NotFound):
        ledger.prove_inclusion(factory, auditor(), 2)
    with pytest.raises(NotFound):
        ledger.prove_inclusion(factory, auditor(), 0, size=3)
    with pytest.raises(NotFound):
        ledger.prove_consistency(factory, auditor(), 1, 3)
    with pytest.raises(PermissionDenied):
        ledger.prove_inclusion(factory, nobody(), 0)
    with pytest.raises(PermissionDenied):
        ledger.prove_consistency(factory, nobody(), 1)


# -- verification ------------------------------------------------------------------------------


def test_a_sound_ledger_verifies_with_progress() -> None:
    factory = kept_factory()
    grow(factory, 4)
    _checkpoint(factory)
    seen: list[tuple[int, int]] = []

    report = ledger.verify(
        factory, auditor(), VERIFIER, ORIGIN, progress=lambda d, t: seen.append((d, t))
    )

    assert report.ok, report.problems
    assert (report.size, report.entries_checked) == (4, 4)
    assert report.checkpoints_checked >= 1
    assert report.warnings == []
    assert seen[-1] == (4, 4)
    assert verification_json(report)["ok"] is True


def test_verification_names_a_changed_entry(factory: FakeUnitOfWorkFactory) -> None:
    grow(factory, 4)
    _checkpoint(factory)
    tamper(factory, 1)

    report = ledger.verify(factory, auditor(), VERIFIER, ORIGIN)

    assert not report.ok
    first = report.first_problem()
    assert first is not None and first.index == 1


def test_a_missing_kept_checkpoint_is_a_problem_once_one_was_kept() -> None:
    factory = kept_factory()
    grow(factory, 2)
    _checkpoint(factory)
    keeper = factory.keeper
    assert keeper is not None
    keeper.note = None

    report = ledger.verify(factory, auditor(), VERIFIER, ORIGIN)
    assert [p.message for p in report.problems if "is missing" in p.message]

    keeper.started = False  # an installation from before the checkpoint was kept
    report = ledger.verify(factory, auditor(), VERIFIER, ORIGIN)
    assert report.ok
    assert any("no checkpoint is kept outside the database yet" in w for w in report.warnings)


def test_an_older_kept_checkpoint_is_a_warning() -> None:
    keeper = FakeCheckpointKeeper()
    factory = FakeUnitOfWorkFactory(keeper=keeper)
    grow(factory, 2)
    _checkpoint(factory)
    older = keeper.note
    grow(factory, 2)
    _checkpoint(factory)
    keeper.note = older

    report = ledger.verify(factory, auditor(), VERIFIER, ORIGIN)

    assert report.ok
    assert any("is older than the latest stored one" in w for w in report.warnings)


def test_verifying_needs_the_ledger_read_permission(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(PermissionDenied):
        ledger.verify(factory, nobody(), VERIFIER, ORIGIN)


def test_missing_checkpoint_says_why_the_kept_one_is_not_stored() -> None:
    factory = kept_factory()
    grow(factory, 2)
    stored = ledger.issue_checkpoint(factory, administrator(), ORIGIN, SIGNER)
    anchor = open_anchor(stored.note, [VERIFIER], ORIGIN)
    where = FakeCheckpointKeeper().path

    assert ledger.missing_checkpoint(anchor, [stored], VERIFIER, ORIGIN, where) is None
    missing = ledger.missing_checkpoint(anchor, [], VERIFIER, ORIGIN, where)
    assert missing is not None and "it holds none" in missing


# -- export ------------------------------------------------------------------------------------


def test_the_export_holds_the_ledger_up_to_its_latest_checkpoint(
    factory: FakeUnitOfWorkFactory,
) -> None:
    grow(factory, 3)
    _checkpoint(factory)
    grow(factory, 1)  # after the checkpoint: not exported

    latest, lines = ledger.export(factory, auditor(), ORIGIN, VERIFIER)

    assert latest.size == 3
    verified = verify_export(io.BytesIO(b"".join(lines)), [VERIFIER])
    assert verified.checkpoint.size == 3
    assert verified.types == {"threshold.set": 3}


def test_no_export_without_a_checkpoint_or_the_permission(factory: FakeUnitOfWorkFactory) -> None:
    grow(factory, 1)

    with pytest.raises(NotFound, match="no signed checkpoint"):
        ledger.export(factory, auditor(), ORIGIN)
    with pytest.raises(PermissionDenied):
        ledger.export(factory, bench_operator(), ORIGIN)


def test_an_export_refuses_a_damaged_entry(factory: FakeUnitOfWorkFactory) -> None:
    grow(factory, 3)
    _checkpoint(factory)
    factory.database.storage.entries[1] = b"not an entry"

    _, lines = ledger.export(factory, auditor(), ORIGIN)

    with pytest.raises(Conflict, match="entry 1"):
        b"".join(lines)
