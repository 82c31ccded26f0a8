"""Dispatches (issue 19 item 2): devices of one asset owner leaving the facility, packed with
their seals checked (VVTT), closed under a dispatch note signed by the facility, handed to a
carrier and acknowledged by the asset owner.

Every entry is about the dispatch (subject ``dispatch``); a failed seal check and every
discrepancy the owner reports also raise an exception about the device, in the same
transaction; a failed seal check and a seal the owner reports mismatched or damaged also raise
an incident in the register (source "seal_discrepancy"). The dispatch note is rebuilt byte
for byte from the ``dispatch.closed`` entry, which carries the signed document.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from triage.domain.asset_owner import AssetOwner
from triage.domain.caller import Caller
from triage.domain.dispatch import (
    ACKNOWLEDGEMENT_KIND,
    MAX_DEVICES,
    NOTE_KIND,
    Destination,
    Discrepancy,
    DiscrepancyKind,
    Dispatch,
    DispatchState,
    DispatchSummary,
    SealChecks,
    acknowledgement_document,
    check_discrepancies,
    check_line,
    check_reference,
    discrepancy,
    parse_destination,
    read_acknowledgement,
    received_devices,
)
from triage.domain.job import TriageJob
from triage.domain.lifecycle import TRANSITIONS, Action
from triage.domain.roles import Permission
from triage.domain.seals import normalise_serial
from triage.domain.signed_document import (
    SignedDocument,
    parse_document,
    sign_document,
    verify_document,
)
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.ledger import canonical
from triage.ledger.entry import Entry, Ref, format_time
from triage.ledger.errors import VerificationError
from triage.ledger.log import StoredCheckpoint
from triage.ledger.receipt import build_receipt, receipt_digest, verify_receipt
from triage.services import custody, incidents, witnessing
from triage.services.asset_owners import get_owner
from triage.services.common import (
    device_ref,
    exception_entry,
    make_entry,
    record_and_reload,
)
from triage.services.history import parse_device_id
from triage.services.issuer import Issuer
from triage.services.ports import Document, DocumentRenderer, UnitOfWork, UnitOfWorkFactory

SEAL_CHECK_FAILED = "seal_check_failed"
DISPATCH_DISCREPANCY = "dispatch_discrepancy"
# The step that returned a device, with the reference a dispatch of its return carries.
_RETURNED = {
    Destination.MANUFACTURER: TRANSITIONS[Action.RETURN_TO_MANUFACTURER].entry_type,
    Destination.DCC: TRANSITIONS[Action.RETURN_TO_DCC].entry_type,
}


def _ref(dispatch_id: str) -> Ref:
    return Ref("dispatch", dispatch_id)


def _get(uow: UnitOfWork, dispatch_id: str, scope: str | None = None) -> Dispatch:
    """The dispatch, or NotFound (also for one of another owner than ``scope``)."""
    found = uow.dispatches.get(dispatch_id.strip()[:36])
    if found is None or (scope is not None and found.asset_owner != scope):
        raise NotFound(f"no dispatch {dispatch_id[:40]!r}")
    return found


def _record(uow: UnitOfWork, entries: Sequence[Entry], dispatch_id: str) -> Dispatch:
    return record_and_reload(uow, entries, lambda: uow.dispatches.get(dispatch_id))


# -- the facility's side -----------------------------------------------------------------------


def create(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    asset_owner: str,
    destination: str,
    reference: str | None = None,
) -> Dispatch:
    """Open a dispatch for one asset owner, to the owner or (with its RMA reference) to the
    manufacturer (stores or a supervisor)."""
    caller.require(Permission.DISPATCH_MANAGE)
    where = parse_destination(destination)
    rma = check_reference(where, reference)
    with uow_factory(write=True) as uow:
        owner = get_owner(uow, asset_owner)
        if not owner.active:
            raise Conflict(f"asset owner {owner.id} is not active: nothing is dispatched to it")
        dispatch_id = str(uuid.uuid4())
        data: dict[str, Any] = {"asset_owner": owner.id, "destination": where.value}
        if rma is not None:
            data["reference"] = rma
        entry = make_entry(uow, caller, "dispatch.created", _ref(dispatch_id), data)
        return _record(uow, [entry], dispatch_id)


def pack(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    dispatch_id: str,
    device: str,
    seal_serial: str,
    checks: SealChecks,
) -> Dispatch:
    """Pack a device into an open dispatch, with its seal scanned and the VVTT checks
    confirmed. "Verified" holds only when the packer confirms it and the scanned serial is the
    seal recorded as fitted on the device's job. A device whose checks fail is not packed: the
    attempt is recorded with an exception for a supervisor, and Conflict says so."""
    caller.require(Permission.DISPATCH_MANAGE)
    device_id = parse_device_id(device)
    scanned = normalise_serial(seal_serial, "seal_serial") if seal_serial.strip() else ""
    with uow_factory(write=True) as uow:
        found = _get(uow, dispatch_id)
        found.require(DispatchState.OPEN, doing="packed")
        job = _packable_job(uow, found, device_id)
        if len(found.devices) >= MAX_DEVICES:
            raise Conflict(f"a dispatch holds at most {MAX_DEVICES} devices: open another")
        confirmed = SealChecks(
            checks.viewed,
            checks.verified and scanned == (job.seal_serial or ""),
            checks.tugged,
            checks.twisted,
        )
        failed = confirmed.failed()
        if failed:
            _refuse(uow, caller, found, job, scanned, confirmed)
            uow.commit()
            raise Conflict(_refusal(device_id, job, scanned, failed))
        data: dict[str, Any] = {
            "device_id": device_id,
            "job_id": job.id,
            "seal_serial": job.seal_serial,
            "checks": confirmed.to_json(),
        }
        if found.destination is not Destination.ASSET_OWNER:
            data["reference"] = found.reference
        entry = make_entry(uow, caller, "dispatch.device_packed", _ref(found.id), data)
        moved = custody.dispatch_bay_entries(
            uow, caller, device_id, f"packed into dispatch {found.id}"
        )
        return _record(uow, [entry, *moved], found.id)


def _packable_job(uow: UnitOfWork, found: Dispatch, device_id: str) -> TriageJob:
    """The device's latest job, if it may go in this dispatch; Conflict saying why not."""
    known = uow.devices.get(device_id)
    jobs = uow.jobs.for_device(device_id)
    if known is None or not jobs:
        raise NotFound(f"device {device_id} was never received here")
    if known.asset_owner != found.asset_owner:
        raise Conflict(
            f"device {device_id} belongs to another asset owner than {found.asset_owner}: "
            "a dispatch carries one owner's devices"
        )
    job = max(jobs, key=lambda j: (j.opened_at, j.id))
    wanted = found.destination.job_state
    if job.state is not wanted:
        raise Conflict(
            f"device {device_id} cannot go in this dispatch: its latest triage job is "
            f"{job.state.value.replace('_', ' ')}, a dispatch to the "
            f"{found.destination.value.replace('_', ' ')} carries devices "
            f"{wanted.value.replace('_', ' ')}"
        )
    if found.destination is not Destination.ASSET_OWNER:
        rma = _return_reference(uow, job, found.destination)
        if rma != found.reference:
            name = found.destination.reference_name
            raise Conflict(
                f"device {device_id} was returned under {name} {rma!r}, not "
                f"{found.reference!r}: pack it in the dispatch of its own {name} reference"
            )
    holder = uow.dispatches.holding(job.id)
    if holder is not None:
        where = "this dispatch" if holder == found.id else f"dispatch {holder}"
        raise Conflict(f"device {device_id} is already packed in {where}")
    return job


