"""A triage job's steps (``job_steps``) named by device rather than by job: each is taken on
the device's open job (the command line names the device scanned at the bench, not a job
id)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from triage.domain.caller import Caller
from triage.domain.job import TriageJob
from triage.domain.roles import Permission
from triage.domain.security_log_reading import SecurityLogRecord
from triage.domain.tamper_policy import TamperDecision
from triage.errors import NotFound
from triage.services import job_steps, security_log
from triage.services.history import parse_device_id
from triage.services.ports import FileStore, UnitOfWorkFactory
from triage.services.security_log import JobSecurityLog


@dataclass(frozen=True)
class IssuedWorkOrder:
    """A signed work order issued for a device's open job."""

    job_id: str
    work_order: str


def open_job_id(uow_factory: UnitOfWorkFactory, caller: Caller, device: str) -> str:
    """The id of the device's open triage job, or NotFound."""
    caller.require(Permission.TRIAGE_READ)
    device_id = parse_device_id(device)
    with uow_factory(write=False) as uow:
        job = uow.jobs.open_for_device(device_id)
    if job is None:
        raise NotFound(f"device {device_id} has no open triage job; scan it in first")
    return job.id


def inspect(
    uow_factory: UnitOfWorkFactory, caller: Caller, device: str, evidence: Mapping[str, Any]
) -> TamperDecision:
    """``job_steps.inspect`` on the device's open job."""
    job_id = open_job_id(uow_factory, caller, device)
    return job_steps.inspect(uow_factory, caller, job_id, evidence)


def override(
    uow_factory: UnitOfWorkFactory, caller: Caller, device: str, outcome: str, justification: str
) -> TriageJob:
    """``job_steps.override`` on the device's open job."""
    job_id = open_job_id(uow_factory, caller, device)
    return job_steps.override(uow_factory, caller, job_id, outcome, justification)


def authorise_reset(
    uow_factory: UnitOfWorkFactory, caller: Caller, device: str, tool_id: str, signer_key: str
) -> IssuedWorkOrder:
    """``job_steps.authorise_reset`` on the device's open job."""
    job_id = open_job_id(uow_factory, caller, device)
    signed = job_steps.authorise_reset(uow_factory, caller, job_id, tool_id, signer_key)
    return IssuedWorkOrder(job_id, signed)


def seal(uow_factory: UnitOfWorkFactory, caller: Caller, device: str, serial: str) -> TriageJob:
    """``job_steps.seal`` on the device's open job."""
    return job_steps.seal(uow_factory, caller, open_job_id(uow_factory, caller, device), serial)


def release(uow_factory: UnitOfWorkFactory, caller: Caller, device: str) -> TriageJob:
    """``job_steps.release`` on the device's open job."""
    return job_steps.release(uow_factory, caller, open_job_id(uow_factory, caller, device))


def quarantine(
    uow_factory: UnitOfWorkFactory, caller: Caller, device: str, reason: str
) -> TriageJob:
    """``job_steps.quarantine`` on the device's open job."""
    return job_steps.quarantine(
        uow_factory, caller, open_job_id(uow_factory, caller, device), reason
    )


def dispose(
    uow_factory: UnitOfWorkFactory, caller: Caller, device: str, action: str, reference: str
) -> TriageJob:
    """``job_steps.dispose`` on the device's open job."""
    job_id = open_job_id(uow_factory, caller, device)
    return job_steps.dispose(uow_factory, caller, job_id, action, reference)


def request_read(
    uow_factory: UnitOfWorkFactory, caller: Caller, device: str, tool_id: str, signer_key: str
) -> IssuedWorkOrder:
    """``security_log.request_read`` on the device's open job."""
    job_id = open_job_id(uow_factory, caller, device)
    signed = security_log.request_read(uow_factory, caller, job_id, tool_id, signer_key)
    return IssuedWorkOrder(job_id, signed)


def upload_log(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    store: FileStore,
    device: str,
    raw: bytes | str,
    reference: str,
) -> SecurityLogRecord:
    """``security_log.upload`` on the device's open job."""
    job_id = open_job_id(uow_factory, caller, device)
    return security_log.upload(uow_factory, caller, store, job_id, raw, reference)


def security_log_of(
    uow_factory: UnitOfWorkFactory, caller: Caller, device: str
) -> JobSecurityLog | None:
    """``security_log.for_job`` on the device's open job."""
    return security_log.for_job(uow_factory, caller, open_job_id(uow_factory, caller, device))
