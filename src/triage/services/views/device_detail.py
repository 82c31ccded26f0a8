"""What is read about one device for its page: who it is, where it stands, the consignment it
came in, its jobs, its story from the ledger, the documents it has and what the reader may do
next."""

from __future__ import annotations

from dataclasses import dataclass

from triage.domain.caller import Caller
from triage.domain.consignment import Consignment
from triage.domain.device import Device
from triage.domain.inventory_reading import InventoryReading
from triage.domain.job import TriageJob
from triage.domain.lifecycle import FINAL_STATES, JobState
from triage.domain.roles import Permission
from triage.ledger.entry import Entry
from triage.services import history, inventory
from triage.services.ports import UnitOfWorkFactory
from triage.services.views.jobs import Decision, current_decision, supervisor_acts

# The documents a device may have, each offered only when it exists and the reader may take it.
CERTIFICATE = "certificate"  # the triage certificate of a released device
DESTRUCTION = "certificate_of_destruction"  # of a destroyed device
RECEIPT = "receipt"  # the offline receipt of every entry about the device
LABEL = "label"  # the device bag's label, for its latest job


@dataclass(frozen=True)
class DevicePage:
    """One device as its page shows it."""

    device_id: str
    device: Device | None  # None when the register has no row (only ledger entries)
    state: str  # the latest job's state, or "expected" before any job
    consignment: Consignment | None
    jobs: list[TriageJob]  # oldest first
    entries: list[tuple[int, Entry]]  # every ledger entry about the device, oldest first
    decision: Decision | None  # the latest job's current decision
    open_job: TriageJob | None
    documents: list[str]  # of CERTIFICATE, DESTRUCTION, RECEIPT, LABEL
    acts: list[str]  # the supervisor's acts the reader may take on the open job
    may_open_job: bool  # the reader works at a bench and the device has an open job
    smi_reading: InventoryReading | None = None  # the DCC's latest Read Inventory answer
    smi_refusal: str | None = None  # why the SMI gate refuses its triage, if it does


def device_page(uow_factory: UnitOfWorkFactory, caller: Caller, device: str) -> DevicePage:
    """The device's page for whoever may read its history; NotFound when the ledger has
    nothing about it."""
    story = history.device_history(uow_factory, caller, device)
    latest = story.jobs[-1] if story.jobs else None
    consignment_id = latest.consignment_id if latest is not None else None
    if consignment_id is None:
        consignment_id = next(
            (
                str(e.data["consignment_id"])
                for _, e in reversed(story.entries)
                if e.type == "consignment.device_expected" and e.data.get("consignment_id")
            ),
            None,
        )
    with uow_factory(write=False) as uow:
        registered = uow.devices.get(story.device_id)
        consignment = uow.consignments.get(consignment_id) if consignment_id else None
        smi_reading = uow.inventory.latest(story.device_id)
        smi_refusal = inventory.gate_reason(uow, story.device_id)
    open_job = latest if latest is not None and latest.state not in FINAL_STATES else None
    latest_entries = (
        [(i, e) for i, e in story.entries if e.data.get("job_id") == latest.id]
        if latest is not None
        else []
    )
    return DevicePage(
        device_id=story.device_id,
        device=registered,
        state=latest.state.value if latest is not None else "expected",
        consignment=consignment,
        jobs=story.jobs,
        entries=story.entries,
        decision=current_decision(latest_entries),
        open_job=open_job,
        documents=_documents(caller, latest),
        acts=supervisor_acts(caller, open_job) if open_job is not None else [],
        may_open_job=open_job is not None and caller.can(Permission.DEVICE_SCAN),
        smi_reading=smi_reading,
        smi_refusal=smi_refusal,
    )


def _documents(caller: Caller, latest: TriageJob | None) -> list[str]:
    """The documents the device has that ``caller`` may take (the use cases check again)."""
    found = []
    # A person of an asset owner takes its own devices' documents (device_history checked it).
    if caller.can(Permission.RECEIPT_ISSUE) or caller.can(Permission.OWNER_READ):
        if latest is not None and latest.state is JobState.RELEASED:
            found.append(CERTIFICATE)
        if latest is not None and latest.state is JobState.DESTROYED:
            found.append(DESTRUCTION)
        found.append(RECEIPT)
    if latest is not None and caller.can(Permission.TRIAGE_READ):
        found.append(LABEL)
    return found
