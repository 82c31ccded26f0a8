"""The Smart Metering Inventory in the DCC's own words (issue 20): DUIS 8.2 Read Inventory
responses in, and the SMI gate.

A Read Inventory response (one device or up to 17) is imported while the facility holds its
devices: expected in an open consignment (at intake), or with an open job not yet reset. The
file is kept by its SHA-256 in the evidence store (``inventory.response_imported``); each device
held gets a ``device.inventory_read`` entry with what the DCC said, and each difference from the
manifest an ``inventory_mismatch`` exception for a supervisor. Devices the facility does not
hold are reported back, not recorded.

The SMI gate (``check_may_triage``): a device whose latest reading (else its manifest) says a
status in the facility's refused set (data: ``inventory.smi_policy_set``; default Commissioned
and InstalledNotCommissioned) is not triaged: not scanned in, inspected or reset.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from triage.domain.caller import Caller
from triage.domain.device import Device, DeviceType, FieldError, InventoryStatus
from triage.domain.inventory_reading import (
    DEFAULT_REFUSED,
    InventoryReading,
    in_order,
    refusal_reason,
)
from triage.domain.inventory_reading import refused_statuses as parse_refused
from triage.domain.lifecycle import JobState
from triage.domain.roles import Permission
from triage.duis.errors import DuisError, DuisSchemaError
from triage.duis.responses import READ_INVENTORY, DuisResponse, InventoryDevice, read_response
from triage.errors import Conflict, InvalidInput, NotFound
from triage.ledger.entry import Entry, Ref, format_time
from triage.services.common import device_ref, exception_entry, make_entry, record_and_reload
from triage.services.history import parse_device_id
from triage.services.ports import DuisValidator, FileStore, UnitOfWork, UnitOfWorkFactory

IMPORTED = "inventory.response_imported"
READ = "device.inventory_read"
POLICY_SET = "inventory.smi_policy_set"
MISMATCH = "inventory_mismatch"
MAX_REFERENCE = 100
RECENT = 50
# An open job whose device has not been reset yet: the inventory can still stop its triage.
BEFORE_RESET = frozenset(
    {
        JobState.RECEIVED,
        JobState.INSPECTED,
        JobState.AWAITING_REVIEW,
        JobState.ELIGIBLE,
        JobState.REVERIFY_METROLOGY,
        JobState.QUARANTINED,
        JobState.RESET_AUTHORISED,
    }
)


@dataclass(frozen=True)
class DeviceOutcome:
    """What an import did with one device of the response."""

    device_id: str
    recorded: bool
    where: str  # "job J" / "consignment C", or why the facility does not hold it
    status: str | None
    mismatches: tuple[str, ...] = ()
    exception_ids: tuple[str, ...] = ()
    refusal: str | None = None  # why the SMI gate now refuses its triage, if it does


@dataclass(frozen=True)
class InventoryImport:
    """An imported response: its file, its ids and one outcome per device listed."""

    sha256: str
    response_id: str | None
    request_id: str | None
    response_at: str
    devices: tuple[DeviceOutcome, ...]

    @property
    def not_held(self) -> list[str]:
        """The devices listed that the facility does not hold (nothing recorded of them)."""
        return [d.device_id for d in self.devices if not d.recorded]


@dataclass(frozen=True)
class InventoryOverview:
    """The inventory page: recent readings and the refused statuses."""

    recent: list[InventoryReading]
    refused: list[str]
    is_default: bool


@dataclass(frozen=True)
class _Held:
    job_id: str | None
    consignment_id: str | None
    manifest: Device


def import_response(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    store: FileStore,
    data: bytes,
    schema: DuisValidator | None = None,
    reference: str | None = None,
) -> InventoryImport:
    """Import a DCC Read Inventory (8.2) response; refused whole (InvalidInput on ``response``,
    nothing recorded) when it is not one, does not validate against ``schema``, is not a
    success (I0), or names no device the facility holds (Conflict)."""
    caller.require(Permission.INVENTORY_IMPORT)
    note = _reference(reference)
    response = _read(data, schema)
    with uow_factory(write=True) as uow:
        held = {d.device_id.value: _held(uow, d.device_id.value) for d in response.inventory}
        if not any(isinstance(h, _Held) for h in held.values()):
            shown = "; ".join(f"{k}: {v}" for k, v in held.items())
            raise Conflict(f"the response names no device the facility holds ({shown})")
        digest = hashlib.sha256(data).hexdigest()
        for device_id, found in held.items():
            latest = uow.inventory.latest(device_id)
            if isinstance(found, _Held) and latest is not None and latest.sha256 == digest:
                raise Conflict(f"this response was imported already (device {device_id})")
        sha256, size = store.put(data)
        at = format_time(response.response_datetime)
        entries: list[Entry] = []
        outcomes: list[DeviceOutcome] = []
        refused = refused_statuses(uow)
        for listed in response.inventory:
            found = held[listed.device_id.value]
            status = listed.status.value if listed.status else None
            if not isinstance(found, _Held):
                outcomes.append(DeviceOutcome(listed.device_id.value, False, found, status))
                continue
            outcome, recorded = _recorded(uow, caller, response, listed, found, sha256, refused)
            outcomes.append(outcome)
            entries.extend(recorded)
        summary = {
            "sha256": sha256,
            "bytes": size,
            "reference": note,
            "response_id": response.response_id,
            "request_id": response.request_id,
            "response_code": response.response_code,
            "response_at": at,
            "service_reference": response.service_reference,
            "recorded": [o.device_id for o in outcomes if o.recorded],
            "not_held": [o.device_id for o in outcomes if not o.recorded],
        }
        head = make_entry(uow, caller, IMPORTED, Ref("duis_response", sha256), summary)
        uow.ledger.record([head, *entries])
        uow.commit()
    return InventoryImport(sha256, response.response_id, response.request_id, at, tuple(outcomes))


def readings(
    uow_factory: UnitOfWorkFactory, caller: Caller, device_id: str
) -> list[InventoryReading]:
    """A device's readings, oldest first; an asset owner's person sees its own devices' only
    (NotFound for any other)."""
    scope = caller.owner_scope()
    key = parse_device_id(device_id)
    with uow_factory(write=False) as uow:
        device = _manifest(uow, key)
        found = uow.inventory.for_device(key)
    if scope is not None and (device is None or device.asset_owner != scope):
        raise NotFound(f"no device {key}")
    if device is None and not found:
        raise NotFound(f"no device {key}")
    return found


def _manifest(uow: UnitOfWork, device_id: str, expected: Device | None = None) -> Device | None:
    """The device as the register has it, else as an open consignment expects it
    (``expected``, when the caller has just read it)."""
    device = uow.devices.get(device_id)
    if device is None and expected is None:
        found = uow.consignments.expected_in_open(device_id)
        return found[1] if found is not None else None
    return device if device is not None else expected


def overview(uow_factory: UnitOfWorkFactory, caller: Caller) -> InventoryOverview:
    """The recent readings of every device and the SMI gate's refused statuses."""
    caller.require(Permission.TRIAGE_READ)
    with uow_factory(write=False) as uow:
        recent = uow.inventory.recent(RECENT)
        stored = uow.inventory.refused_statuses()
    chosen = DEFAULT_REFUSED if stored is None else stored
    return InventoryOverview(recent, in_order(chosen), stored is None)


