"""Correctness checks after a load or fault run (not timed), on the ledger and the projections.

* ``read_ledger``: every entry that moves a triage job (those with ``job_id`` and ``state`` in
  their data), grouped by job, and every job's projected state, read through the services' unit
  of work (the same reads the application makes), in one read transaction.
* ``check_lifecycle``: no device is in an impossible state: each job's history starts with
  ``device.received`` and then takes only steps that ``triage.domain.lifecycle.TRANSITIONS``
  allows (entry type, state before, state after), and the projected state is the last step's
  state; a job is projected if and only if it has entries, and a device has at most one open
  job.
* ``check_acknowledged``: every step a client saw acknowledged (a 2xx response) is in the ledger
  (an entry of the expected type for that job, with the acknowledged state) and the projected
  state is at least as far: reachable from the acknowledged state through the lifecycle.
* ``reset_attempts`` and ``endings``: what became of each reset attempt and each job, for the
  reports.

Usable on their own, e.g. on a copy of a facility's data directory::

    from triage.bootstrap import bootstrap
    view = read_ledger(bootstrap().uow)
    problems = check_lifecycle(view)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from triage.domain.lifecycle import (
    FINAL_STATES,
    RECEIVED_ENTRY,
    TRANSITIONS,
    Action,
    JobState,
    PathStep,
    check_path,
)
from triage.ledger.entry import Entry
from triage.services.ports import UnitOfWorkFactory

RECEIVED_TYPE = RECEIVED_ENTRY  # the entry that opens a job, in state received
PAGE = 500
MAX_LISTED = 20  # problems listed per check; the count is always complete

RESET_RESULT_TYPES = {
    TRANSITIONS[Action.VERIFY].entry_type,
    TRANSITIONS[Action.FAIL_VERIFICATION].entry_type,
    TRANSITIONS[Action.FAIL_RESET].entry_type,
}
AUTHORISED_TYPE = TRANSITIONS[Action.AUTHORISE_RESET].entry_type
QUARANTINED_TYPE = TRANSITIONS[Action.QUARANTINE].entry_type


@dataclass(frozen=True)
class Step:
    """One ledger entry that moved a job."""

    index: int
    type: str
    state: str
    at: datetime
    actor: str  # kind:id
    subject: str  # the device id
    data: Mapping[str, Any]


@dataclass
class JobRecord:
    """A job's steps from the ledger, oldest first, and its state in the projection."""

    job_id: str
    device_id: str | None = None
    steps: list[Step] = field(default_factory=list)
    projected: str | None = None
    reset_attempts: int | None = None


@dataclass
class LedgerView:
    """What the checks read: every job, and how many entries of each type the ledger holds."""

    entries: int
    jobs: dict[str, JobRecord]
    types: Counter[str]

    def device_jobs(self) -> dict[str, list[JobRecord]]:
        out: dict[str, list[JobRecord]] = {}
        for job in self.jobs.values():
            if job.device_id:
                out.setdefault(job.device_id, []).append(job)
        return out


def read_ledger(uow_factory: UnitOfWorkFactory) -> LedgerView:
    """Read the ledger's job steps and the projected jobs, in one read transaction."""
    jobs: dict[str, JobRecord] = {}
    types: Counter[str] = Counter()
    with uow_factory(write=False) as uow:
        size = uow.ledger.log.head().size
        for batch in uow.ledger.storage.read_entries(0, size):
            for index, data in batch:
                entry = Entry.from_bytes(bytes(data))
                types[entry.type] += 1
                if "job_id" not in entry.data or "state" not in entry.data:
                    continue
                job_id = str(entry.data["job_id"])
                record = jobs.setdefault(job_id, JobRecord(job_id))
                record.steps.append(
                    Step(
                        int(index),
                        entry.type,
                        str(entry.data["state"]),
                        entry.at,
                        f"{entry.actor.kind}:{entry.actor.id}",
                        entry.subject.id,
                        entry.data,
                    )
                )
        offset = 0
        while True:
            page, total = uow.jobs.page(None, offset, PAGE)
            for job in page:
                record = jobs.setdefault(job.id, JobRecord(job.id))
                record.device_id = job.device_id
                record.projected = job.state.value
                record.reset_attempts = job.reset_attempts
            offset += len(page)
            if not page or offset >= total:
                break
    for record in jobs.values():
        if record.device_id is None and record.steps:
            record.device_id = record.steps[0].subject
    return LedgerView(size, jobs, types)


