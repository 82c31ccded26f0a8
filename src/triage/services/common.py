"""Helpers every use case shares: entry building, and lifecycle steps as entries."""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from triage.domain.caller import Caller
from triage.domain.job import TriageJob
from triage.domain.lifecycle import TRANSITIONS, Action, JobState, step
from triage.domain.work_order import WorkOrder
from triage.errors import LedgerStateError, NotFound, RecordDisagrees, VerificationError
from triage.ledger.entry import Entry, Ref, format_time, glance
from triage.services.ports import UnitOfWork, UnitOfWorkFactory


def make_entry(
    uow: UnitOfWork,
    caller: Caller,
    entry_type: str,
    subject: Ref,
    # An entry's data is a canonical JSON object by design: each entry type has its own shape,
    # which the ledger records as given and Entry checks (ASCII keys, no floats).
    data: dict[str, Any],
    at: datetime | None = None,
) -> Entry:
    """An entry by ``caller`` about ``subject`` in this facility, at ``at`` (default: now)."""
    return Entry(
        type=entry_type,
        at=at or uow.clock.now(),
        actor=caller.ref,
        facility=uow.facility_id,
        subject=subject,
        data=data,
    )


T = TypeVar("T")


def record_and_reload(
    uow: UnitOfWork, entries: Sequence[Entry], reload: Callable[[], T | None]
) -> T:
    """Append ``entries``, read back with ``reload`` what the projector made of them, commit,
    and return it: the answer is the state the entries produced, read in their transaction."""
    uow.ledger.record(entries)
    changed = reload()
    if changed is None:
        # The projector writes every entry's row in the same transaction: a missing row is a
        # projector fault, and nothing of this use case is committed.
        raise LedgerStateError(f"the projection of {entries[0].type} is missing")
    uow.commit()
    return changed


def moved(job: TriageJob, entry: Entry, **changes: Any) -> TriageJob:
    """``job`` as the step recorded in ``entry`` leaves it, as the projector writes its row:
    the entry's state, closed at the entry's time if that state is final, and ``changes``
    (what else the step sets). A step answers with it instead of reading its job back."""
    state = JobState(entry.data["state"])
    closed_at = entry.at if state.is_final else job.closed_at
    return dataclasses.replace(job, state=state, closed_at=closed_at, **changes)


def issue_order(
    uow: UnitOfWork,
    caller: Caller,
    job: TriageJob,
    tool_id: str,
    action: str,
    profile: str,
    signer_key: str,
    issued: datetime,
    minutes: int | None = None,
) -> tuple[str, dict[str, Any]]:
    """A new work order of ``action`` for ``job`` on ``tool_id``, given by ``caller`` at
    ``issued`` and valid for the facility's work-order minutes (``minutes``, when the caller
    has just read them): the signed note, and the fields its ledger entry records about it
    (the projector's ``work_order_row`` reads them back)."""
    if minutes is None:
        _, minutes = uow.facilities.settings()
    order = WorkOrder(
        id=str(uuid.uuid4()),
        facility=uow.facility_id,
        tool_id=tool_id,
        device_id=job.device_id,
        job_id=job.id,
        operator_id=caller.id,
        action=action,
        profile=profile,
        nonce=secrets.token_hex(16),
        issued_at=issued,
        expires_at=issued + timedelta(minutes=minutes),
    )
    signed = order.sign(signer_key)
    fields = {
        "work_order_id": order.id,
        "tool_id": tool_id,
        "operator_id": caller.id,
        "nonce": order.nonce,
        "profile": order.profile,
        "issued_at": format_time(order.issued_at),
        "expires_at": format_time(order.expires_at),
        "signed": signed,
    }
    return signed, fields


def device_ref(device_id: str) -> Ref:
    """Entries about a device, across all its jobs, name the device as subject."""
    return Ref("device", device_id)


def exception_entry(
    uow: UnitOfWork, caller: Caller, device_id: str, kind: str, detail: str
) -> tuple[str, Entry]:
    """An exception about a device for a supervisor to resolve (``exception.raised``), to be
    recorded in the caller's transaction; returns the exception's id and the entry."""
    exception_id = str(uuid.uuid4())
    data = {"exception_id": exception_id, "kind": kind, "detail": detail}
    return exception_id, make_entry(uow, caller, "exception.raised", device_ref(device_id), data)


def get_job(uow: UnitOfWork, job_id: str, *, checked: bool = True) -> TriageJob:
    """The job, or NotFound; unless ``checked`` is False (a job just reloaded after its own
    step), refused if its state disagrees with its ledger entries (see ``check_recorded``)."""
    job = uow.jobs.get(job_id)
    if job is None:
        raise NotFound(f"no triage job {job_id!r}")
    if checked:
        check_recorded(uow, job)
    return job


INTEGRITY = Caller.system("integrity")
DISAGREEMENT_METRIC = "register_disagrees"
WALK_BACK = 256  # entries about the device read back, at most, to find the job's last step