def smi_policy(uow_factory: UnitOfWorkFactory, caller: Caller) -> list[str]:
    """The statuses in which the SMI gate refuses triage, in DUIS order."""
    return overview(uow_factory, caller).refused


def set_smi_policy(
    uow_factory: UnitOfWorkFactory, caller: Caller, statuses: Sequence[str]
) -> list[str]:
    """Set the statuses in which the SMI gate refuses triage (a policy manager); an empty set
    refuses none."""
    caller.require(Permission.POLICY_MANAGE)
    try:
        chosen = parse_refused(statuses)
    except FieldError as exc:
        raise InvalidInput(f"refuse: {exc.problem}", field="refuse") from exc
    with uow_factory(write=True) as uow:
        if refused_statuses(uow) == chosen:
            raise InvalidInput(
                "refuse: the SMI gate refuses exactly these statuses already", field="refuse"
            )
        subject = Ref("facility", uow.facility_id)
        entry = make_entry(uow, caller, POLICY_SET, subject, {"refused": in_order(chosen)})
        return in_order(record_and_reload(uow, [entry], uow.inventory.refused_statuses))


# -- the SMI gate ---------------------------------------------------------------------------


def refused_statuses(uow: UnitOfWork) -> frozenset[InventoryStatus]:
    """The statuses in which the facility refuses triage (the default until a policy is set)."""
    stored = uow.inventory.refused_statuses()
    return DEFAULT_REFUSED if stored is None else stored


