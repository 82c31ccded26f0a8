"""What is read about triage jobs: a job at the bench, and the supervisor's queues."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from triage.domain.caller import Caller
from triage.domain.job import TriageJob, override_refused
from triage.domain.lifecycle import TRANSITIONS, Action, JobState, allowed_actions
from triage.domain.roles import Permission
from triage.domain.tool import Tool, ToolStatus
from triage.domain.work_order_record import ResetResult
from triage.errors import NotFound
from triage.ledger.entry import Entry
from triage.services import history, hub_returns, security_log
from triage.services.asset_owners import owns_device
from triage.services.ports import UnitOfWorkFactory
from triage.services.views.orders import StoppedOrder, stopped_order

DECIDED = "device.decided"
OVERRIDDEN = "decision.overridden"
QUARANTINED = TRANSITIONS[Action.QUARANTINE].entry_type
# The supervisor's queues show this many jobs each, oldest first.
QUEUE_LENGTH = 200


@dataclass(frozen=True)
class Decision:
    """What is decided about a job now, by whom and why: the policy's decision, a supervisor's
    override, or a quarantine (a supervisor's, or the system's when reset attempts ran out)."""

    outcome: str  # eligible, quarantine, reverify_metrology or supervisor_review
    by: str  # "the tamper policy", "the system", or the supervisor's id
    entry_type: str  # the ledger entry that recorded it
    reasons: list[str]  # the policy's reasons, or the quarantine's
    justification: str | None  # an override's
    at: datetime


@dataclass(frozen=True)
class ResetAttempts:
    """A job's reset attempts: how many were used of those allowed, and what the latest
    verification found wrong (empty when it passed, or none failed since the last order)."""

    used: int
    allowed: int
    failures: list[str]

    @property
    def left(self) -> int:
        return max(self.allowed - self.used, 0)


@dataclass(frozen=True)
class BenchJob:
    """A triage job as the bench sees it: its story so far and what may happen next."""

    job: TriageJob
    entries: list[tuple[int, Entry]]  # the ledger's entries about the device in this job
    decision: Decision | None  # the current decision: the latest decision, override or quarantine
    photos: list[str]  # SHA-256 of each photo attached
    next_steps: list[str]
    tools: list[Tool]  # active tools: the caller's bench's, else every one
    security_log: security_log.JobSecurityLog | None = None  # the log the inspection uses
    keeps_log: bool = True  # False for a Type 2 device: no GBCS security log to read or type
    attempts: ResetAttempts | None = None  # once a reset was attempted
    acts: list[str] = dataclasses.field(default_factory=list)  # see supervisor_acts
    stopped: StoppedOrder | None = None  # its reset order, withdrawn or its tool suspended
    random_seals: bool = False  # the seal to fit is drawn at random (see services.seal_draw)
    drawn_seal: str | None = None  # the seal drawn for the job, if one was


# A supervisor's acts on a job, by the lifecycle step each takes (disposal: either of two).
SUPERVISOR_ACTS = {
    "override": Action.OVERRIDE,
    "quarantine": Action.QUARANTINE,
    "dispose": Action.DESTROY,
}


def supervisor_acts(caller: Caller, job: TriageJob) -> list[str]:
    """The supervisor's acts (override, quarantine, dispose) ``caller`` may take on the job
    now, to offer on a page; the use case checks again when one is taken."""
    steps = allowed_actions(job.state)
    acts = []
    for act, action in SUPERVISOR_ACTS.items():
        needed = TRANSITIONS[action].permission
        if action not in steps or needed is None or not caller.can(needed):
            continue
        if action is Action.OVERRIDE and override_refused(job, caller.id) is not None:
            continue
        acts.append(act)
    return acts


def current_decision(entries: Sequence[tuple[int, Entry]]) -> Decision | None:
    """The job's current decision from its entries (oldest first), or None before one."""
    found = None
    for _, entry in entries:
        data = entry.data
        if entry.type == DECIDED:
            reasons = [r["text"] for r in data.get("reasons", [])]
            found = Decision(
                data["outcome"], "the tamper policy", entry.type, reasons, None, entry.at
            )
        elif entry.type == OVERRIDDEN:
            found = Decision(
                data["outcome"], entry.actor.id, entry.type, [], data["justification"], entry.at
            )
        elif entry.type == QUARANTINED:
            by = "the system" if entry.actor.kind == "system" else entry.actor.id
            found = Decision("quarantine", by, entry.type, [data["reason"]], None, entry.at)
    return found


