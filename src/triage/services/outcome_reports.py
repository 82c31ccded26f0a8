"""A consignment's outcome report for its asset owner: how many devices were expected, arrived,
released, quarantined, destroyed, returned to the manufacturer or are not finished; each device
with its outcome, its latest job, its seal and the digest of its receipt, every receipt proven
against one signed checkpoint. Signed with the facility's key as a "consignment-outcome".

Issuing a report is a read: it records no entry (everything in it is already in the ledger, and
the report names the checkpoint that proves it). Only a checkpoint may be issued first, when
none covers the consignment's latest entry, as for any receipt.
"""

from __future__ import annotations

import base64
import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from triage.domain.caller import Caller
from triage.domain.consignment import Consignment
from triage.domain.job import TriageJob
from triage.domain.lifecycle import JobState
from triage.domain.outcome_report import KIND, OUTCOMES
from triage.domain.signed_document import SignedDocument, sign_document
from triage.errors import NotFound
from triage.ledger.checkpoint import Checkpoint, open_checkpoint
from triage.ledger.entry import Ref
from triage.ledger.log import StoredCheckpoint
from triage.ledger.receipt import VerifiedReceipt, build_receipt, receipt_digest
from triage.services import witnessing
from triage.services.common import device_ref
from triage.services.intake import find_consignment
from triage.services.issuer import Issuer
from triage.services.ports import Document, DocumentRenderer, UnitOfWork, UnitOfWorkFactory
from triage.services.spreadsheet import cell

_FINAL = {
    JobState.RELEASED: "released",
    JobState.QUARANTINED: "quarantined",
    JobState.DESTROYED: "destroyed",
    JobState.RETURNED_TO_MANUFACTURER: "returned",
    JobState.RETURNED_TO_DCC: "returned",  # a communications hub, back to the DCC
}


@dataclass(frozen=True)
class DeviceOutcome:
    """One device of the consignment: what became of it, and the digest of its receipt."""

    device_id: str
    outcome: str
    job_id: str | None
    state: str | None
    seal_serial: str | None
    receipt_digest: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "device_id": self.device_id,
            "outcome": self.outcome,
            "job_id": self.job_id,
            "state": self.state,
            "seal_serial": self.seal_serial,
            "receipt_digest": self.receipt_digest,
        }


@dataclass(frozen=True)
class OutcomeReport:
    """The report as signed, and what it says (for the CSV and the PDF)."""

    consignment: Consignment
    counts: dict[str, int]
    devices: list[DeviceOutcome]
    checkpoint_size: int
    generated_at: datetime
    signed: SignedDocument


def outcome_report(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    consignment: str,
    issuer: Issuer,
    asset_owner: str | None = None,
) -> OutcomeReport:
    """The signed outcome report of a consignment (by its reference or id): the facility's
    readers read any, a person of an asset owner only its own (another's is NotFound)."""
    scope = caller.owner_scope()
    with uow_factory(write=False) as uow:
        found = _consignment(uow, consignment, asset_owner, scope)
        arrived = uow.consignments.arrived_devices(found.id)
        missing = uow.consignments.missing_devices(found.id)
        jobs = {d: _job_of(uow.jobs.for_device(d), found.id) for d in arrived}
        indexes = {d: uow.ledger.indexes_for("device", d) for d in arrived}
    needed = max((max(i) for i in indexes.values() if i), default=-1)
    latest = witnessing.receipt_checkpoint(
        uow_factory, needed + 1, issuer.origin, issuer.signer_key
    )
    proven = open_checkpoint(latest.note, [issuer.verifier_key], issuer.origin)
    digests = _receipt_digests(uow_factory, issuer, indexes, latest, proven)
    devices = [_outcome(d, jobs[d], digests.get(d)) for d in sorted(arrived)]
    devices += [DeviceOutcome(d, "not_arrived", None, None, None, None) for d in sorted(missing)]
    counts = {"expected": len(arrived) + len(missing), "arrived": len(arrived)}
    counts |= {o: sum(1 for d in devices if d.outcome == o) for o in OUTCOMES}
    at = uow_factory.clock.now()
    document = {
        "consignment": {
            "id": found.id,
            "reference": found.reference,
            "asset_owner": found.asset_owner,
            "status": str(found.status),
            "created_at": found.created_at.isoformat(),
            "closed_at": None if found.closed_at is None else found.closed_at.isoformat(),
        },
        "facility": issuer.facility.name,
        "origin": issuer.origin,
        "generated_at": at.isoformat(),
        # The checkpoint every receipt digest is proven against (root in base64, as signed).
        "checkpoint": {
            "size": latest.size,
            "root": base64.b64encode(proven.root_hash).decode(),
            "note": latest.note,
        },
        "counts": counts,
        "devices": [d.to_json() for d in devices],
    }
    signed = sign_document(KIND, document, issuer.signer_key)
    return OutcomeReport(found, counts, devices, latest.size, at, signed)