def check_recorded(uow: UnitOfWork, job: TriageJob) -> None:
    """Refuse a job whose projected state is not the state its last recorded step gave it.

    Every step reads the job through ``get_job``, so a register edited behind the ledger's
    back (``update triage_job set state='sealed'``) is not moved on by a legitimate step. The
    check is cheap: the latest entries about the device, found through the history index,
    are read from the ledger itself (their bytes, not the index's copy of their type), newest
    first, to the latest one that moves a job; it must be this job's and record its state. An
    index row deleted as well (attack 10) can only make an older state of the job look like
    its latest, and ``triage ledger replay --check`` names the missing row. A job that is over
    takes no step and is not checked. The refusal is a Conflict; its alert is recorded in a
    transaction of its own once the step's has rolled back (at most once per interval for a
    device).
    """
    if job.state.is_final:
        return
    problem = _disagreement(uow, job)
    if problem is None:
        return
    detail = (
        f"job {job.id} (device {job.device_id}) is {job.state.value} in the register, but "
        f"{problem}: the register was changed behind the ledger's back"
    )

    def record(again: UnitOfWork) -> None:
        subject = device_ref(job.device_id)
        at = again.clock.now()
        interval = again.settings.disagreement_alert_interval
        if recorded_lately(again, subject, "alert.raised", at, interval):
            return
        data = {
            "alert_id": str(uuid.uuid4()),
            "metric": DISAGREEMENT_METRIC,
            "count": 1,
            "max_count": 0,
            "window_minutes": 0,
            "action": "refused",
            "job_id": job.id,
            "detail": detail[:1000],
        }
        again.ledger.record([make_entry(again, INTEGRITY, "alert.raised", subject, data, at)])

    raise RecordDisagrees(
        f"{detail}. Nothing was done and a security alert was raised; a security manager must "
        "find out what changed (triage ledger replay --check) before the job can go on",
        record,
    )


def _disagreement(uow: UnitOfWork, job: TriageJob) -> str | None:
    """Why the job's recorded steps disagree with its projected state, or None."""
    device = device_ref(job.device_id)
    for index, data in _walk_back(uow, device):
        try:
            if data is None:
                raise LedgerStateError(f"entry {index} is not in the log")
            entry = glance(data)  # its type, subject and data: the log checks the rest
        except (LedgerStateError, VerificationError) as exc:
            return f"entry {index} about the device cannot be read ({exc})"
        if entry.subject != device:
            return (
                f"the history index lists entry {index} ({entry.type} about "
                f"{entry.subject.kind} {entry.subject.id}) as the device's"
            )
        if "job_id" not in entry.data or "state" not in entry.data:
            continue  # about the device but not a step (a photo, an observation, an alert)
        if entry.data["job_id"] != job.id:
            return (
                f"the device's latest recorded step (entry {index}, {entry.type}) is of job "
                f"{entry.data['job_id']}"
            )
        if entry.data["state"] != job.state.value:
            return (
                f"its latest recorded step (entry {index}, {entry.type}) leaves it "
                f"{entry.data['state']}"
            )
        return None
    return "no recorded step of the job was found among the device's latest entries"


def _walk_back(uow: UnitOfWork, subject: Ref) -> Iterator[tuple[int, bytes | None]]:
    """The entries about ``subject``, newest first, at most WALK_BACK: a few at a time, as the
    latest is nearly always the step looked for."""
    read, before, chunk = 0, None, 2
    while read < WALK_BACK:
        found = uow.ledger.latest_about(subject.kind, subject.id, chunk, before)
        yield from found
        if len(found) < chunk:
            return
        read += len(found)
        before, chunk = found[-1][0], min(chunk * 4, WALK_BACK - read)


def job_step(
    uow: UnitOfWork,
    caller: Caller,
    job: TriageJob,
    action: Action,
    # The step's entry data besides job_id and state: a JSON object (see make_entry).
    data: dict[str, Any] | None = None,
    target: JobState | None = None,
    at: datetime | None = None,
) -> Entry:
    """Check ``action`` against the lifecycle and the caller's permission; return its entry."""
    transition = TRANSITIONS[action]
    require_step(caller, action)
    new_state = step(job.state, action, target)
    payload = {"job_id": job.id, "state": new_state.value, **(data or {})}
    return make_entry(uow, caller, transition.entry_type, device_ref(job.device_id), payload, at)


def require_step(caller: Caller, *actions: Action) -> None:
    """Refuse a caller without the permission of each of ``actions`` (the lifecycle's table
    says which): a use case calls it before it reads anything, so a caller who may not take
    the step learns nothing about the job."""
    for action in actions:
        permission = TRANSITIONS[action].permission
        if permission is not None:
            caller.require(permission)


def recorded_lately(
    uow: UnitOfWork,
    subject: Ref,
    entry_type: str,
    at: datetime,
    interval: timedelta,
    data: Mapping[str, Any] | None = None,
) -> bool:
    """Whether the last entry about ``subject`` is an ``entry_type`` (with ``data``, if given)
    from less than ``interval`` before ``at``: refusals an unauthenticated caller can repeat
    at will are recorded once per interval, so they cannot grow the ledger without bound."""
    found = uow.ledger.latest_about(subject.kind, subject.id, 1)
    if not found:
        return False
    index, stored = found[0]
    last = Entry.from_bytes(stored if stored is not None else uow.ledger.log.entry(index))
    return (
        last.type == entry_type and (data is None or last.data == data) and at - last.at < interval
    )


def record_refusal(
    uow_factory: UnitOfWorkFactory,
    actor: Caller,
    entry_type: str,
    subject: Ref,
    reason: str,
    then: Callable[[UnitOfWork], object] | None = None,
    once_per: timedelta | None = None,
) -> None:
    """Record a refused request in its own transaction: the request itself changes nothing.

    ``then`` runs in the same transaction after the entry (the anomaly check counts refusals).
    With ``once_per``, a refusal of the same type about the same subject is not recorded again
    within that interval (see ``recorded_lately``).
    """
    with uow_factory(write=True) as uow:
        at = uow.clock.now()
        if once_per is not None and recorded_lately(uow, subject, entry_type, at, once_per):
            return
        data = {"reason": reason[:500]}
        uow.ledger.record([make_entry(uow, actor, entry_type, subject, data, at)])
        if then is not None:
            then(uow)
        uow.commit()
