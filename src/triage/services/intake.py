"""Intake: consignment manifests, scanning devices in, unexpected devices, closing consignments."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypedDict

from triage.domain.caller import Caller
from triage.domain.consignment import (
    Consignment,
    ConsignmentStatus,
    ManifestProblem,
    ManifestRow,
)
from triage.domain.device import LEGACY_NOT_APPLICABLE, Device, DeviceId, FieldError
from triage.domain.job import TriageJob
from triage.domain.lifecycle import JobState
from triage.domain.reason import Reason
from triage.domain.roles import Permission
from triage.errors import Conflict, InvalidInput, NotFound
from triage.ledger.entry import Entry, Ref
from triage.services import assessment, custody, inventory
from triage.services.common import device_ref, exception_entry, make_entry, record_and_reload
from triage.services.ports import UnitOfWork, UnitOfWorkFactory

RECORD_BATCH = 2000
# The kinds of intake exception: a device no open consignment expects, and a device recorded
# as destroyed that was scanned again (it should not exist: someone must find out why).
UNEXPECTED = "unexpected_device"
DESTROYED_RETURNED = "destroyed_device_returned"


class DeviceJson(TypedDict):
    """A device's fields as stored in entries."""

    id: str
    type: int
    manufacturer: str
    model: str
    firmware_version: str
    inventory_status: str
    asset_owner: str
    smets_version: str | None
    chf_id: str | None


def device_json(device: Device) -> DeviceJson:
    """A device's fields as stored in entries."""
    return {
        "id": device.id.value,
        "type": int(device.type),
        "manufacturer": device.manufacturer,
        "model": device.model,
        "firmware_version": device.firmware_version,
        "inventory_status": (
            device.inventory_status.value if device.inventory_status else LEGACY_NOT_APPLICABLE
        ),
        "asset_owner": device.asset_owner,
        "smets_version": device.smets_version,
        "chf_id": device.chf_id.value if device.chf_id else None,
    }


@dataclass
class ImportReport:
    """What an import did (or, as a dry run, would do): the consignment (None in a dry run),
    how many devices, the rows accepted with their line numbers, every rejected row and why."""

    consignment_id: str | None
    imported: int
    problems: list[ManifestProblem] = field(default_factory=list)
    accepted: list[tuple[int, Device]] = field(default_factory=list)