def manifest_refusal(uow: UnitOfWork, device: Device) -> str | None:
    """Why a manifest row's status keeps the device out of triage, or None."""
    return refusal_reason(device.inventory_status, refused_statuses(uow), "the manifest")


def check_may_triage(
    uow: UnitOfWork,
    device_id: str,
    registered: Device | None = None,
    expected: Device | None = None,
) -> None:
    """Refuse (Conflict, with the reason) triage of a device whose latest SMI reading (or,
    with none, its manifest) says a status the facility refuses. ``registered``: the device
    as the register has it, ``expected``: as an open consignment expects it, when the caller
    has just read it (not read again)."""
    reason = gate_reason(uow, device_id, registered, expected)
    if reason is not None:
        raise Conflict(f"device {device_id}: {reason}")


def gate_reason(
    uow: UnitOfWork,
    device_id: str,
    registered: Device | None = None,
    expected: Device | None = None,
) -> str | None:
    """Why the SMI gate refuses the device's triage (see ``check_may_triage``), or None."""
    refused = refused_statuses(uow)
    reading = uow.inventory.latest(device_id)
    if reading is not None and reading.status is not None:
        return refusal_reason(reading.status, refused, _source(reading))
    manifest = registered if registered is not None else _manifest(uow, device_id, expected)
    if manifest is None:
        return None
    return refusal_reason(manifest.inventory_status, refused, "the manifest")


def _source(reading: InventoryReading) -> str:
    return (
        f"the DCC's Read Inventory response {reading.identity} of "
        f"{format_time(reading.response_at)}"
    )


# -- reading and recording ------------------------------------------------------------------


def _reference(reference: str | None) -> str | None:
    if reference is None or not reference.strip():
        return None
    text = reference.strip()
    if len(text) > MAX_REFERENCE or not text.isprintable():
        raise InvalidInput(
            f"reference: 1-{MAX_REFERENCE} printable characters (the DCC User's reference)",
            field="reference",
        )
    return text


def _read(data: bytes, schema: DuisValidator | None) -> DuisResponse:
    try:
        response = read_response(data)
        if schema is not None:
            schema.validate(data)
    except DuisSchemaError as exc:
        raise InvalidInput(
            f"response: not valid against the DUIS schema: {exc}", field="response"
        ) from exc
    except DuisError as exc:
        raise InvalidInput(f"response: {exc}", field="response") from exc
    if not response.succeeded:
        raise InvalidInput(
            f"response: the DCC answered {response.response_code} to request "
            f"{response.request_id or '(no id)'}, not I0 (success): it carries no inventory; "
            "nothing recorded",
            field="response",
        )
    if response.service_reference != READ_INVENTORY or not response.inventory:
        raise InvalidInput(
            f"response: a response to service request {response.service_reference}, not a "
            f"{READ_INVENTORY} Read Inventory response with a DSPInventory",
            field="response",
        )
    return response


