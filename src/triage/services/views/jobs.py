"""What is read about triage jobs: a job at the bench, and the supervisor's queues."""

from __future__ import annotations

from dataclasses import dataclass

from triage.domain.caller import Caller
from triage.domain.job import TriageJob
from triage.domain.lifecycle import JobState, allowed_actions
from triage.domain.roles import Permission
from triage.domain.tool import Tool, ToolStatus
from triage.domain.work_order_record import ResetResult
from triage.errors import NotFound
from triage.ledger.entry import Entry
from triage.services import history, security_log
from triage.services.ports import UnitOfWorkFactory

DECISION_TYPES = ("device.decided", "decision.overridden")
# The supervisor's queues show this many jobs each, oldest first.
QUEUE_LENGTH = 200


@dataclass(frozen=True)
class BenchJob:
    """A triage job as the bench sees it: its story so far and what may happen next."""

    job: TriageJob
    entries: list[tuple[int, Entry]]  # the ledger's entries about the device in this job
    decision: Entry | None  # the latest decision or override
    photos: list[str]  # SHA-256 of each photo attached
    next_steps: list[str]
    tools: list[Tool]  # active tools: the caller's bench's, else every one
    security_log: security_log.JobSecurityLog | None = None  # the log the inspection uses
    keeps_log: bool = True  # False for a Type 2 device: no GBCS security log to read or type


def bench_job(uow_factory: UnitOfWorkFactory, caller: Caller, job_id: str) -> BenchJob:
    """One triage job for the bench, or NotFound."""
    caller.require(Permission.DEVICE_SCAN)
    with uow_factory(write=False) as uow:
        job = uow.jobs.get(job_id)
        active = [t for t in uow.security.tools() if t.status is ToolStatus.ACTIVE]
        keeps_log = job is None or security_log.keeps_a_log(uow, job)
    if job is None:
        raise NotFound(f"no triage job {job_id}")
    story = history.device_history(uow_factory, caller, job.device_id)
    entries = [(i, e) for i, e in story.entries if e.data.get("job_id") in (None, job.id)]
    decisions = [e for _, e in entries if e.type in DECISION_TYPES]
    return BenchJob(
        job=job,
        entries=entries,
        decision=decisions[-1] if decisions else None,
        photos=[e.data["sha256"] for _, e in entries if e.type == "device.photo_attached"],
        next_steps=sorted(a.value for a in allowed_actions(job.state)),
        tools=[t for t in active if t.bench == caller.bench] or active,
        security_log=security_log.for_job(uow_factory, caller, job.id),
        keeps_log=keeps_log,
    )


@dataclass(frozen=True)
class ReviewQueues:
    """The supervisor's work: decisions awaiting review, and quarantined devices."""

    awaiting_review: list[TriageJob]
    quarantined: list[TriageJob]


def review_queues(uow_factory: UnitOfWorkFactory, caller: Caller) -> ReviewQueues:
    """The jobs awaiting a supervisor's review and those in quarantine, oldest first."""
    caller.require(Permission.DECISION_OVERRIDE)
    with uow_factory(write=False) as uow:
        review, _ = uow.jobs.page(JobState.AWAITING_REVIEW, 0, QUEUE_LENGTH)
        quarantined, _ = uow.jobs.page(JobState.QUARANTINED, 0, QUEUE_LENGTH)
    return ReviewQueues(review, quarantined)


def jobs(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    state: JobState | None,
    offset: int,
    limit: int,
) -> tuple[list[TriageJob], int]:
    """Triage jobs, optionally in one state, oldest first, with how many there are."""
    caller.require(Permission.TRIAGE_READ)
    with uow_factory(write=False) as uow:
        return uow.jobs.page(state, offset, limit)


@dataclass(frozen=True)
class JobDetail:
    """One job and the result of every reset tried on its device."""

    job: TriageJob
    resets: list[ResetResult]


def job_detail(uow_factory: UnitOfWorkFactory, caller: Caller, job_id: str) -> JobDetail:
    """One job with its reset results, or NotFound."""
    caller.require(Permission.TRIAGE_READ)
    with uow_factory(write=False) as uow:
        found = uow.jobs.get(job_id)
        if found is None:
            raise NotFound(f"no triage job {job_id!r}")
        return JobDetail(found, uow.jobs.reset_results(job_id))
