"""An assessment's evidence pack: its report (PDF), every evidence file checked against its
recorded SHA-256, and the inclusion proof of each one's ledger entry (zip)."""

from __future__ import annotations

from dataclasses import dataclass

from triage.domain.assurance_records import AttachedEvidence
from triage.domain.caller import Caller
from triage.services import assessment, assurance
from triage.services import ledger as ledger_service
from triage.services.issuer import Issuer
from triage.services.ports import EntryProof, FileStore, PackBuilder, UnitOfWorkFactory


@dataclass(frozen=True)
class EvidencePack:
    """The report (PDF), the pack (zip), and the pack's file name."""

    report: bytes
    pack: bytes
    filename: str

    @property
    def report_filename(self) -> str:
        return self.filename.removesuffix(".zip") + ".pdf"


def evidence_pack(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    assessment_id: str,
    issuer: Issuer,
    store: FileStore,
    builder: PackBuilder,
) -> EvidencePack:
    """The assessment's evidence pack, every proof against one signed checkpoint of the log as
    it is now, each carrying its entry's bytes: checkable with nothing but the verifier key."""
    found = assessment.get(uow_factory, caller, assessment_id)
    chosen = set(found.controls)
    rows = [
        r for r in assurance.control_readiness(uow_factory, caller, store) if r.control.id in chosen
    ]
    files: list[tuple[AttachedEvidence, bytes]] = []
    proofs: dict[str, EntryProof] = {}
    ledger_service.issue_checkpoint_if_grown(
        uow_factory, ledger_service.LEDGER_ACTOR, issuer.origin, issuer.signer_key
    )
    checkpoint = ledger_service.status(uow_factory, ledger_service.LEDGER_ACTOR).latest_checkpoint
    for item in found.evidence:
        _, content = assurance.evidence_file(uow_factory, caller, store, item.id)
        files.append((item, content))
        if item.ledger_index is not None and checkpoint is not None:
            proof = ledger_service.prove_inclusion(
                uow_factory, ledger_service.LEDGER_ACTOR, item.ledger_index, checkpoint.size
            )
            with uow_factory(write=False) as uow:
                entry = uow.ledger.log.entry(item.ledger_index)
            proofs[item.id] = EntryProof(proof, entry, checkpoint.note)
    catalogue, _, _ = assurance.catalogue_parts(uow_factory, caller)
    at = uow_factory.clock.now()
    report = builder.report(
        found, rows, issuer.facility.name, f"{catalogue.name} {catalogue.version}", at
    )
    pack = builder.pack(found, rows, files, proofs, report, at)
    return EvidencePack(report, pack, builder.filename(found))