def _held(uow: UnitOfWork, device_id: str) -> _Held | str:
    """Where the facility holds the device, or why it does not."""
    job = uow.jobs.open_for_device(device_id)
    if job is not None:
        if job.state not in BEFORE_RESET:
            return f"its job {job.id} is {job.state.value}: past its reset"
        device = uow.devices.get(device_id)
        if device is None:
            raise NotFound(f"device {device_id} is not in the register")
        return _Held(job.id, job.consignment_id, device)
    expected = uow.consignments.expected_in_open(device_id)
    if expected is not None:
        return _Held(None, expected[0], expected[1])
    return "not held: neither expected in an open consignment nor in an open job"


def _recorded(
    uow: UnitOfWork,
    caller: Caller,
    response: DuisResponse,
    listed: InventoryDevice,
    held: _Held,
    sha256: str,
    refused: frozenset[InventoryStatus],
) -> tuple[DeviceOutcome, list[Entry]]:
    device_id = listed.device_id.value
    data: dict[str, Any] = {
        "sha256": sha256,
        "response_id": response.response_id,
        "request_id": response.request_id,
        "response_at": format_time(response.response_datetime),
        "status": listed.status.value if listed.status else None,
        "device_type": listed.device_type,
        "manufacturer": listed.manufacturer,
        "model": listed.model,
        "firmware_version": listed.firmware_version,
        "smets_chts_version": listed.smets_chts_version,
        "chf_id": listed.chf_id.value if listed.chf_id else None,
        "date_commissioned": (
            listed.date_commissioned.isoformat() if listed.date_commissioned else None
        ),
        "job_id": held.job_id,
        "consignment_id": held.consignment_id,
    }
    entries = [make_entry(uow, caller, READ, device_ref(device_id), data)]
    found = mismatches(held.manifest, listed)
    ids = []
    named = response.identity
    for field, manifest_value, dcc_value in found:
        detail = (
            f"{field}: the manifest says {manifest_value}, the DCC's Read Inventory response "
            f"{named} says {dcc_value}"
        )
        exception_id, entry = exception_entry(uow, caller, device_id, MISMATCH, detail)
        ids.append(exception_id)
        entries.append(entry)
    source = f"the DCC's Read Inventory response {named} of {data['response_at']}"
    where = f"job {held.job_id}" if held.job_id else f"consignment {held.consignment_id}"
    outcome = DeviceOutcome(
        device_id=device_id,
        recorded=True,
        where=where,
        status=data["status"],
        mismatches=tuple(f"{f}: manifest {m}, DCC {d}" for f, m, d in found),
        exception_ids=tuple(ids),
        refusal=refusal_reason(listed.status, refused, source),
    )
    return outcome, entries


def mismatches(manifest: Device, listed: InventoryDevice) -> list[tuple[str, str, str]]:
    """Each field where the manifest and the DCC differ: (field, manifest value, DCC value).
    A field the response leaves out is not compared."""
    found: list[tuple[str, str, str]] = []

    def differ(field: str, mine: str | None, theirs: str | None) -> None:
        if theirs is None:
            return
        if (mine or "").strip().casefold() != theirs.strip().casefold():
            found.append((field, repr(mine) if mine else "nothing", repr(theirs)))

    try:
        dcc_type: DeviceType | None = listed.gbcs_type
    except FieldError:
        dcc_type = None
    if dcc_type is not manifest.type:
        found.append(("device_type", manifest.type.name, listed.device_type))
    differ("manufacturer", manifest.manufacturer, listed.manufacturer)
    differ("model", manifest.model, listed.model)
    differ("firmware_version", manifest.firmware_version, listed.firmware_version)
    differ("smets_version", manifest.smets_version, listed.smets_chts_version)
    manifest_status = manifest.inventory_status.value if manifest.inventory_status else None
    differ("inventory_status", manifest_status, listed.status.value if listed.status else None)
    manifest_hub = manifest.chf_id.value if manifest.chf_id else None
    differ("chf_id", manifest_hub, listed.chf_id.value if listed.chf_id else None)
    return found
