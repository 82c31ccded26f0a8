"""An assessment's evidence pack: what the service hands the pack builder, against the fake unit
of work (the builder's own tests, in tests/unit/adapters, check the PDF and the zip)."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import assurance_seed as seed
from tests.unit.services.assurance_seed import ISSUER, FakeFileStore, FakePackBuilder, FakeReplay
from tests.unit.services.callers import administrator, auditor, nobody
from triage.domain.assurance_records import Assessment
from triage.errors import Conflict, NotFound, PermissionDenied
from triage.ledger import rfc6962
from triage.ledger.checkpoint import open_checkpoint
from triage.services import assessment, automatic_evidence, evidence_pack


@pytest.fixture
def store() -> FakeFileStore:
    return FakeFileStore()


def _with_evidence(factory: FakeUnitOfWorkFactory, store: FakeFileStore) -> Assessment:
    """A FUSA of G1 and G3.4 with an uploaded document and two automatic ones attached."""
    uploaded = seed.upload(factory, store, content=b"%PDF the scope")
    made = automatic_evidence.generate(
        factory,
        administrator(),
        ISSUER,
        FakeReplay(),
        store,
        ["ledger_verification", "replay_check"],
    )
    planned = seed.plan(factory, controls=["G1", "G3.4"])
    ids = [uploaded.id, *(e.id for e in made)]
    return assessment.attach_evidence(factory, administrator(), planned.id, ids)


def test_the_pack_carries_each_file_with_a_proof_against_one_signed_checkpoint(
    factory: FakeUnitOfWorkFactory, store: FakeFileStore
) -> None:
    attached = _with_evidence(factory, store)
    builder = FakePackBuilder()

    pack = evidence_pack.evidence_pack(factory, auditor(), attached.id, ISSUER, store, builder)

    assert (pack.report, pack.pack) == (
        f"report of {attached.id}".encode(),
        f"pack of {attached.id}".encode(),
    )
    assert (pack.filename, pack.report_filename) == (
        f"evidence-pack-{attached.id}.zip",
        f"evidence-pack-{attached.id}.pdf",
    )
    assert builder.given["facility_name"] == ISSUER.facility.name
    assert builder.given["catalogue_label"] == "sec-triage 2026.12.1"
    assert [r.control.id for r in builder.given["readiness"]] == ["G1", "G3.4"]
    files = builder.given["files"]
    assert [(item.id, content) for item, content in files] == [
        (e.id, store.read(e.sha256)) for e in attached.evidence
    ]
    proofs = builder.given["proofs"]
    assert sorted(proofs) == sorted(e.id for e in attached.evidence)
    size = len(factory.entries())
    for item in attached.evidence:
        given = proofs[item.id]
        checkpoint = open_checkpoint(given.checkpoint, [ISSUER.verifier_key], ISSUER.origin)
        assert (given.proof.index, given.proof.size, checkpoint.size) == (
            item.ledger_index,
            size,
            size,
        )
        assert given.entry == factory.entries()[given.proof.index].to_bytes()
        rfc6962.verify_inclusion(
            rfc6962.leaf_hash(given.entry),
            given.proof.index,
            given.proof.size,
            given.proof.hashes,
            checkpoint.root_hash,
        )


def test_no_pack_is_made_while_an_evidence_file_no_longer_matches(
    factory: FakeUnitOfWorkFactory, store: FakeFileStore
) -> None:
    attached = _with_evidence(factory, store)
    store.alter(attached.evidence[0].sha256)
    builder = FakePackBuilder()

    with pytest.raises(Conflict, match="no longer matches the SHA-256"):
        evidence_pack.evidence_pack(factory, auditor(), attached.id, ISSUER, store, builder)
    assert builder.given == {}


def test_the_pack_of_an_unknown_assessment_or_for_a_caller_without_read_is_refused(
    factory: FakeUnitOfWorkFactory, store: FakeFileStore
) -> None:
    attached = _with_evidence(factory, store)
    builder = FakePackBuilder()

    with pytest.raises(NotFound, match="no assessment 'nope'"):
        evidence_pack.evidence_pack(factory, auditor(), "nope", ISSUER, store, builder)
    with pytest.raises(PermissionDenied):
        evidence_pack.evidence_pack(factory, nobody(), attached.id, ISSUER, store, builder)
    assert builder.given == {}
