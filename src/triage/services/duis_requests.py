"""DUIS requests out (issue 20 item 2): the 8.4 Update Inventory and 8.3 Decommission requests
a device's triage outcome calls for, by rules kept as data, batched per asset owner for the
DCC User who signs and submits them.

The facility never signs a request: only a DCC User in an eligible role may submit one, and it
signs it with its own key. Every request is validated against the DUIS schema the facility
configured BEFORE it is written: one that does not validate is neither recorded nor handed
out, and the refusal names the element at fault.

A RequestID is ``originator:target:counter``: the originator is the EUI-64 of the asset
owner's DCC User (``triage duis dcc-user``), the target the DCC's (``triage duis target``, the
DUIS templates' 90-B3-D5-1F-30-00-00-02 by default), the counter one more than the largest
recorded for that originator, read under the facility's writer lock (which every writing unit
of work holds from its start) so that two producers never use one twice. The DCC User may
renumber a request when it signs it; the digest recorded is that of the file as written here.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from triage.domain.asset_owner import AssetOwner
from triage.domain.caller import Caller
from triage.domain.device import DeviceType
from triage.domain.duis_request import (
    MAX_COUNTER,
    DccUser,
    DuisBatch,
    DuisSettings,
    ProducedRequest,
    parse_eui,
    request_id,
)
from triage.domain.duis_rules import DeviceFacts, DuisRules, Outcome, RequestKind, Rule
from triage.domain.roles import Permission
from triage.duis.errors import DuisSchemaError
from triage.duis.requests import (
    Decommission,
    DeleteDevice,
    ServiceRequest,
    UpdateDeviceDetails,
    UpdateDeviceStatus,
    describe,
    render,
    service_reference,
)
from triage.errors import Conflict, InvalidInput, NotFound
from triage.ledger.entry import Entry, Ref, format_time
from triage.services.asset_owners import get_owner
from triage.services.common import device_ref, make_entry
from triage.services.ports import DuisValidator, FileStore, UnitOfWork, UnitOfWorkFactory
from triage.services.spreadsheet import cell

# A batch holds at most this many requests; the rest wait for the next one.
MAX_BATCH = 2000
_OUTCOMES = tuple(outcome.value for outcome in Outcome)
# The RequestID a request is first checked with, before its real number is drawn.
_PROVISIONAL = "00-00-00-00-00-00-00-01"


class RequestInvalid(InvalidInput):
    """A request that does not validate against the DUIS schema: nothing was written.
    ``element`` is the element at fault (``/sr:Request/sr:Body/...``)."""

    def __init__(self, message: str, element: str) -> None:
        super().__init__(message, field="request")
        self.element = element


# -- one request, in the caller's transaction ---------------------------------------------------


def write_request(
    uow: UnitOfWork,
    caller: Caller,
    schema: DuisValidator,
    request: ServiceRequest,
    *,
    purpose: str,
    subject: Ref,
    job_id: str | None = None,
) -> ProducedRequest:
    """Number, render and validate ``request``, and record it (``duis.request_written``, with
    the file) in the caller's open transaction; the caller checks who may and commits.

    The device must be known here, and its asset owner have a DCC User recorded (Conflict
    saying how otherwise). RequestInvalid names the element when the file does not validate;
    then nothing is recorded.
    """
    reference = service_reference(request)
    # The request is checked before anything is read: a device id the schema refuses is
    # refused for that, naming the element, not as a device never received.
    _validated(schema, request, request_id(_PROVISIONAL, _PROVISIONAL, 1), reference)
    device = uow.devices.get(request.device_id.upper())
    if device is None:
        raise NotFound(f"device {request.device_id[:40]!r} was never received here")
    dcc_user = _dcc_user(uow, device.asset_owner)
    settings = uow.duis_requests.settings()
    # Counters come from the ledger's projection: the writing unit of work holds the
    # facility's writer lock from its start, so no other producer reads the same last one.
    counter = uow.duis_requests.last_counter(dcc_user.originator) + 1
    if counter > MAX_COUNTER:
        raise Conflict(f"DCC User {dcc_user.originator} has used every RequestID counter")
    number = request_id(dcc_user.originator, settings.target, counter)
    xml = _validated(schema, request, number, reference)
    digest = hashlib.sha256(xml).hexdigest()
    data: dict[str, Any] = {
        "request_id": number,
        "originator": dcc_user.originator,
        "target": settings.target,
        "counter": counter,
        "service_reference": reference,
        "description": describe(request),
        "device_id": device.id.value,
        "asset_owner": device.asset_owner,
        "purpose": purpose[:60],
        "sha256": digest,
        "size": len(xml),
        "xml": xml.decode("utf-8"),
    }
    if job_id is not None:
        data["job_id"] = job_id
    entry = make_entry(uow, caller, "duis.request_written", subject, data)
    uow.ledger.record([entry])
    return _produced(entry)


def _validated(
    schema: DuisValidator, request: ServiceRequest, number: str, reference: str
) -> bytes:
    """The request's file numbered ``number``; RequestInvalid naming the element at fault."""
    try:
        xml = render(request, number)
        schema.validate(xml)
    except DuisSchemaError as exc:
        raise RequestInvalid(
            f"the {reference} request for device {request.device_id[:40]!r} does not validate "
            f"against the DUIS schema: {exc.element}: {exc.reason}; nothing was written",
            exc.element,
        ) from None
    return xml