def _return_reference(uow: UnitOfWork, job: TriageJob, destination: Destination) -> str | None:
    """The reference (RMA, or the DCC's) recorded when the job's device was returned."""
    for index in reversed(uow.ledger.indexes_for("device", job.device_id)):
        entry = Entry.from_bytes(uow.ledger.log.entry(index))
        if entry.type == _RETURNED[destination] and entry.data.get("job_id") == job.id:
            return str(entry.data.get("reference"))
    return None


def _refuse(
    uow: UnitOfWork,
    caller: Caller,
    found: Dispatch,
    job: TriageJob,
    scanned: str,
    checks: SealChecks,
) -> None:
    failed = checks.failed()
    detail = (
        f"not packed into dispatch {found.id}: the seal failed the check(s) {', '.join(failed)} "
        f"(scanned {scanned or 'no seal'}, recorded {job.seal_serial or 'no seal'})"
    )
    exception_id, raised = exception_entry(uow, caller, job.device_id, SEAL_CHECK_FAILED, detail)
    data = {
        "device_id": job.device_id,
        "job_id": job.id,
        "seal_serial": scanned,
        "checks": checks.to_json(),
        "failed": failed,
        "exception_id": exception_id,
    }
    refused = make_entry(uow, caller, "dispatch.pack_refused", _ref(found.id), data)
    uow.ledger.record([refused, raised])
    incidents.raise_automatic(
        uow,
        "seal_discrepancy",
        device_ref(job.device_id),
        f"Device {job.device_id} {detail}",
        {"dispatch_id": found.id, "job_id": job.id, "failed": failed, "scanned": scanned},
    )