def _consignment(
    uow: UnitOfWork, named: str, asset_owner: str | None, scope: str | None
) -> Consignment:
    if scope is None:
        return find_consignment(uow, named, asset_owner)
    # An asset owner's person is never told another owner's consignment exists.
    hidden = NotFound(f"no consignment {named.strip()[:100]!r}")
    if asset_owner is not None and asset_owner.strip() not in ("", scope):
        raise hidden
    found = uow.consignments.by_reference(scope, named.strip()) or uow.consignments.get(
        named.strip()
    )
    if found is None or found.asset_owner != scope:
        raise hidden
    return found


def _job_of(jobs: list[TriageJob], consignment_id: str) -> TriageJob | None:
    """The device's latest job opened for this consignment."""
    mine = [j for j in jobs if j.consignment_id == consignment_id]
    return max(mine, key=lambda j: (j.opened_at, j.id)) if mine else None


def _outcome(device_id: str, job: TriageJob | None, digest: str | None) -> DeviceOutcome:
    if job is None:
        return DeviceOutcome(device_id, "unfinished", None, None, None, digest)
    outcome = _FINAL.get(job.state, "unfinished")
    seal = job.seal_serial if job.state is JobState.RELEASED else None
    return DeviceOutcome(device_id, outcome, job.id, job.state.value, seal, digest)


def _receipt_digests(
    uow_factory: UnitOfWorkFactory,
    issuer: Issuer,
    indexes: dict[str, list[int]],
    checkpoint: StoredCheckpoint,
    signed: Checkpoint,
) -> dict[str, str]:
    """Each device's receipt digest (the line its certificate prints under its QR code), every
    receipt proven against ``checkpoint`` (verified once, as ``signed``)."""
    found = {}
    with uow_factory(write=False) as uow:
        for device_id, at in indexes.items():
            if not at:
                continue
            ref: Ref = device_ref(device_id)
            receipt = build_receipt(uow.ledger.log, issuer.origin, ref, at, checkpoint)
            proven = VerifiedReceipt(issuer.origin, signed, ref, [])
            found[device_id] = receipt_digest(receipt, proven)
    return found


CSV_COLUMNS = ("device_id", "outcome", "job_id", "state", "seal_serial", "receipt_digest")


def outcome_csv(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    consignment: str,
    issuer: Issuer,
    asset_owner: str | None = None,
) -> tuple[str, str]:
    """The report as CSV (one row a device, formula cells neutralised) and its file name; the
    first lines name the consignment, the counts and the signed report's digest."""
    report = outcome_report(uow_factory, caller, consignment, issuer, asset_owner)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    found = report.consignment
    writer.writerow([cell("# consignment"), cell(found.reference), cell(found.asset_owner)])
    writer.writerow([cell("# report sha256"), cell(report.signed.digest)])
    writer.writerow([cell("# checkpoint size"), cell(report.checkpoint_size)])
    for name, count in report.counts.items():
        writer.writerow([cell(f"# {name}"), cell(count)])
    writer.writerow(CSV_COLUMNS)
    for device in report.devices:
        row = device.to_json()
        writer.writerow([cell(row[c]) for c in CSV_COLUMNS])
    return out.getvalue(), f"outcome-{_safe(found.reference)}.csv"


def outcome_pdf(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    consignment: str,
    issuer: Issuer,
    renderer: DocumentRenderer,
    asset_owner: str | None = None,
) -> Document:
    """The report as a PDF with a QR code of its digest, printed from the signed report."""
    report = outcome_report(uow_factory, caller, consignment, issuer, asset_owner)
    return renderer.outcome_report(report.signed.to_json(), issuer.verifier_key)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]", "_", text)[:60]