def _produced(entry: Entry) -> ProducedRequest:
    return ProducedRequest.recorded(entry.data, entry.actor.id, entry.at)


def _dcc_user(uow: UnitOfWork, owner: str) -> DccUser:
    found = uow.duis_requests.dcc_user(owner)
    if found is None:
        raise Conflict(
            f"asset owner {owner} has no DCC User recorded: the requests are numbered with its "
            f"EUI-64; record it first (triage duis dcc-user {owner} EUI-64)"
        )
    return found


# -- the requests due, batched per asset owner --------------------------------------------------


@dataclass(frozen=True)
class ProducedBatch:
    """A batch written: its record, the requests in it and the ZIP itself."""

    batch: DuisBatch
    requests: list[ProducedRequest]
    content: bytes


def rules_in_force(uow: UnitOfWork) -> DuisRules:
    """The rules the facility recorded, else the packaged default."""
    source = uow.duis_requests.settings().rules_source
    return DuisRules.load(source) if source is not None else uow.packaged.duis_rules()


def produce_batch(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    schema: DuisValidator,
    store: FileStore,
    asset_owner: str,
    *,
    dispatch_id: str | None = None,
    consignment_id: str | None = None,
) -> ProducedBatch:
    """Write every request due for the owner's released, destroyed or returned devices (of one
    dispatch or consignment, if given) that was not written yet, and hand them out, with any
    written before and not handed out yet, as one ZIP (``duis.batch_produced``)."""
    caller.require(Permission.DUIS_PRODUCE)
    if dispatch_id and consignment_id:
        raise InvalidInput("give a dispatch or a consignment, not both", field="consignment")
    with uow_factory(write=True) as uow:
        owner = get_owner(uow, asset_owner)
        _dcc_user(uow, owner.id)
        device_ids, consignment = _scope(uow, owner, dispatch_id, consignment_id)
        rules = rules_in_force(uow)
        jobs = uow.duis_requests.finished_jobs(owner.id, _OUTCOMES, device_ids, consignment)
        done = uow.duis_requests.purposes([job.job_id for job in jobs])
        for job in jobs:
            outcome = Outcome(job.state)
            facts = _facts(uow, job.device_id)
            for rule in rules.due(outcome, facts):
                purpose = f"{outcome.value}:{rule.kind.value}"
                if (job.job_id, purpose) in done:
                    continue
                request = _request(rule, job.device_id, facts)
                write_request(
                    uow,
                    caller,
                    schema,
                    request,
                    purpose=purpose,
                    subject=device_ref(job.device_id),
                    job_id=job.job_id,
                )
        if consignment is not None:
            device_ids = [job.device_id for job in jobs]
        pending = uow.duis_requests.unbatched(owner.id, device_ids)[:MAX_BATCH]
        if not pending:
            raise Conflict(
                f"no DUIS request is due for asset owner {owner.id}"
                + (f" in dispatch {dispatch_id}" if dispatch_id else "")
                + (f" in consignment {consignment_id}" if consignment_id else "")
                + ": every released or destroyed device's requests were handed out already"
            )
        batch_id = str(uuid.uuid4())
        at = uow.clock.now()
        files = [(r, _xml(uow, r.request_id)) for r in pending]
        content = _zip(batch_id, owner.id, at, files)
        digest, size = store.put(content)
        data: dict[str, Any] = {
            "asset_owner": owner.id,
            "request_ids": [r.request_id for r in pending],
            "sha256": digest,
            "size": size,
        }
        if dispatch_id:
            data["dispatch_id"] = dispatch_id
        if consignment is not None:
            data["consignment_id"] = consignment
        entry = make_entry(
            uow, caller, "duis.batch_produced", Ref("duis_batch", batch_id), data, at
        )
        uow.ledger.record([entry])
        batch = uow.duis_requests.batch(batch_id)
        batched = uow.duis_requests.in_batch(batch_id)
        uow.commit()
    if batch is None:
        raise NotFound(f"batch {batch_id} was not projected")
    return ProducedBatch(batch, batched, content)


