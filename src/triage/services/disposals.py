"""Destruction and return evidence: the facility's destruction methods, destroying a quarantined
device with its evidence, returning one to its manufacturer, the witness of a destruction, and
the certificates of destruction (per device, from its receipt; per batch, a signed document).

A destruction is recorded in the device's ``device.destroyed`` step (method as it stands,
site, day, evidence files by SHA-256); a second person confirms it as their own act
(``disposal.witnessed``), never the one who recorded it, and until then no certificate of
destruction is issued. Every read is limited to the caller's owner scope.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from triage.domain.caller import Caller
from triage.domain.device import DeviceType
from triage.domain.disposal import (
    DEFAULT_CONFIDENTIALITY,
    DESTROY,
    Destruction,
    DestructionMethod,
    DisposalRecord,
    EvidenceFile,
    NistCategory,
    check_code,
    check_line,
    evidence_type,
    parse_day,
)
from triage.domain.job import TriageJob
from triage.domain.local_time import local
from triage.domain.roles import Permission
from triage.domain.signed_document import SignedDocument, sign_document
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.ledger.entry import Ref, format_time
from triage.services import history, job_steps, retention, steps_by_device
from triage.services.asset_owners import owns_device, reader_scope
from triage.services.common import device_ref, make_entry, record_and_reload
from triage.services.issuer import Issuer
from triage.services.ports import Document, DocumentRenderer, FileStore, UnitOfWorkFactory

WITNESSED = "disposal.witnessed"
METHOD_SET = "destruction_method.set"
BATCH_KIND = "destruction-batch"
MAX_BATCH = 500  # devices on one batch certificate


# -- destruction methods ------------------------------------------------------------------------


def methods(uow_factory: UnitOfWorkFactory, caller: Caller) -> list[DestructionMethod]:
    """Every destruction method, active or not, by code."""
    caller.require(Permission.TRIAGE_READ)
    with uow_factory(write=False) as uow:
        return uow.disposals.methods()


def set_method(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    code: str,
    *,
    name: str,
    category: str,
    description: str,
    tool: str,
    verification: str,
    destination: str,
    confidentiality: str = DEFAULT_CONFIDENTIALITY,
    active: bool = True,
) -> DestructionMethod:
    """Add a destruction method or change one (an administrator); a method taken out of use
    (``active`` False) stays on the certificates of what it destroyed."""
    caller.require(Permission.FACILITY_MANAGE)
    try:
        nist = NistCategory(category.strip().lower())
    except ValueError:
        raise InvalidInput(
            "category: the NIST SP 800-88 category, clear, purge or destroy", field="category"
        ) from None
    method = DestructionMethod(
        code=check_code(code.strip()),
        name=check_line(name, "name", 100),
        category=nist,
        description=check_line(description, "description", 500),
        tool=check_line(tool, "tool", 200),
        verification=check_line(verification, "verification", 300),
        destination=check_line(destination, "destination", 200),
        confidentiality=check_line(confidentiality, "confidentiality", 200),
        active=active,
    )
    with uow_factory(write=True) as uow:
        if uow.disposals.method(method.code) == method:
            raise InvalidInput("nothing to change: the method is already so")
        subject = Ref("destruction_method", method.code)
        entry = make_entry(uow, caller, METHOD_SET, subject, method.as_data())
        return record_and_reload(uow, [entry], lambda: uow.disposals.method(method.code))


# -- destroying and returning ---------------------------------------------------------------------


def keep_evidence(caller: Caller, store: FileStore, content: bytes) -> EvidenceFile:
    """Keep a photo or video of a destruction in the evidence store, before the destruction
    that names it is recorded; returns what the destruction records of it."""
    caller.require(Permission.DEVICE_DISPOSE)
    media_type = evidence_type(content)
    sha256, size = store.put(content)
    return EvidenceFile(sha256, media_type, size)


def destroy(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    store: FileStore,
    job_id: str,
    *,
    reference: str,
    method: str,
    site: str,
    destroyed_on: str | date,
    contact: str = "",
    evidence: Sequence[EvidenceFile | Mapping[str, Any]] = (),
    files: Sequence[bytes] = (),
) -> DisposalRecord:
    """Record the destruction of a quarantined device: its method (an active one), site or
    contractor, day (not in the future) and evidence, photos or videos either uploaded now
    (``files``, kept first) or kept already (``evidence``, each in the store)."""
    caller.require(Permission.DEVICE_DISPOSE)
    typed = [evidence_type(content) for content in files]  # every file checked before any is kept
    given = [e if isinstance(e, EvidenceFile) else EvidenceFile.parse(e) for e in evidence]
    for found in given:
        if store.check(found.sha256) != "ok":
            raise InvalidInput(
                f"evidence: no intact file {found.sha256} in the evidence store: upload it first",
                field="evidence",
            )
        # What is recorded of a file kept already is what the file is, not what was said.
        content = store.read(found.sha256)
        if (len(content), evidence_type(content)) != (found.size, found.media_type):
            raise InvalidInput(
                f"evidence: file {found.sha256} is a {evidence_type(content)} of "
                f"{len(content)} bytes, not as given",
                field="evidence",
            )
    # The files are kept first (by digest: a file kept twice is one file), so that every file a
    # destruction names is there to be shown.
    uploaded = []
    for content, media_type in zip(files, typed, strict=True):
        sha256, size = store.put(content)
        uploaded.append(EvidenceFile(sha256, media_type, size))
    destruction = Destruction.parse(method, site, destroyed_on, given + uploaded, contact)
    job_steps.dispose(uow_factory, caller, job_id, "destroy", reference, destruction)
    return _recorded(uow_factory, job_id)


def return_to_manufacturer(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    job_id: str,
    reference: str,
    manufacturer: str | None = None,
) -> DisposalRecord:
    """Record a quarantined device's return to its manufacturer under the RMA ``reference``
    (``manufacturer``: by default the device's); it leaves as a dispatch."""
    job_steps.dispose(uow_factory, caller, job_id, "return", reference, manufacturer=manufacturer)
    return _recorded(uow_factory, job_id)


def destroy_device(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    store: FileStore,
    device: str,
    **destruction: Any,
) -> DisposalRecord:
    """``destroy`` on the device's open job (the command line names the device)."""
    caller.require(Permission.DEVICE_DISPOSE)
    job_id = steps_by_device.open_job_id(uow_factory, caller, device)
    return destroy(uow_factory, caller, store, job_id, **destruction)


def return_device(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    device: str,
    reference: str,
    manufacturer: str | None = None,
) -> DisposalRecord:
    """``return_to_manufacturer`` on the device's open job."""
    caller.require(Permission.DEVICE_DISPOSE)
    job_id = steps_by_device.open_job_id(uow_factory, caller, device)
    return return_to_manufacturer(uow_factory, caller, job_id, reference, manufacturer)


def _recorded(uow_factory: UnitOfWorkFactory, job_id: str) -> DisposalRecord:
    with uow_factory(write=False) as uow:
        found = uow.disposals.for_job(job_id)
    if found is None:
        raise NotFound(f"no disposal of triage job {job_id}")
    return found


# -- the witness --------------------------------------------------------------------------------


def witness(
    uow_factory: UnitOfWorkFactory, caller: Caller, job_id: str, statement: str
) -> DisposalRecord:
    """A second person confirms a destruction as their own act: never the person who recorded
    it, and once only."""
    caller.require(Permission.DISPOSAL_WITNESS)
    text = check_line(statement, "statement", 500)
    with uow_factory(write=True) as uow:
        found = uow.disposals.for_job(job_id)
        if found is None or found.kind != DESTROY:
            raise NotFound(f"no destruction of triage job {job_id} is recorded")
        if found.recorded_by == caller.id:
            raise PermissionDenied(
                f"separation of duties: {caller.id} recorded the destruction of "
                f"{found.device_id} and cannot witness it; a second person must"
            )
        if found.witnessed:
            raise Conflict(
                f"the destruction of {found.device_id} was witnessed already, by "
                f"{found.witness_id} at {format_time(found.witnessed_at or found.recorded_at)}"
            )
        data = {"job_id": job_id, "statement": text}
        entry = make_entry(uow, caller, WITNESSED, device_ref(found.device_id), data)
        return record_and_reload(uow, [entry], lambda: uow.disposals.for_job(job_id))


def witness_device(
    uow_factory: UnitOfWorkFactory, caller: Caller, device: str, statement: str
) -> DisposalRecord:
    """``witness`` the device's latest destruction."""
    caller.require(Permission.DISPOSAL_WITNESS)
    device_id = history.parse_device_id(device)
    with uow_factory(write=False) as uow:
        found = [r for r in uow.disposals.for_device(device_id) if r.kind == DESTROY]
    if not found:
        raise NotFound(f"no destruction of device {device_id} is recorded")
    return witness(uow_factory, caller, found[0].job_id, statement)


# -- reads ----------------------------------------------------------------------------------------


def awaiting_witness(uow_factory: UnitOfWorkFactory, caller: Caller) -> list[DisposalRecord]:
    """Destructions no one has witnessed yet, oldest first."""
    scope = caller.owner_scope()
    with uow_factory(write=False) as uow:
        return uow.disposals.awaiting_witness(scope)


def disposal(uow_factory: UnitOfWorkFactory, caller: Caller, job_id: str) -> DisposalRecord:
    """How the job's device left (NotFound for another owner's device)."""
    scope = caller.owner_scope()
    with uow_factory(write=False) as uow:
        found = uow.disposals.for_job(job_id)
    if found is None or (scope is not None and found.asset_owner != scope):
        raise NotFound(f"no disposal of triage job {job_id[:64]!r} is recorded")
    return found


def device_disposals(
    uow_factory: UnitOfWorkFactory, caller: Caller, device: str
) -> list[DisposalRecord]:
    """How the device left, latest first (NotFound for another owner's device)."""
    scope = caller.owner_scope()
    device_id = history.parse_device_id(device)
    with uow_factory(write=False) as uow:
        found = uow.disposals.for_device(device_id)
    if scope is not None:
        found = [r for r in found if r.asset_owner == scope]
    if not found:
        raise NotFound(f"no disposal of device {device_id} is recorded")
    return found


def evidence_file(
    uow_factory: UnitOfWorkFactory, caller: Caller, store: FileStore, job_id: str, sha256: str
) -> tuple[bytes, str]:
    """A photo or video of a destruction, with its media type, as long as its file is intact."""
    found = disposal(uow_factory, caller, job_id)
    recorded = next((f for f in found.evidence if f.sha256 == sha256), None)
    missing = f"no evidence file {sha256[:64]} of the disposal of job {job_id}"
    if recorded is None:
        raise NotFound(missing)
    if store.check(sha256) != "ok":
        raise NotFound(retention.purged_notice(uow_factory, sha256) or missing)
    return store.read(sha256), recorded.media_type


# -- certificates of destruction ------------------------------------------------------------------


def certificate(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    device: str,
    issuer: Issuer,
    renderer: DocumentRenderer,
) -> Document:
    """A destroyed device's certificate of destruction (PDF), from its verified receipt:
    refused (Conflict) while its destruction awaits a witness."""
    scope = reader_scope(caller, Permission.RECEIPT_ISSUE)
    device_id = history.parse_device_id(device)
    with uow_factory(write=False) as uow:
        if not owns_device(uow, scope, device_id):
            raise NotFound(f"the ledger has nothing about device {device_id}")
        records = uow.disposals.for_device(device_id)
    latest = records[0] if records else None
    if latest is not None and latest.kind == DESTROY and not latest.witnessed:
        raise Conflict(
            f"the destruction of {device_id} is awaiting a witness: a second person confirms it "
            "(triage disposal witness) before a certificate of destruction is issued"
        )
    signed = history.device_receipt(
        uow_factory, caller, device_id, issuer.origin, issuer.signer_key
    )
    return renderer.destruction_certificate(
        device_id, signed, issuer.verifier_key, issuer.facility.name
    )


@dataclass(frozen=True)
class BatchCertificate:
    """A batch certificate of destruction: the signed document (JSON) and its PDF."""

    signed: SignedDocument
    pdf: Document


def batch_certificate(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    issuer: Issuer,
    renderer: DocumentRenderer,
    *,
    devices: Sequence[str] | None = None,
    since: str | date | None = None,
    until: str | date | None = None,
) -> BatchCertificate:
    """One certificate of destruction for many devices (a list of devices, or the days of a
    range), each with the NIST SP 800-88 sec. 4.8 fields, signed as a whole with the facility's
    key (signed document kind ``destruction-batch``), and its PDF."""
    scope = reader_scope(caller, Permission.RECEIPT_ISSUE)
    wanted = None if not devices else sorted({history.parse_device_id(d) for d in devices})
    first = None if since in (None, "") else parse_day(since)
    last = None if until in (None, "") else parse_day(until)
    if wanted is None and first is None and last is None:
        raise InvalidInput(
            "devices: name the devices, or the first and last day of the destructions",
            field="devices",
        )
    if first is not None and last is not None and first > last:
        raise InvalidInput("until: the last day comes after the first", field="until")
    if wanted is not None and len(wanted) > MAX_BATCH:
        raise InvalidInput(f"devices: at most {MAX_BATCH} on one certificate", field="devices")
    with uow_factory(write=False) as uow:
        records = uow.disposals.destroyed(scope, device_ids=wanted, since=first, until=last)
    if wanted is not None:
        missing = sorted(set(wanted) - {r.device_id for r in records})
        if missing:
            raise NotFound(f"no destruction recorded of {', '.join(missing[:20])}")
    if not records:
        raise NotFound("no destruction is recorded on those days")
    if len(records) > MAX_BATCH:
        raise InvalidInput(
            f"until: {len(records)} destructions, at most {MAX_BATCH} on one certificate",
            field="until",
        )
    waiting = [r.device_id for r in records if not r.witnessed]
    if waiting:
        raise Conflict(
            f"awaiting a witness: the destruction of {', '.join(waiting[:20])} is not witnessed "
            "yet; a second person confirms each before the batch certificate is issued"
        )
    selection: dict[str, Any] = {}
    if wanted is not None:
        selection["devices"] = wanted
    if first is not None:
        selection["since"] = first.isoformat()
    if last is not None:
        selection["until"] = last.isoformat()
    document = {
        "facility": issuer.facility.name,
        "log_origin": issuer.origin,
        "standard": "NIST SP 800-88 Rev.1 section 4.8",
        "selection": selection,
        "devices": [_certified(r) for r in records],
    }
    signed = sign_document(BATCH_KIND, document, issuer.signer_key)
    pdf = renderer.destruction_batch_certificate(signed.to_json(), issuer.verifier_key)
    return BatchCertificate(signed, pdf)


def _certified(record: DisposalRecord) -> dict[str, Any]:
    """One device on a batch certificate: the sec. 4.8 fields as recorded."""
    method = record.method
    # Only destructions recorded with their method and day are listed (``destroyed``).
    assert method is not None
    assert record.destroyed_on is not None
    return {
        "device_id": record.device_id,
        "job_id": record.job_id,
        "manufacturer": record.manufacturer,
        "model": record.model,
        "serial_number": record.device_id,
        "media_type": _media_type(record.device_type),
        "media_source": record.asset_owner,
        "confidentiality": method.confidentiality,
        "sanitisation": {
            "description": method.description,
            "method": method.name,
            "category": method.category.value,
            "tool": method.tool,
            "verification": method.verification,
        },
        "destination": method.destination,
        "destroyed_by": record.recorded_by,
        "role": record.role,
        "destroyed_on": record.destroyed_on.isoformat(),
        "site": record.site,
        "contact": record.contact,
        "reference": record.reference,
        "evidence": [f.as_data() for f in record.evidence],
        "witness": record.witness_id,
        "witnessed_at": format_time(record.witnessed_at) if record.witnessed_at else None,
        "witness_statement": record.witness_statement,
    }


def _media_type(device_type: int | None) -> str:
    if device_type is None:
        return "smart metering device"
    try:
        return f"smart metering device, {DeviceType(device_type).name}"
    except ValueError:
        return f"smart metering device, GBCS type {device_type}"


@dataclass(frozen=True)
class DestructionForm:
    """What the destruction form of a job shows: the job and the methods in use."""

    job: TriageJob
    methods: list[DestructionMethod]
    today: date  # the facility's local day: no destruction is recorded after it


def destruction_form(
    uow_factory: UnitOfWorkFactory, caller: Caller, job_id: str
) -> DestructionForm:
    """The job a destruction form is about, and the active methods to choose from."""
    caller.require(Permission.DEVICE_DISPOSE)
    with uow_factory(write=False) as uow:
        found = uow.jobs.get(job_id)
        active = [m for m in uow.disposals.methods() if m.active]
        today = local(uow.clock.now(), uow.settings.zone).date()
    if found is None:
        raise NotFound(f"no triage job {job_id[:64]!r}")
    return DestructionForm(found, active, today)