def _refusal(device_id: str, job: TriageJob, scanned: str, failed: list[str]) -> str:
    mismatch = ""
    if "verified" in failed and scanned != (job.seal_serial or ""):
        mismatch = (
            f" (scanned {scanned or 'no seal'}, but the seal fitted on its job is "
            f"{job.seal_serial or 'none'})"
        )
    return (
        f"device {device_id} was not packed: its seal failed the check(s) "
        f"{', '.join(failed)}{mismatch}; the attempt is recorded and a supervisor has an "
        "exception to resolve"
    )


def unpack(
    uow_factory: UnitOfWorkFactory, caller: Caller, dispatch_id: str, device: str
) -> Dispatch:
    """Take a device out of an open dispatch."""
    caller.require(Permission.DISPATCH_MANAGE)
    device_id = parse_device_id(device)
    with uow_factory(write=True) as uow:
        found = _get(uow, dispatch_id)
        found.require(DispatchState.OPEN, doing="unpacked")
        if device_id not in found.device_ids():
            raise Conflict(f"device {device_id} is not packed in dispatch {found.id}")
        data = {"device_id": device_id}
        entry = make_entry(uow, caller, "dispatch.device_unpacked", _ref(found.id), data)
        return _record(uow, [entry], found.id)


def cancel(uow_factory: UnitOfWorkFactory, caller: Caller, dispatch_id: str) -> Dispatch:
    """Cancel an open dispatch: its devices are free for another."""
    caller.require(Permission.DISPATCH_MANAGE)
    with uow_factory(write=True) as uow:
        found = _get(uow, dispatch_id)
        found.require(DispatchState.OPEN, doing="cancelled")
        entry = make_entry(uow, caller, "dispatch.cancelled", _ref(found.id), {})
        return _record(uow, [entry], found.id)


@dataclass(frozen=True)
class _Item:
    device_id: str
    job_id: str
    seal_serial: str | None
    receipt_digest: str
    certificate_sha256: str | None
    checks: dict[str, bool]


def close(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    dispatch_id: str,
    issuer: Issuer,
    renderer: DocumentRenderer,
) -> Dispatch:
    """Freeze the manifest and sign the dispatch note: per device its seal, the digest of its
    receipt and of its triage certificate (released devices), all proven against one signed
    checkpoint the note carries."""
    caller.require(Permission.DISPATCH_MANAGE)
    with uow_factory(write=False) as uow:
        found = _get(uow, dispatch_id)
        found.require(DispatchState.OPEN, doing="closed")
        if not found.devices:
            raise Conflict(f"dispatch {found.id} has no device packed: pack one before closing")
        newest = max(max(uow.ledger.indexes_for("device", d)) for d in found.device_ids())
    checkpoint = witnessing.receipt_checkpoint(
        uow_factory, newest + 1, issuer.origin, issuer.signer_key
    )
    # Receipts and certificates are built before the write lock is taken: a receipt against a
    # given checkpoint is the same bytes whenever it is built, and the dispatch is checked to
    # be unchanged before the note is recorded.
    items, root = _manifest_items(uow_factory, found, checkpoint, issuer, renderer)
    with uow_factory(write=True) as uow:
        again = _get(uow, dispatch_id)
        again.require(DispatchState.OPEN, doing="closed")
        if again.devices != found.devices:
            raise Conflict(f"dispatch {found.id} changed while it was being closed: close it again")
        at = uow.clock.now()
        manifest = {
            "devices": [
                {
                    "device_id": i.device_id,
                    "job_id": i.job_id,
                    "seal_serial": i.seal_serial,
                    "checks": i.checks,
                    "receipt_digest": i.receipt_digest,
                    "certificate_sha256": i.certificate_sha256,
                }
                for i in items
            ],
            "checkpoint": {"size": checkpoint.size, "root_hash": root, "note": checkpoint.note},
        }
        document = _canonical(
            {
                "dispatch_id": found.id,
                "facility": issuer.facility.id,
                "facility_name": issuer.facility.name,
                "origin": issuer.origin,
                "asset_owner": found.asset_owner,
                "destination": found.destination.value,
                "reference": found.reference,
                "closed_at": format_time(at),
                "closed_by": caller.id,
                "manifest": manifest,
                "manifest_sha256": hashlib.sha256(canonical.dumps(manifest)).hexdigest(),
            }
        )
        signed = sign_document(NOTE_KIND, document, issuer.signer_key)
        data = {
            "manifest_sha256": document["manifest_sha256"],
            "note_sha256": signed.digest,
            "document": signed.document,
            "signature": signed.note,
        }
        entry = make_entry(uow, caller, "dispatch.closed", _ref(found.id), data, at)
        return _record(uow, [entry], found.id)


