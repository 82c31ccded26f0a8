"""Seals issued at random: when the facility asks for it (``random_seal_issue``, set by
stores), the bench does not choose which of the operator's issued seals to fit. The operator
draws one (``seal.drawn``), uniformly at random with ``secrets`` from the seals issued to them
and unused, and fitting refuses any other serial. Off, nothing changes.
"""

from __future__ import annotations

import secrets

from triage.domain.caller import Caller
from triage.domain.custody import SealDraw
from triage.domain.job import TriageJob
from triage.domain.lifecycle import Action, allowed_actions
from triage.domain.seals import SealStatus
from triage.errors import Conflict, InvalidInput, PermissionDenied
from triage.services.common import device_ref, get_job, make_entry, record_and_reload, require_step
from triage.services.ports import UnitOfWork, UnitOfWorkFactory


def draw(uow_factory: UnitOfWorkFactory, caller: Caller, job_id: str) -> SealDraw:
    """Draw the seal to fit to the job from those issued to the caller; asked again, the same
    seal while it is still theirs and unused (drawing again must not let anyone choose)."""
    require_step(caller, Action.SEAL)
    if caller.bench is None:
        raise PermissionDenied(
            "seals are drawn and fitted at a bench: sign in at the bench (a bench session or "
            "bench token)"
        )
    with uow_factory(write=True) as uow:
        if not uow.facilities.custody_settings().random_seal_issue:
            raise Conflict("seals are not issued at random here: fit a seal issued to you")
        job = get_job(uow, job_id)
        if Action.SEAL not in allowed_actions(job.state):
            raise Conflict(f"job {job.id} is {job.state}: a seal is fitted to a verified device")
        drawn = uow.custody.drawn_seal(job.id)
        if drawn is not None and drawn.operator_id == caller.id:
            still = uow.seals.seal(drawn.serial)
            if (
                still is not None
                and still.status is SealStatus.ISSUED
                and still.holder == caller.id
            ):
                return drawn
        _, held = uow.seals.seals(SealStatus.ISSUED, None, caller.id, None, 0, 1)
        if held == 0:
            raise Conflict("no seals are issued to you: ask stores to issue you some")
        [chosen], _ = uow.seals.seals(
            SealStatus.ISSUED, None, caller.id, None, secrets.randbelow(held), 1
        )
        data = {"job_id": job.id, "serial": chosen.serial}
        entry = make_entry(uow, caller, "seal.drawn", device_ref(job.device_id), data)
        return record_and_reload(uow, [entry], lambda: uow.custody.drawn_seal(job.id))


def check_drawn(uow: UnitOfWork, caller: Caller, job: TriageJob, serial: str) -> None:
    """When seals are issued at random, refuse fitting any seal but the one drawn for the job
    by the caller (``job_steps.seal`` calls it in its transaction)."""
    if not uow.facilities.custody_settings().random_seal_issue:
        return
    drawn = uow.custody.drawn_seal(job.id)
    if drawn is None or drawn.operator_id != caller.id:
        raise Conflict(
            "seals are issued at random here: draw a seal for this job first, then fit that one"
        )
    if drawn.serial != serial:
        raise InvalidInput(
            f"serial: the seal drawn for this job is {drawn.serial}: fit that one, not {serial}"
        )
