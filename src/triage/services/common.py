"""Helpers every use case shares: the clock, entry building, and lifecycle steps as entries."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from triage.domain.caller import Caller
from triage.domain.job import TriageJob
from triage.domain.lifecycle import TRANSITIONS, Action, JobState, step
from triage.errors import NotFound
from triage.ledger.entry import Entry, Ref
from triage.services.unit_of_work import UnitOfWork, UnitOfWorkFactory


def now() -> datetime:
    """The current time in UTC (one place, so tests can move it)."""
    return datetime.now(UTC)


def make_entry(
    uow: UnitOfWork,
    caller: Caller,
    entry_type: str,
    subject: Ref,
    data: dict[str, Any],
    at: datetime | None = None,
) -> Entry:
    """An entry by ``caller`` about ``subject`` in this facility."""
    return Entry(
        type=entry_type,
        at=at or now(),
        actor=caller.ref,
        facility=uow.facility_id,
        subject=subject,
        data=data,
    )


def device_ref(device_id: str) -> Ref:
    """Entries about a device, across all its jobs, name the device as subject."""
    return Ref("device", device_id)


def get_job(uow: UnitOfWork, job_id: str) -> TriageJob:
    """The job, or NotFound."""
    job = uow.triage.job(job_id)
    if job is None:
        raise NotFound(f"no triage job {job_id!r}")
    return job


def job_step(
    uow: UnitOfWork,
    caller: Caller,
    job: TriageJob,
    action: Action,
    data: dict[str, Any] | None = None,
    target: JobState | None = None,
    at: datetime | None = None,
) -> Entry:
    """Check ``action`` against the lifecycle and the caller's permission; return its entry."""
    transition = TRANSITIONS[action]
    if transition.permission is not None:
        caller.require(transition.permission)
    new_state = step(job.state, action, target)
    payload = {"job_id": job.id, "state": new_state.value, **(data or {})}
    return make_entry(uow, caller, transition.entry_type, device_ref(job.device_id), payload, at)


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
    indexes = uow.ledger.indexes_for(subject.kind, subject.id)
    if not indexes:
        return False
    last = Entry.from_bytes(uow.ledger.log.entry(indexes[-1]))
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
        if once_per is not None and recorded_lately(uow, subject, entry_type, now(), once_per):
            return
        uow.ledger.record([make_entry(uow, actor, entry_type, subject, {"reason": reason[:500]})])
        if then is not None:
            then(uow)
        uow.commit()