def _manifest_items(
    uow_factory: UnitOfWorkFactory,
    found: Dispatch,
    checkpoint: StoredCheckpoint,
    issuer: Issuer,
    renderer: DocumentRenderer,
) -> tuple[list[_Item], str]:
    items, root = [], ""
    for packed in found.devices:
        with uow_factory(write=False) as uow:
            indexes = [
                i for i in uow.ledger.indexes_for("device", packed.device_id) if i < checkpoint.size
            ]
            receipt = build_receipt(
                uow.ledger.log, issuer.origin, device_ref(packed.device_id), indexes, checkpoint
            )
        verified = verify_receipt(receipt, [issuer.verifier_key])
        root = verified.checkpoint.root_hash.hex()
        certificate = None
        if found.destination is Destination.ASSET_OWNER:
            # Certificates are rendered in reportlab's invariant mode: the same receipt always
            # gives the same bytes, so the digest can be checked against a certificate rebuilt
            # from the receipt proven against the note's checkpoint.
            pdf = renderer.certificate(
                packed.device_id, receipt, issuer.verifier_key, issuer.facility.name
            )
            certificate = hashlib.sha256(pdf.content).hexdigest()
        items.append(
            _Item(
                packed.device_id,
                packed.job_id,
                packed.seal_serial,
                receipt_digest(receipt, verified),
                certificate,
                packed.checks.to_json(),
            )
        )
    return items, root


def _canonical(document: dict[str, Any]) -> dict[str, Any]:
    """The document with its keys in canonical order, so that the note's file is the same
    bytes when it is rebuilt from the ledger entry."""
    loaded: dict[str, Any] = json.loads(canonical.dumps(document))
    return loaded


def hand_over(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    dispatch_id: str,
    carrier: str,
    vehicle: str,
    container_seal: str,
) -> Dispatch:
    """Record the closed dispatch handed to a carrier: its devices have left custody."""
    caller.require(Permission.DISPATCH_MANAGE)
    data = {
        "carrier": check_line(carrier, "carrier"),
        "vehicle": check_line(vehicle, "vehicle"),
        "container_seal": check_line(container_seal, "container_seal"),
    }
    with uow_factory(write=True) as uow:
        found = _get(uow, dispatch_id)
        found.require(DispatchState.CLOSED, doing="handed over")
        entry = make_entry(uow, caller, "dispatch.handed_over", _ref(found.id), data)
        # The devices leave the facility's custody with the carrier, in the same transaction.
        reason = f"handed over in dispatch {found.id} to {data['carrier']}"
        left = [custody.left_entry(uow, caller, d, reason) for d in found.device_ids()]
        return _record(uow, [entry, *left], found.id)


def devices_of(uow: UnitOfWork, dispatch_id: str) -> list[str]:
    """The device ids packed in a dispatch (for custody: handed over, they have left)."""
    return _get(uow, dispatch_id).device_ids()


# -- the asset owner's acknowledgement ----------------------------------------------------------


