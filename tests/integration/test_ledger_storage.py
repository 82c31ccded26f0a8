"""The ledger stored in SQLite and PostgreSQL answers exactly what the RFC 6962 reference does."""

from __future__ import annotations

import random

import pytest

from triage import bootstrap
from triage.errors import NotFound
from triage.ledger import checkpoint, rfc6962
from triage.ledger.tiles import TILE_WIDTH
from triage.services import ledger as ledger_service


def _append_random_batches(app: bootstrap.App, entries: list[bytes], rng: random.Random) -> None:
    done = 0
    while done < len(entries):
        n = rng.choice([1, 3, 255, 256, 257, 1000])
        with app.uow(write=True) as uow:
            uow.ledger.log.append(entries[done : done + n])
            uow.commit()
        done += n


def _stored_leaves(app: bootstrap.App) -> list[bytes]:
    with app.uow(write=False) as uow:
        return [
            rfc6962.leaf_hash(data)
            for batch in uow.ledger.storage.read_entries(0, 10**9)
            for _, data in batch
        ]


def test_proofs_from_storage_equal_the_reference(app: bootstrap.App) -> None:
    rng = random.Random(2022)
    _append_random_batches(app, [rng.randbytes(40) for _ in range(3 * TILE_WIDTH + 77)], rng)
    leaves = _stored_leaves(app)
    status = ledger_service.status(app.uow, ledger_service.LEDGER_ACTOR)
    assert status.size == len(leaves)
    assert status.root == rfc6962.root_hash(leaves)
    for _ in range(80):
        size = rng.randint(1, len(leaves))
        index = rng.randrange(size)
        proof = ledger_service.prove_inclusion(app.uow, ledger_service.LEDGER_ACTOR, index, size)
        assert proof.hashes == rfc6962.inclusion_proof(leaves[:size], index)
        assert proof.root == rfc6962.root_hash(leaves[:size])
        assert proof.leaf_hash == leaves[index]
        size1 = rng.randint(1, size)
        consistency = ledger_service.prove_consistency(
            app.uow, ledger_service.LEDGER_ACTOR, size1, size
        )
        assert consistency.hashes == rfc6962.consistency_proof(leaves[:size], size1)
        rfc6962.verify_consistency(
            size1, size, consistency.hashes, consistency.root1, consistency.root2
        )


def test_checkpoint_is_signed_stored_and_idempotent(app: bootstrap.App) -> None:
    first = ledger_service.issue_checkpoint(
        app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
    )
    again = ledger_service.issue_checkpoint(
        app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
    )
    assert first == again
    body = checkpoint.open_checkpoint(first.note, [app.verifier_key()], app.origin)
    status = ledger_service.status(app.uow, ledger_service.LEDGER_ACTOR)
    assert (body.size, body.root_hash) == (status.size, status.root)
    assert status.latest_checkpoint == first
    with app.uow(write=True) as uow:
        uow.ledger.log.append([b"more"])
        uow.commit()
    assert ledger_service.issue_checkpoint_if_grown(
        app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
    )
    assert (
        ledger_service.issue_checkpoint_if_grown(
            app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
        )
        is None
    )
    report = ledger_service.verify(
        app.uow, ledger_service.LEDGER_ACTOR, app.verifier_key(), app.origin
    )
    assert report.ok, report.problems
    assert report.checkpoints_checked == 2


def test_a_rolled_back_unit_of_work_leaves_no_entry(app: bootstrap.App) -> None:
    before = ledger_service.status(app.uow, ledger_service.LEDGER_ACTOR)
    with pytest.raises(RuntimeError), app.uow(write=True) as uow:
        uow.ledger.log.append([b"never committed"])
        raise RuntimeError("the state change failed after the entry was appended")
    assert ledger_service.status(app.uow, ledger_service.LEDGER_ACTOR) == before
    assert ledger_service.verify(
        app.uow, ledger_service.LEDGER_ACTOR, app.verifier_key(), app.origin
    ).ok


def test_proof_requests_outside_the_log_are_not_found(app: bootstrap.App) -> None:
    size = ledger_service.status(app.uow, ledger_service.LEDGER_ACTOR).size
    with pytest.raises(NotFound, match="beyond"):
        ledger_service.prove_inclusion(app.uow, ledger_service.LEDGER_ACTOR, 0, size + 1)
    with pytest.raises(NotFound, match="not in a tree"):
        ledger_service.prove_inclusion(app.uow, ledger_service.LEDGER_ACTOR, size)


def test_init_twice_keeps_key_and_facility(app: bootstrap.App) -> None:
    key = app.signer_key()
    again = bootstrap.initialise(app.settings)
    assert not again.key_created and not again.facility_created
    assert again.app.signer_key() == key
    assert ledger_service.status(again.app.uow, ledger_service.LEDGER_ACTOR).size == 1
    again.app.close()


def test_appends_after_another_writer_or_a_rollback_build_on_the_stored_edge(
    app: bootstrap.App,
) -> None:
    """A process remembers the right edge of the tiles after its append (issue 22), under the
    head it wrote: an append by another process (its own memory) or a rolled-back one leaves
    the log at another head, and the next append must build on the stored tiles, not on the
    remembered edge, or the tree would fork."""
    from triage.adapters.ledger_store import SqlLedger
    from triage.ledger.tiles import TileCache

    def mine(data: bytes, commit: bool = True) -> None:
        with app.uow(write=True) as uow:
            uow.ledger.log.append([data])
            if commit:
                uow.commit()

    def another_process(data: bytes) -> None:
        with app.database.write(app.uow.facility_id) as conn:
            SqlLedger(conn, app.uow.facility_id, TileCache()).log.append([data])

    for i in range(300):  # across a full level-0 tile and back into a partial one
        mine(f"mine {i}".encode())
        if i % 7 == 0:
            another_process(f"theirs {i}".encode())
        if i % 11 == 0:
            mine(f"rolled back {i}".encode(), commit=False)
    report = ledger_service.verify(
        app.uow, ledger_service.LEDGER_ACTOR, app.verifier_key(), app.origin
    )
    assert report.ok, report.problems
    with app.uow(write=False) as uow:
        size = uow.ledger.log.head().size
        entries = [uow.ledger.log.entry(i) for i in range(size)]
        root = uow.ledger.log.head().root
    assert not any(e.startswith(b"rolled back") for e in entries)
    assert sum(e.startswith(b"theirs") for e in entries) == 43
    assert root == rfc6962.root_hash(rfc6962.leaf_hashes(entries))