def _failures(entries: Sequence[tuple[int, Entry]]) -> list[str]:
    """What the latest verification found wrong, unless a work order was given since."""
    failures: list[str] = []
    for _, entry in entries:
        if entry.type == TRANSITIONS[Action.AUTHORISE_RESET].entry_type:
            failures = []
        elif entry.type == TRANSITIONS[Action.FAIL_VERIFICATION].entry_type:
            failures = list(entry.data.get("failures", []))
    return failures


def bench_job(uow_factory: UnitOfWorkFactory, caller: Caller, job_id: str) -> BenchJob:
    """One triage job for the bench, or NotFound."""
    caller.require(Permission.DEVICE_SCAN)
    with uow_factory(write=False) as uow:
        job = uow.jobs.get(job_id)
        known = uow.security.tools()
        active = [t for t in known if t.status is ToolStatus.ACTIVE]
        keeps_log = job is None or security_log.keeps_a_log(uow, job)
        max_attempts, _ = uow.facilities.settings()
        random_seals = uow.facilities.custody_settings().random_seal_issue
        drawn = uow.custody.drawn_seal(job_id) if random_seals else None
        steps = set() if job is None else hub_returns.offered(uow, job, allowed_actions(job.state))
    if job is None:
        raise NotFound(f"no triage job {job_id}")
    story = history.device_history(uow_factory, caller, job.device_id)
    entries = [(i, e) for i, e in story.entries if e.data.get("job_id") in (None, job.id)]
    attempts = None
    if job.reset_attempts:
        attempts = ResetAttempts(job.reset_attempts, max_attempts, _failures(entries))
    return BenchJob(
        job=job,
        entries=entries,
        decision=current_decision(entries),
        photos=[e.data["sha256"] for _, e in entries if e.type == "device.photo_attached"],
        next_steps=sorted(a.value for a in steps),
        tools=[t for t in active if t.bench == caller.bench] or active,
        security_log=security_log.for_job(uow_factory, caller, job.id),
        keeps_log=keeps_log,
        attempts=attempts,
        acts=supervisor_acts(caller, job),
        stopped=stopped_order(entries, known) if job.state is JobState.RESET_AUTHORISED else None,
        random_seals=random_seals,
        drawn_seal=drawn.serial if drawn is not None and drawn.operator_id == caller.id else None,
    )


@dataclass(frozen=True)
class ReviewQueues:
    """The supervisor's work: decisions awaiting review (with the policy's reasons for each),
    and quarantined devices."""

    awaiting_review: list[TriageJob]
    quarantined: list[TriageJob]
    reasons: dict[str, list[str]]  # job id -> the policy's reasons, for those awaiting review
    acts: dict[str, list[str]]  # job id -> the supervisor's acts the caller may take on it


def review_queues(uow_factory: UnitOfWorkFactory, caller: Caller) -> ReviewQueues:
    """The jobs awaiting a supervisor's review and those in quarantine, oldest first."""
    caller.require(Permission.DECISION_OVERRIDE)
    with uow_factory(write=False) as uow:
        review, _ = uow.jobs.page(JobState.AWAITING_REVIEW, 0, QUEUE_LENGTH)
        quarantined, _ = uow.jobs.page(JobState.QUARANTINED, 0, QUEUE_LENGTH)
        reasons = uow.jobs.latest_reasons([job.id for job in review])
    acts = {job.id: supervisor_acts(caller, job) for job in [*review, *quarantined]}
    return ReviewQueues(review, quarantined, reasons, acts)


def jobs(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    state: JobState | None,
    offset: int,
    limit: int,
) -> tuple[list[TriageJob], int]:
    """Triage jobs, optionally in one state, oldest first, with how many there are (of its own
    devices for a person of an asset owner)."""
    scope = caller.owner_scope()
    with uow_factory(write=False) as uow:
        return uow.jobs.page(state, offset, limit, owner=scope)


@dataclass(frozen=True)
class JobDetail:
    """One job and the result of every reset tried on its device."""

    job: TriageJob
    resets: list[ResetResult]


def job_detail(uow_factory: UnitOfWorkFactory, caller: Caller, job_id: str) -> JobDetail:
    """One job with its reset results, or NotFound (a job of another owner's device too)."""
    scope = caller.owner_scope()
    with uow_factory(write=False) as uow:
        found = uow.jobs.get(job_id)
        if found is None or not owns_device(uow, scope, found.device_id):
            raise NotFound(f"no triage job {job_id!r}")
        return JobDetail(found, uow.jobs.reset_results(job_id))