def acknowledge(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    dispatch_id: str,
    discrepancies: Sequence[tuple[str, str, str]],
) -> Dispatch:
    """The asset owner's person acknowledges receipt as a recorded act, listing what was
    wrong as (device, kind, text); each discrepancy becomes an exception."""
    caller.require(Permission.DISPATCH_ACKNOWLEDGE)
    if caller.asset_owner is None:
        raise PermissionDenied(f"{caller.id} acts for no asset owner")
    found = _discrepancies(discrepancies)
    with uow_factory(write=True) as uow:
        dispatch = _get(uow, dispatch_id, caller.asset_owner)
        return _acknowledged(uow, caller, dispatch, found, {"how": "act"})


def acknowledge_signed(
    uow_factory: UnitOfWorkFactory, caller: Caller, dispatch_id: str, data: bytes
) -> Dispatch:
    """Record an acknowledgement signed with the asset owner's key, uploaded by the owner's
    person or by stores who received it by mail."""
    caller.require(Permission.DISPATCH_ACKNOWLEDGE, Permission.DISPATCH_MANAGE)
    scope = None
    if not caller.can(Permission.DISPATCH_MANAGE):
        if caller.asset_owner is None:
            raise PermissionDenied(f"{caller.id} acts for no asset owner")
        scope = caller.asset_owner
    with uow_factory(write=True) as uow:
        dispatch = _get(uow, dispatch_id, scope)
        owner = get_owner(uow, dispatch.asset_owner)
        if owner.verifier_key is None:
            raise Conflict(
                f"asset owner {owner.id} has no verifier key registered: an administrator "
                "records it (triage asset-owner update --verifier-key) before a signed "
                "acknowledgement can be checked"
            )
        try:
            signed = verify_document(data, [owner.verifier_key], kind=ACKNOWLEDGEMENT_KIND)
        except VerificationError as exc:
            raise InvalidInput(
                f"acknowledgement: not accepted as signed by {owner.id}: {exc}",
                field="acknowledgement",
            ) from None
        _current(dispatch)
        found = _discrepancies(read_acknowledgement(signed.document, dispatch))
        how = {"how": "signed", "acknowledgement_sha256": signed.digest}
        return _acknowledged(uow, caller, dispatch, found, how)


def _discrepancies(items: Sequence[tuple[str, str, str]]) -> list[Discrepancy]:
    return [discrepancy(_discrepancy_device(d), kind, text) for d, kind, text in items]


def _discrepancy_device(text: str) -> str:
    try:
        return parse_device_id(text)
    except InvalidInput as exc:
        raise InvalidInput(f"discrepancies: {exc}", field="discrepancies") from None


def _current(dispatch: Dispatch) -> None:
    if dispatch.state is DispatchState.ACKNOWLEDGED:
        raise Conflict(f"dispatch {dispatch.id} is acknowledged already")
    dispatch.require(DispatchState.HANDED_OVER, doing="acknowledged")


def _acknowledged(
    uow: UnitOfWork,
    caller: Caller,
    dispatch: Dispatch,
    found: Sequence[Discrepancy],
    how: dict[str, Any],
) -> Dispatch:
    _current(dispatch)
    checked = check_discrepancies(dispatch, found)
    entries: list[Entry] = []
    listed = []
    for item in checked:
        detail = (
            f"dispatch {dispatch.id} to {dispatch.asset_owner}: "
            f"{item.kind.value.replace('_', ' ')}" + (f": {item.text}" if item.text else "")
        )
        exception_id, raised = exception_entry(
            uow, caller, item.device_id, DISPATCH_DISCREPANCY, detail
        )
        entries.append(raised)
        listed.append({**item.to_json(), "exception_id": exception_id})
    data = {**how, "received": received_devices(dispatch, checked), "discrepancies": listed}
    entry = make_entry(uow, caller, "dispatch.acknowledged", _ref(dispatch.id), data)
    uow.ledger.record([entry, *entries])
    for item in checked:
        if item.kind in (DiscrepancyKind.SEAL_NUMBER_MISMATCH, DiscrepancyKind.SEAL_DAMAGED):
            incidents.raise_automatic(
                uow,
                "seal_discrepancy",
                device_ref(item.device_id),
                f"{dispatch.asset_owner} reported on receipt of dispatch {dispatch.id}: "
                f"{item.kind.value.replace('_', ' ')}" + (f": {item.text}" if item.text else ""),
                {"dispatch_id": dispatch.id, "kind": item.kind.value, "text": item.text},
            )
    acknowledged = uow.dispatches.get(dispatch.id)
    assert acknowledged is not None, "the projection of dispatch.acknowledged is missing"
    uow.commit()
    return acknowledged


