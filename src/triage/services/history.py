"""A device's history across all its jobs, and its receipt, from the ledger itself."""

from __future__ import annotations

from dataclasses import dataclass

from triage.domain.caller import Caller
from triage.domain.device import DeviceId, FieldError
from triage.domain.job import TriageJob
from triage.domain.roles import Permission
from triage.errors import InvalidInput, NotFound
from triage.ledger.entry import Entry
from triage.ledger.receipt import build_receipt
from triage.services import witnessing
from triage.services.asset_owners import owns_device, reader_scope
from triage.services.common import device_ref
from triage.services.ports import UnitOfWorkFactory


@dataclass(frozen=True)
class DeviceHistory:
    """Every ledger entry about a device, oldest first, and its jobs."""

    device_id: str
    entries: list[tuple[int, Entry]]
    jobs: list[TriageJob]


def parse_device_id(text: str) -> str:
    """A Device ID from outside, canonical, or InvalidInput saying why not."""
    try:
        return DeviceId.parse(text).value
    except FieldError as exc:
        raise InvalidInput(f"device_id: {exc.problem}", field="device_id") from exc


def device_history(uow_factory: UnitOfWorkFactory, caller: Caller, device: str) -> DeviceHistory:
    """The device's story from the ledger (not from the current-state tables); a person of an
    asset owner reads only that owner's devices (another's is NotFound, as if unknown)."""
    scope = reader_scope(caller, Permission.HISTORY_READ)
    device_id = parse_device_id(device)
    with uow_factory(write=False) as uow:
        indexes = uow.ledger.indexes_for("device", device_id)
        if not indexes or not owns_device(uow, scope, device_id):
            raise NotFound(f"the ledger has nothing about device {device_id}")
        entries = [(i, Entry.from_bytes(uow.ledger.log.entry(i))) for i in indexes]
        jobs = uow.jobs.for_device(device_id)
    return DeviceHistory(device_id, entries, jobs)


def device_receipt(
    uow_factory: UnitOfWorkFactory, caller: Caller, device: str, origin: str, signer_key: str
) -> str:
    """An offline receipt of every entry about the device, proven against a checkpoint that
    covers them all and carries the witnesses' cosignatures (``witnessing.receipt_checkpoint``;
    for a person of an asset owner, only of that owner's devices)."""
    scope = reader_scope(caller, Permission.RECEIPT_ISSUE)
    device_id = parse_device_id(device)
    with uow_factory(write=False) as uow:
        indexes = uow.ledger.indexes_for("device", device_id)
        if not indexes or not owns_device(uow, scope, device_id):
            raise NotFound(f"the ledger has nothing about device {device_id}")
    checkpoint = witnessing.receipt_checkpoint(uow_factory, max(indexes) + 1, origin, signer_key)
    with uow_factory(write=False) as uow:
        return build_receipt(uow.ledger.log, origin, device_ref(device_id), indexes, checkpoint)