def check_lifecycle(view: LedgerView) -> list[str]:
    """Problems that make a device's state impossible (empty when there are none)."""
    problems: list[str] = []
    for job in view.jobs.values():
        name = f"job {job.job_id} (device {job.device_id})"
        if not job.steps:
            problems.append(f"{name}: projected as {job.projected} but has no ledger entries")
            continue
        # The lifecycle's own check of the path (the one `triage ledger replay --check` runs).
        path = [PathStep(s.index, s.type, s.state, s.subject) for s in job.steps]
        problem = check_path(path)
        if problem is not None:
            problems.append(f"{name}: {problem}")
        if job.steps[0].subject != job.device_id:
            problems.append(
                f"{name}: entry {job.steps[0].index} is about device {job.steps[0].subject}"
            )
        state = job.steps[-1].state
        if job.projected is None:
            problems.append(f"{name}: has ledger entries (last state {state}) but no projection")
        elif job.projected != state:
            problems.append(
                f"{name}: projected as {job.projected}, but its last ledger step leads to {state}"
            )
    final = {s.value for s in FINAL_STATES}
    for device, jobs in view.device_jobs().items():
        open_jobs = [j for j in jobs if (j.projected or "") not in final]
        if len(open_jobs) > 1:
            problems.append(
                f"device {device} has {len(open_jobs)} open jobs: "
                + ", ".join(f"{j.job_id} ({j.projected})" for j in open_jobs)
            )
    return problems


@dataclass(frozen=True)
class Ack:
    """A step a client saw acknowledged: the request got a 2xx response.

    ``entry_type`` and ``state`` are what the ledger must hold for the job; ``match`` names data
    fields the entry must have (such as the work order's id).
    """

    job_id: str
    step: str
    entry_type: str
    state: str
    match: Mapping[str, Any] = field(default_factory=dict)


def _successors() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for transition in TRANSITIONS.values():
        for source in transition.sources:
            graph.setdefault(source.value, set()).update(t.value for t in transition.targets)
    return graph


SUCCESSORS = _successors()


def reachable(start: str, goal: str) -> bool:
    """True when ``goal`` is ``start`` or can follow it through the lifecycle."""
    seen, frontier = {start}, [start]
    while frontier:
        state = frontier.pop()
        if state == goal:
            return True
        for nxt in SUCCESSORS.get(state, ()):
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return False


def check_acknowledged(view: LedgerView, acks: Iterable[Ack]) -> tuple[int, list[str]]:
    """(steps checked, problems): each acknowledged step in the ledger and the projections."""
    problems: list[str] = []
    checked = 0
    for ack in acks:
        checked += 1
        job = view.jobs.get(ack.job_id)
        name = f"{ack.step} of job {ack.job_id}"
        if job is None:
            problems.append(f"{name} was acknowledged, but the job is not in the ledger")
            continue
        found = any(
            s.type == ack.entry_type
            and s.state == ack.state
            and all(s.data.get(k) == v for k, v in ack.match.items())
            for s in job.steps
        )
        if not found:
            problems.append(
                f"{name} was acknowledged ({ack.state}), but the job has no {ack.entry_type} "
                f"entry to match it"
            )
        if job.projected is None or not reachable(ack.state, job.projected):
            problems.append(
                f"{name} was acknowledged as {ack.state}, but the job is projected as "
                f"{job.projected}, which cannot follow it"
            )
    return checked, problems


@dataclass
class AttemptSummary:
    """What became of the reset attempts: the ledger's view, for the reports."""

    authorised: int = 0
    verified: int = 0
    verification_failed: int = 0
    reset_failed: int = 0
    expired: int = 0  # failed by the server: the order expired without a result
    interrupted: int = 0  # reported by an agent after a restart, from its journal
    interrupted_verified: int = 0
    still_open: int = 0  # no result yet (the job is still reset_authorised)
    withdrawn: int = 0  # the job left the reset before a result (quarantined, say)
    superseded: int = 0  # a new work order was issued before any result
    retried_after_expiry: int = 0  # a new work order after an expired one
    retried_after_interruption: int = 0
    quarantined_by_system: int = 0  # the system quarantined the job when attempts ran out
    quarantined_after_recovery: int = 0  # ... of which had an expired or interrupted attempt
    authorised_to_verified: list[float] = field(default_factory=list)  # seconds, by ledger time