def _scope(
    uow: UnitOfWork, owner: AssetOwner, dispatch_id: str | None, consignment_id: str | None
) -> tuple[list[str] | None, str | None]:
    """The devices of the dispatch, or the consignment's id, the batch is limited to."""
    if dispatch_id:
        found = uow.dispatches.get(dispatch_id.strip()[:36])
        if found is None or found.asset_owner != owner.id:
            raise NotFound(f"no dispatch {dispatch_id[:40]!r} of asset owner {owner.id}")
        return found.device_ids(), None
    if consignment_id:
        wanted = consignment_id.strip()[:64]
        consignment = uow.consignments.get(wanted) or uow.consignments.by_reference(
            owner.id, wanted
        )
        if consignment is None or consignment.asset_owner != owner.id:
            raise NotFound(f"no consignment {consignment_id[:40]!r} of asset owner {owner.id}")
        return None, consignment.id
    return None, None


def _facts(uow: UnitOfWork, device_id: str) -> DeviceFacts:
    """What the rules look at: the latest 8.2 reading's status and firmware when there is
    one, else the status the manifest gave."""
    device = uow.devices.get(device_id)
    if device is None:
        raise NotFound(f"device {device_id} was never received here")
    reading = uow.inventory.latest(device_id)
    if reading is not None:
        return DeviceFacts(
            device.type, reading.status, device.firmware_version, reading.firmware_version
        )
    return DeviceFacts(device.type, device.inventory_status, device.firmware_version)


def _request(rule: Rule, device_id: str, facts: DeviceFacts) -> ServiceRequest:
    if rule.kind is RequestKind.UPDATE_STATUS:
        status = rule.status or "Pending"
        return UpdateDeviceStatus(device_id, status, facts.device_type is DeviceType.CHF)
    if rule.kind is RequestKind.UPDATE_DETAILS:
        return UpdateDeviceDetails(device_id, firmware_version=facts.firmware_version)
    if rule.kind is RequestKind.DECOMMISSION:
        return Decommission(device_id)
    return DeleteDevice(device_id)


def _xml(uow: UnitOfWork, number: str) -> bytes:
    found = uow.duis_requests.xml(number)
    if found is None:
        raise NotFound(f"no DUIS request {number!r}")
    return found


_MANIFEST_COLUMNS = (
    "file",
    "request_id",
    "service_reference",
    "request",
    "device_id",
    "purpose",
    "sha256",
)