# -- reads ------------------------------------------------------------------------------------


def dispatches(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    state: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[DispatchSummary], int]:
    """A page of the dispatches the caller may see (an owner's person: its own), newest first."""
    scope = caller.owner_scope()
    wanted = None
    if state:
        try:
            wanted = DispatchState(state)
        except ValueError:
            choices = ", ".join(s.value for s in DispatchState)
            raise InvalidInput(f"state: one of {choices}", field="state") from None
    with uow_factory(write=False) as uow:
        return uow.dispatches.page(scope, wanted, max(offset, 0), min(max(limit, 1), 500))


@dataclass(frozen=True)
class DispatchesOverview:
    """The dispatches page: the newest dispatches the caller may see, how many there are, and
    the asset owners a dispatch may be opened for (none unless the caller may open one)."""

    dispatches: list[DispatchSummary]
    total: int
    owners: list[AssetOwner]


def overview(uow_factory: UnitOfWorkFactory, caller: Caller, limit: int) -> DispatchesOverview:
    """The newest ``limit`` dispatches (an owner's person: its own) and, for whoever opens
    dispatches, the registered asset owners, read in one transaction."""
    scope = caller.owner_scope()
    with uow_factory(write=False) as uow:
        found, total = uow.dispatches.page(scope, None, 0, min(max(limit, 1), 500))
        owners = uow.asset_owners.all() if caller.can(Permission.DISPATCH_MANAGE) else []
    return DispatchesOverview(found, total, owners)


def dispatch(uow_factory: UnitOfWorkFactory, caller: Caller, dispatch_id: str) -> Dispatch:
    """One dispatch (NotFound for another owner's person)."""
    scope = caller.owner_scope()
    with uow_factory(write=False) as uow:
        return _get(uow, dispatch_id, scope)


def note(uow_factory: UnitOfWorkFactory, caller: Caller, dispatch_id: str) -> bytes:
    """The signed dispatch note (JSON) of a closed dispatch, as it was signed."""
    scope = caller.owner_scope()
    with uow_factory(write=False) as uow:
        found = _get(uow, dispatch_id, scope)
        signed = uow.dispatches.note(found.id)
    if signed is None:
        raise Conflict(f"dispatch {found.id} is open: its note is signed when it is closed")
    return signed


def note_pdf(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    dispatch_id: str,
    issuer: Issuer,
    renderer: DocumentRenderer,
) -> Document:
    """The dispatch note as a PDF with a QR code of its digest and the dispatch id."""
    signed = note(uow_factory, caller, dispatch_id)
    return renderer.dispatch_note(signed, issuer.verifier_key)


# -- offline: the asset owner's tools (no database) --------------------------------------------


def verify_note(data: bytes, verifier_key: str) -> SignedDocument:
    """Check a dispatch note with the facility's verifier key alone; VerificationError says
    why it is not valid."""
    signed = verify_document(data, [verifier_key], kind=NOTE_KIND)
    document = signed.document
    manifest = document.get("manifest")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("devices"), list):
        raise VerificationError("the dispatch note has no manifest of devices")
    if document.get("manifest_sha256") != hashlib.sha256(canonical.dumps(manifest)).hexdigest():
        raise VerificationError("the manifest's digest does not match the manifest")
    return signed


def sign_acknowledgement(
    note_data: bytes,
    signer_key: str,
    discrepancies: Sequence[tuple[str, str, str]],
    facility_key: str | None = None,
) -> SignedDocument:
    """An asset owner's signed acknowledgement of the dispatch a note describes, listing the
    discrepancies found; the note is checked first when the facility's key is given."""
    if facility_key is not None:
        signed_note = verify_note(note_data, facility_key)
    else:
        signed_note = parse_document(note_data)
        if signed_note.kind != NOTE_KIND:
            raise VerificationError(f"this is a {signed_note.kind}, not a {NOTE_KIND}")
    found = _discrepancies(discrepancies)
    document = acknowledgement_document(signed_note.document, signed_note.digest, found)
    return sign_document(ACKNOWLEDGEMENT_KIND, document, signer_key)