def _interrupted(step: Step) -> bool:
    return "interrupted" in str(step.data.get("detail", "")).lower()


def reset_attempts(view: LedgerView) -> AttemptSummary:
    """Every reset attempt (a ``reset.authorised`` step) and what followed it."""
    out = AttemptSummary()
    for job in view.jobs.values():
        steps = job.steps
        recovered = False
        for i, step in enumerate(steps):
            if step.type == QUARANTINED_TYPE and step.actor.startswith("system"):
                out.quarantined_by_system += 1
                out.quarantined_after_recovery += int(recovered)
            if step.type != AUTHORISED_TYPE:
                continue
            out.authorised += 1
            j = next(
                (k for k in range(i + 1, len(steps)) if steps[k].type in RESET_RESULT_TYPES),
                None,
            )
            reauthorised = next(
                (k for k in range(i + 1, len(steps)) if steps[k].type == AUTHORISED_TYPE), None
            )
            if j is None or (reauthorised is not None and reauthorised < j):
                if i + 1 == len(steps):
                    out.still_open += 1
                elif steps[i + 1].type == AUTHORISED_TYPE:
                    out.superseded += 1
                else:
                    out.withdrawn += 1
                continue
            result = steps[j]
            expired = bool(result.data.get("expired"))
            # The agent's detail about an interruption is on its reset.completed (followed by
            # the verdict) or on its reset.failed.
            interrupted = any(_interrupted(s) for s in steps[i + 1 : j + 1])
            if result.state == JobState.VERIFIED.value:
                out.verified += 1
                out.interrupted_verified += int(interrupted)
                out.authorised_to_verified.append((result.at - step.at).total_seconds())
            elif result.state == JobState.VERIFICATION_FAILED.value:
                out.verification_failed += 1
            else:
                out.reset_failed += 1
            out.expired += int(expired)
            out.interrupted += int(interrupted)
            recovered = recovered or expired or interrupted
            retried = any(s.type == AUTHORISED_TYPE for s in steps[j + 1 :])
            out.retried_after_expiry += int(expired and retried)
            out.retried_after_interruption += int(interrupted and retried)
    return out


ENDED = {
    JobState.RELEASED.value: "released",
    JobState.QUARANTINED.value: "quarantined",
    JobState.RETURNED_TO_MANUFACTURER.value: "returned to manufacturer",
    JobState.DESTROYED.value: "destroyed",
}
# States in which the system has put the device in front of a person, with an entry saying why:
# the supervisor's review queue, a failed reset or verification (retry or quarantine), a broken
# seal, a metrology re-verification.
NEEDS_ATTENTION = {
    JobState.AWAITING_REVIEW.value,
    JobState.RESET_FAILED.value,
    JobState.VERIFICATION_FAILED.value,
    JobState.SEAL_BROKEN.value,
    JobState.REVERIFY_METROLOGY.value,
}


@dataclass
class Endings:
    """Where each device's latest job ended up."""

    by_state: Counter[str]
    ended: int
    attention: dict[str, str]  # device -> state
    stuck: dict[str, str]  # device -> state: neither ended nor flagged by the system
    not_started: int


def endings(view: LedgerView, device_ids: Iterable[str]) -> Endings:
    """Classify the devices' latest jobs: ended, needing attention (said so by the system), or
    stuck; devices without a job were never started."""
    by_device = view.device_jobs()
    by_state: Counter[str] = Counter()
    attention: dict[str, str] = {}
    stuck: dict[str, str] = {}
    ended = not_started = 0
    for device in device_ids:
        jobs = by_device.get(device)
        if not jobs:
            not_started += 1
            continue
        latest = max(jobs, key=lambda j: j.steps[0].index if j.steps else -1)
        state = latest.projected or "(not projected)"
        by_state[state] += 1
        if state in ENDED:
            ended += 1
        elif state in NEEDS_ATTENTION:
            attention[device] = state
        else:
            stuck[device] = state
    return Endings(by_state, ended, attention, stuck, not_started)