class ManifestRejected(InvalidInput):
    """A manifest with bad rows, imported not at all; ``problems`` lists every one."""

    def __init__(self, problems: list[ManifestProblem]) -> None:
        shown = "; ".join(str(p) for p in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__(
            f"{len(problems)} bad row(s), nothing imported: {shown}{more}. "
            "Fix them, or import the good rows with --skip-invalid."
        )
        self.problems = problems


def import_manifest(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    reference: str,
    asset_owner: str,
    rows: Iterable[ManifestRow],
    skip_invalid: bool = False,
    progress: Callable[[int], None] | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Create a consignment from a manifest; all rows or none, unless ``skip_invalid``.

    A ``dry_run`` records nothing: it reports what would be imported and every row that would
    be refused (the preview before the import), refusing only what refuses the whole manifest
    (a reference imported already, a manifest of no rows)."""
    caller.require(Permission.CONSIGNMENT_IMPORT)
    reference, asset_owner = reference.strip(), asset_owner.strip()
    if not reference or len(reference) > 100:
        raise InvalidInput("reference: give the asset owner's consignment reference (1-100 chars)")
    if not asset_owner or len(asset_owner) > 100:
        raise InvalidInput("asset_owner: name the asset owner (1-100 characters)")
    problems: list[ManifestProblem] = []
    devices: list[tuple[int, Device]] = []
    seen: dict[str, int] = {}
    for row in rows:
        line = row.line
        if row.problem is not None:
            problems.append(ManifestProblem(line, "row", row.problem))
            continue
        device, errors = Device.read(row.fields)
        if device is None:
            problems.extend(ManifestProblem(line, e.field, e.problem) for e in errors)
            continue
        key = device.id.value
        if device.asset_owner != asset_owner:
            # A consignment belongs to one asset owner: a row naming another is not its device.
            problems.append(
                ManifestProblem(
                    line,
                    "asset_owner",
                    f"{key} belongs to {device.asset_owner!r}, not to the consignment's asset "
                    f"owner {asset_owner!r}",
                )
            )
            continue
        if key in seen:
            problems.append(
                ManifestProblem(line, "device_id", f"{key} is a duplicate of line {seen[key]}")
            )
            continue
        seen[key] = line
        devices.append((line, device))
    with uow_factory(write=not dry_run) as uow:
        registered_owner(uow, asset_owner)
        if uow.consignments.by_reference(asset_owner, reference) is not None:
            raise Conflict(f"{asset_owner} consignment {reference!r} was imported already")
        ids = [d.id.value for _, d in devices]
        open_jobs = uow.jobs.open_for_devices(ids)
        expected = uow.consignments.expected_devices(ids)
        accepted: list[tuple[int, Device]] = []
        for line, device in devices:
            key = device.id.value
            refusal = inventory.manifest_refusal(uow, device)
            if refusal is not None:
                problems.append(ManifestProblem(line, "inventory_status", f"{key}: {refusal}"))
            elif key in open_jobs:
                problems.append(ManifestProblem(line, "device_id", f"{key} has an open triage job"))
            elif key in expected:
                problems.append(
                    ManifestProblem(
                        line,
                        "device_id",
                        f"{key} is already expected in open consignment {expected[key]}",
                    )
                )
            else:
                accepted.append((line, device))
        problems.sort(key=lambda p: p.line)
        if not accepted and not problems:
            raise InvalidInput("manifest: it lists no devices; a consignment needs at least one")
        if dry_run:
            return ImportReport(None, len(accepted), problems, accepted)
        # Skipping bad rows still needs a good one: a consignment of nothing would only use up
        # the reference, and the corrected manifest could not be imported under it.
        if problems and (not skip_invalid or not accepted):
            raise ManifestRejected(problems)
        consignment_id = str(uuid.uuid4())
        at = uow.clock.now()
        entries: list[Entry] = [
            make_entry(
                uow,
                caller,
                "consignment.created",
                Ref("consignment", consignment_id),
                {"reference": reference, "asset_owner": asset_owner, "expected": len(accepted)},
                at,
            )
        ]
        done = 0
        for _, device in accepted:
            entries.append(
                make_entry(
                    uow,
                    caller,
                    "consignment.device_expected",
                    device_ref(device.id.value),
                    {"consignment_id": consignment_id, "device": device_json(device)},
                    at,
                )
            )
            if len(entries) >= RECORD_BATCH:
                uow.ledger.record(entries)
                done += len(entries)
                entries = []
                if progress is not None:
                    progress(done)
        uow.ledger.record(entries)
        uow.commit()
    if progress is not None:
        progress(len(accepted) + 1)
    return ImportReport(consignment_id, len(accepted), problems, accepted)


@dataclass(frozen=True)
class ScanResult:
    """What scanning a device did: opened (or found) its job, or raised an exception."""

    device_id: str
    job: TriageJob | None
    created: bool
    exception_id: str | None
    message: str


def scan_device(uow_factory: UnitOfWorkFactory, caller: Caller, scanned: str) -> ScanResult:
    """A device arrives at the facility: open its job, or raise an unexpected-device exception."""
    caller.require(Permission.DEVICE_SCAN)
    try:
        device_id = DeviceId.parse(scanned).value
    except FieldError as exc:
        raise InvalidInput(f"device_id: {exc.problem}") from exc
    with uow_factory(write=True) as uow:
        jobs = uow.jobs.for_device(device_id)
        job = next((j for j in jobs if j.closed_at is None), None)
        if job is not None:
            # Scanned at a bench: the device is now there (a recorded move).
            moved = custody.bench_scan_entries(uow, caller, device_id)
            if moved:
                uow.ledger.record(moved)
                uow.commit()
            return ScanResult(device_id, job, False, None, f"already received, {job.state}")
        assessment.check_may_triage(uow)
        destroyed = jobs[-1] if jobs and jobs[-1].state is JobState.DESTROYED else None
        if destroyed is not None:
            when = destroyed.closed_at or destroyed.opened_at
            exception_id = _raise_exception(
                uow,
                caller,
                device_id,
                DESTROYED_RETURNED,
                f"scanned again, but destroyed on {when.date().isoformat()} (job {destroyed.id})",
            )
            return ScanResult(
                device_id,
                None,
                False,
                exception_id,
                "recorded as DESTROYED: set it aside and do not triage it; a destroyed-device "
                "exception was raised for a supervisor",
            )
        expected = uow.consignments.expected_in_open(device_id)
        if expected is None:
            exception_id = _raise_exception(
                uow,
                caller,
                device_id,
                UNEXPECTED,
                "scanned, but not expected in any open consignment",
            )
            return ScanResult(
                device_id,
                None,
                False,
                exception_id,
                "not expected in any open consignment: set it aside; an unexpected-device "
                "exception was raised for a supervisor",
            )
        consignment_id, device, _ = expected
        inventory.check_may_triage(uow, device_id, expected=device)
        job_id = str(uuid.uuid4())
        data = {
            "job_id": job_id,
            "consignment_id": consignment_id,
            "device": device_json(device),
            "state": "received",
        }
        # Received at a bench, the device is at that bench (a location from its first device).
        bench = custody.bench_location_entries(uow, caller)
        if caller.bench is not None:
            data["bench"] = caller.bench
        entry = make_entry(uow, caller, "device.received", device_ref(device_id), data)
        uow.ledger.record([*bench, entry])
        uow.commit()
    received = TriageJob.received(job_id, device_id, consignment_id, entry.at)
    return ScanResult(device_id, received, True, None, "received: inspect it next")


def _raise_exception(
    uow: UnitOfWork, caller: Caller, device_id: str, kind: str, detail: str
) -> str:
    """Record an intake exception about the device for a supervisor; returns its id."""
    exception_id, entry = exception_entry(uow, caller, device_id, kind, detail)
    uow.ledger.record([entry])
    uow.commit()
    return exception_id


def close_consignment(
    uow_factory: UnitOfWorkFactory, caller: Caller, consignment: str, asset_owner: str | None = None
) -> tuple[Consignment, list[str]]:
    """Close a consignment, named by its reference (with its asset owner when two owners used
    the same one) or its id; returns it and the devices that were expected but never arrived."""
    caller.require(Permission.CONSIGNMENT_CLOSE)
    with uow_factory(write=True) as uow:
        found = find_consignment(uow, consignment, asset_owner)
        if found.status is ConsignmentStatus.CLOSED:
            raise Conflict(
                f"consignment {found.reference} of {found.asset_owner} is already closed"
            )
        missing = uow.consignments.missing_devices(found.id)
        entry = make_entry(
            uow,
            caller,
            "consignment.closed",
            Ref("consignment", found.id),
            {"missing": missing, "arrived": found.arrived, "expected": found.expected},
        )
        closed = record_and_reload(uow, [entry], lambda: uow.consignments.get(found.id))
    return closed, missing


def resolve_exception(
    uow_factory: UnitOfWorkFactory, caller: Caller, exception_id: str, resolution: str
) -> None:
    """Record how an exception (such as an unexpected device) was dealt with."""
    caller.require(Permission.EXCEPTION_RESOLVE)
    text = Reason.parse(resolution, "resolution", "what was done").text
    with uow_factory(write=True) as uow:
        found = uow.exceptions.get(exception_id)
        if found is None:
            raise NotFound(f"no exception {exception_id!r}")
        if found.status != "open":
            raise Conflict(f"exception {exception_id} is already resolved")
        uow.ledger.record(
            [
                make_entry(
                    uow,
                    caller,
                    "exception.resolved",
                    device_ref(found.device_id),
                    {"exception_id": exception_id, "resolution": text},
                )
            ]
        )
        uow.commit()


def registered_owner(uow: UnitOfWork, asset_owner: str) -> None:
    """Refuse (InvalidInput on ``asset_owner``) a consignment for an asset owner that is not
    registered and active: its devices must belong to a party that can be dispatched to."""
    found = uow.asset_owners.get(asset_owner)
    if found is None:
        raise InvalidInput(
            f"asset_owner: {asset_owner!r} is not a registered asset owner; an administrator "
            f"registers it first (triage asset-owner add {asset_owner!r} --name NAME, or the "
            "Asset owners page)",
            field="asset_owner",
        )
    if not found.active:
        raise InvalidInput(
            f"asset_owner: {asset_owner!r} is deactivated; an administrator reactivates it "
            "before its consignments are imported",
            field="asset_owner",
        )


def find_consignment(uow: UnitOfWork, named: str, asset_owner: str | None = None) -> Consignment:
    """The consignment ``named`` by its reference (the asset owner's, which people see and say)
    or its id; with ``asset_owner`` only that owner's reference. NotFound, or InvalidInput
    naming the owners when two owners used the reference."""
    named = named.strip()
    if asset_owner is not None and asset_owner.strip():
        found = uow.consignments.by_reference(asset_owner.strip(), named)
        if found is None:
            raise NotFound(f"no consignment {named!r} of {asset_owner.strip()}")
        return found
    by_id = uow.consignments.get(named)
    if by_id is not None:
        return by_id
    same = uow.consignments.with_reference(named)
    if not same:
        raise NotFound(f"no consignment {named!r}")
    if len(same) > 1:
        owners = ", ".join(sorted(c.asset_owner for c in same))
        raise InvalidInput(
            f"asset_owner: {len(same)} asset owners used the reference {named!r} ({owners}): "
            "name the asset owner too"
        )
    return same[0]
