"""A triage job (one visit of one device) and the rules that guard its steps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from triage.domain.lifecycle import JobState
from triage.errors import IllegalTransition, InvalidInput, PermissionDenied, TriageError

MIN_JUSTIFICATION = 20


@dataclass(frozen=True)
class TriageJob:
    """The current state of one device's visit through the facility."""

    id: str
    device_id: str
    consignment_id: str | None
    state: JobState
    inspector_id: str | None
    outcome: str | None
    reset_attempts: int
    seal_serial: str | None
    opened_at: datetime
    closed_at: datetime | None

    @classmethod
    def received(
        cls, job_id: str, device_id: str, consignment_id: str | None, at: datetime
    ) -> TriageJob:
        """A job as a scan opens it: received at ``at``, nothing decided or fitted yet."""
        return cls(
            id=job_id,
            device_id=device_id,
            consignment_id=consignment_id,
            state=JobState.RECEIVED,
            inspector_id=None,
            outcome=None,
            reset_attempts=0,
            seal_serial=None,
            opened_at=at,
            closed_at=None,
        )


def override_refused(job: TriageJob, supervisor_id: str) -> TriageError | None:
    """Why ``supervisor_id`` may not override the job's decision at all, or None if they may."""
    if job.inspector_id is not None and job.inspector_id == supervisor_id:
        return PermissionDenied(
            f"separation of duties: {supervisor_id} inspected this device and cannot override "
            "its decision; another supervisor must"
        )
    if job.reset_attempts > 0:
        return IllegalTransition(
            "the decision cannot be overridden after a reset was attempted; quarantine instead"
        )
    return None


def check_override(job: TriageJob, supervisor_id: str, justification: str) -> str:
    """Guard an override; returns the cleaned justification."""
    refused = override_refused(job, supervisor_id)
    if refused is not None:
        raise refused
    text = " ".join(justification.split())
    if len(text) < MIN_JUSTIFICATION:
        raise InvalidInput(
            f"justification: write at least {MIN_JUSTIFICATION} characters saying why "
            "the policy's decision is overridden"
        )
    return text


def check_retry(job: TriageJob, max_attempts: int) -> int:
    """The number the next reset attempt will have; refuses when attempts are used up."""
    if job.reset_attempts >= max_attempts:
        raise IllegalTransition(
            f"the device has had {job.reset_attempts} reset attempts, the limit is "
            f"{max_attempts}; quarantine it"
        )
    return job.reset_attempts + 1


def attempts_exhausted(attempt: int, max_attempts: int) -> bool:
    """True when a failed attempt numbered ``attempt`` was the last one allowed."""
    return attempt >= max_attempts