def _zip(
    batch_id: str, owner: str, at: datetime, files: Sequence[tuple[ProducedRequest, bytes]]
) -> bytes:
    """One XML per request and a manifest (CSV and JSON) of their RequestIDs and SHA-256s."""
    rows = [
        {
            "file": r.file_name,
            "request_id": r.request_id,
            "service_reference": r.service_reference,
            "request": r.description,
            "device_id": r.device_id,
            "purpose": r.purpose,
            "sha256": r.sha256,
        }
        for r, _ in files
    ]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(_MANIFEST_COLUMNS)
    writer.writerows([[cell(row[c]) for c in _MANIFEST_COLUMNS] for row in rows])
    manifest = {
        "batch_id": batch_id,
        "asset_owner": owner,
        "produced_at": format_time(at),
        "signed": False,
        "note": "Unsigned: the DCC User signs each request before submitting it.",
        "requests": rows,
    }
    stamp = (at.year, at.month, at.day, at.hour, at.minute, at.second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in [
            *((r.file_name, xml) for r, xml in files),
            ("manifest.csv", text.getvalue().encode("utf-8")),
            ("manifest.json", json.dumps(manifest, indent=2).encode("utf-8") + b"\n"),
        ]:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()


# -- settings: each owner's DCC User, the DCC's EUI-64, the rules --------------------------------


def set_dcc_user(
    uow_factory: UnitOfWorkFactory, caller: Caller, asset_owner: str, originator: str
) -> DccUser:
    """Record the EUI-64 of the DCC User who submits the owner's requests."""
    caller.require(Permission.ASSET_OWNER_MANAGE)
    eui = parse_eui(originator, "originator")
    with uow_factory(write=True) as uow:
        owner = get_owner(uow, asset_owner)
        data = {"originator": eui}
        entry = make_entry(uow, caller, "duis.dcc_user_set", Ref("asset_owner", owner.id), data)
        uow.ledger.record([entry])
        found = uow.duis_requests.dcc_user(owner.id)
        uow.commit()
    if found is None:
        raise NotFound(f"the DCC User of {owner.id} was not projected")
    return found


def set_target(uow_factory: UnitOfWorkFactory, caller: Caller, target: str) -> DuisSettings:
    """Record the DCC's EUI-64, the target of every RequestID from now on."""
    caller.require(Permission.FACILITY_MANAGE)
    eui = parse_eui(target, "target")
    with uow_factory(write=True) as uow:
        subject = Ref("facility", uow.facility_id)
        uow.ledger.record([make_entry(uow, caller, "duis.target_set", subject, {"target": eui})])
        found = uow.duis_requests.settings()
        uow.commit()
    return found


def set_rules(uow_factory: UnitOfWorkFactory, caller: Caller, source: bytes) -> DuisRules:
    """Put rules in force (checked in full first); their whole text goes into the ledger."""
    caller.require(Permission.POLICY_MANAGE)
    try:
        rules = DuisRules.load(source)
    except UnicodeDecodeError:
        raise InvalidInput("rules: not UTF-8 text", field="rules") from None
    with uow_factory(write=True) as uow:
        subject = Ref("facility", uow.facility_id)
        data = {"version": rules.version, "sha256": rules.sha256, "source": rules.source}
        uow.ledger.record([make_entry(uow, caller, "duis.rules_set", subject, data)])
        uow.commit()
    return rules


def rules(uow_factory: UnitOfWorkFactory, caller: Caller) -> DuisRules:
    """The rules in force (anyone who may produce requests or manage policies)."""
    caller.require(Permission.DUIS_PRODUCE, Permission.POLICY_MANAGE)
    with uow_factory(write=False) as uow:
        return rules_in_force(uow)


# -- reads ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DuisOverview:
    """The DUIS requests page: the newest batches and requests the caller may see, and for
    whoever produces them, the asset owners with their DCC Users."""

    batches: list[DuisBatch]
    batch_total: int
    requests: list[ProducedRequest]
    request_total: int
    owners: list[AssetOwner]
    dcc_users: list[DccUser]
    settings: DuisSettings


def overview(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    limit: int = 50,
    *,
    dispatch_id: str | None = None,
    consignment_id: str | None = None,
) -> DuisOverview:
    """Batches (of one dispatch or consignment, if given) and requests (an owner's person:
    its own), read in one transaction."""
    scope = caller.owner_scope()
    size = min(max(limit, 1), 500)
    dispatch = (dispatch_id or "").strip()[:36] or None
    consignment = (consignment_id or "").strip()[:64] or None
    with uow_factory(write=False) as uow:
        batches, batch_total = uow.duis_requests.batches(scope, 0, size, dispatch, consignment)
        requests, request_total = uow.duis_requests.page(scope, 0, size)
        producing = caller.can(Permission.DUIS_PRODUCE)
        owners = uow.asset_owners.all() if producing else []
        users = uow.duis_requests.dcc_users() if scope is None else []
        settings = uow.duis_requests.settings()
    return DuisOverview(batches, batch_total, requests, request_total, owners, users, settings)


def batches(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    *,
    dispatch_id: str | None = None,
    consignment_id: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[DuisBatch], int]:
    """A page of batches the caller may see (an owner's person: its own), newest first."""
    scope = caller.owner_scope()
    with uow_factory(write=False) as uow:
        return uow.duis_requests.batches(
            scope, max(offset, 0), min(max(limit, 1), 500), dispatch_id, consignment_id
        )


def requests(
    uow_factory: UnitOfWorkFactory, caller: Caller, offset: int = 0, limit: int = 50
) -> tuple[list[ProducedRequest], int]:
    """A page of the requests written that the caller may see, newest first."""
    scope = caller.owner_scope()
    with uow_factory(write=False) as uow:
        return uow.duis_requests.page(scope, max(offset, 0), min(max(limit, 1), 500))


@dataclass(frozen=True)
class BatchDetail:
    batch: DuisBatch
    requests: list[ProducedRequest]


def batch(uow_factory: UnitOfWorkFactory, caller: Caller, batch_id: str) -> BatchDetail:
    """One batch and its requests (NotFound for another owner's person)."""
    scope = caller.owner_scope()
    with uow_factory(write=False) as uow:
        found = _batch(uow, batch_id, scope)
        return BatchDetail(found, uow.duis_requests.in_batch(found.id))


def batch_file(
    uow_factory: UnitOfWorkFactory, caller: Caller, store: FileStore, batch_id: str
) -> tuple[DuisBatch, bytes]:
    """The batch's ZIP as handed out (its digest checked by the store)."""
    scope = caller.owner_scope()
    with uow_factory(write=False) as uow:
        found = _batch(uow, batch_id, scope)
    return found, store.read(found.sha256)


def request_file(
    uow_factory: UnitOfWorkFactory, caller: Caller, number: str
) -> tuple[ProducedRequest, bytes]:
    """One request's XML as written (NotFound for another owner's person)."""
    scope = caller.owner_scope()
    with uow_factory(write=False) as uow:
        found = uow.duis_requests.get(number.strip()[:100])
        if found is None or (scope is not None and found.asset_owner != scope):
            raise NotFound(f"no DUIS request {number[:100]!r}")
        return found, _xml(uow, found.request_id)


def _batch(uow: UnitOfWork, batch_id: str, scope: str | None) -> DuisBatch:
    found = uow.duis_requests.batch(batch_id.strip()[:36])
    if found is None or (scope is not None and found.asset_owner != scope):
        raise NotFound(f"no DUIS batch {batch_id[:40]!r}")
    return found


def dcc_users(uow_factory: UnitOfWorkFactory, caller: Caller) -> list[DccUser]:
    """Every asset owner's DCC User (the facility's readers)."""
    caller.require(Permission.DUIS_PRODUCE, Permission.ASSET_OWNER_MANAGE)
    with uow_factory(write=False) as uow:
        return uow.duis_requests.dcc_users()
