"""The steps of a triage job after intake: inspection and the policy's decision, overrides,
work orders and tool results, sealing, release, quarantine and disposal (each a transition of
``domain.lifecycle``, recorded as the job's ledger entry)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from triage.domain.caller import Caller
from triage.domain.device import Device
from triage.domain.disposal import Destruction, check_line, destruction_data, device_facts
from triage.domain.evidence_codec import Inspection, evidence_to_json, inspection_from_json
from triage.domain.job import TriageJob, attempts_exhausted, check_override, check_retry
from triage.domain.lifecycle import Action, JobState, step
from triage.domain.local_time import local
from triage.domain.reason import Reason
from triage.domain.reset_profile import check_reset
from triage.domain.roles import Permission, roles_with
from triage.domain.seals import check_fittable, normalise_serial
from triage.domain.tamper_policy import (
    EvidenceError,
    LogSource,
    Outcome,
    SecurityLogUsed,
    TamperDecision,
    TamperEvidence,
)
from triage.domain.thresholds import Metric
from triage.domain.work_order import (
    FACTORY_RESET,
    ResetOutcome,
    ToolResult,
    WorkOrderRefused,
)
from triage.domain.work_order_record import StoredWorkOrder
from triage.errors import Conflict, InvalidInput, NotFound
from triage.ledger.entry import Entry, Ref, format_time
from triage.services import (
    anomaly,
    assessment,
    bench_assignment,
    common,
    custody,
    hub_returns,
    incidents,
    inventory,
    seal_draw,
    security_log,
    tools,
)
from triage.services.common import (
    device_ref,
    get_job,
    job_step,
    make_entry,
    moved,
    record_and_reload,
    require_step,
)
from triage.services.ports import UnitOfWork, UnitOfWorkFactory
from triage.services.tamper_policy import ensure_policy

OUTCOME_STATE = {
    Outcome.eligible: JobState.ELIGIBLE,
    Outcome.quarantine: JobState.QUARANTINED,
    Outcome.reverify_metrology: JobState.REVERIFY_METROLOGY,
    Outcome.supervisor_review: JobState.AWAITING_REVIEW,
}


def inspect(
    uow_factory: UnitOfWorkFactory, caller: Caller, job_id: str, evidence: Mapping[str, Any]
) -> TamperDecision:
    """Record the inspection and let the tamper policy decide, in one transaction.

    The alerts are the entries of the device's own security log recorded for the job (read by
    the bench tool, or a supplier's response a supervisor uploaded); only when none was
    recorded may they be typed by hand (``typed_log``, with the reason the log could not be
    read), and the decision says the log was typed.
    """
    caller.require(Permission.DEVICE_INSPECT)
    try:
        given = inspection_from_json(evidence)
    except EvidenceError as exc:
        raise InvalidInput(str(exc)) from exc
    with uow_factory(write=True) as uow:
        job = get_job(uow, job_id)
        step(job.state, Action.INSPECT)  # an inspected job is refused before its log is looked at
        device = uow.devices.get(job.device_id)
        inventory.check_may_triage(uow, job.device_id, device)
        parsed, log = _with_security_log(uow, job, device, given)
        policy = ensure_policy(uow)
        decision = policy.decide(parsed)
        inspected = job_step(
            uow, caller, job, Action.INSPECT, {"evidence": evidence_to_json(parsed)}
        )
        job = dataclasses.replace(job, state=JobState.INSPECTED, inspector_id=caller.id)
        decided = job_step(
            uow,
            Caller.system("tamper-policy"),
            job,
            Action.DECIDE,
            {
                "seq": uow.jobs.decision_count(job.id) + 1,
                "outcome": decision.outcome.value,
                "reasons": [r.to_json() for r in decision.reasons],
                "policy": {
                    "id": decision.policy_id,
                    "version": decision.policy_version,
                    "hash": decision.policy_hash,
                },
                "security_log": {
                    "source": log.source.value,
                    "sha256": log.sha256,
                    "use_case": log.use_case,
                },
            },
            target=OUTCOME_STATE[decision.outcome],
        )
        uow.ledger.record([inspected, decided])
        suspicious = policy.suspicious(decision)
        if suspicious:
            incidents.raise_automatic(
                uow,
                "suspicious_quarantine",
                device_ref(job.device_id),
                f"Device {job.device_id} quarantined: " + "; ".join(r.text for r in suspicious),
                {"job_id": job.id, "rules": [r.rule for r in suspicious]},
            )
        uow.commit()
    return decision


def _with_security_log(
    uow: UnitOfWork, job: TriageJob, device: Device | None, given: Inspection
) -> tuple[TamperEvidence, SecurityLogUsed]:
    """The inspection's evidence with the alerts of the job's security log, or of the log
    typed by hand when none could be read; a device that keeps no security log (a Type 2
    device) has none to weigh. ``device``: the job's device as the register has it."""
    if not security_log.device_keeps_a_log(job, device):
        if given.typed_log is not None:
            raise InvalidInput(
                f"typed_log: {security_log.NO_LOG_KEPT}: there is nothing to type from it"
            )
        used = SecurityLogUsed(LogSource.NONE, None, reason=security_log.NO_LOG_KEPT)
        return dataclasses.replace(given.evidence, alerts=(), security_log=used), used
    log = security_log.usable_log(uow, job.id)
    if log is not None:
        if given.typed_log is not None:
            raise InvalidInput(
                f"typed_log: the device's own log was read (sha256 {log.sha256}); typing is "
                "only for a log that could not be read"
            )
        used = SecurityLogUsed(log.source, log.sha256, log.use_case)
        return dataclasses.replace(given.evidence, alerts=log.entries, security_log=used), used
    if given.typed_log is None:
        raise InvalidInput(
            "typed_log: no security log was read for this device: ask the bench tool to read "
            "it, have a supervisor upload the supplier's 6.13 response, or type it with the "
            "reason it could not be read"
        )
    typed = given.typed_log
    used = SecurityLogUsed(LogSource.TYPED, None, reason=typed.reason)
    return dataclasses.replace(given.evidence, alerts=typed.alerts, security_log=used), used


def override(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    job_id: str,
    outcome: str,
    justification: str,
) -> TriageJob:
    """A supervisor decides instead of the policy, in writing, never on their own inspection."""
    caller.require(Permission.DECISION_OVERRIDE)
    try:
        chosen = Outcome(outcome)
    except ValueError:
        raise InvalidInput("outcome: must be eligible, quarantine or reverify_metrology") from None
    if chosen is Outcome.supervisor_review:
        raise InvalidInput(
            "outcome: an override must decide: eligible, quarantine or reverify_metrology"
        )
    with uow_factory(write=True) as uow:
        job = get_job(uow, job_id)
        text = check_override(job, caller.id, justification)
        if job.state is OUTCOME_STATE[chosen]:
            # The same override again (a repeated request) would decide nothing new.
            raise Conflict(f"job {job.id} is already {job.state}: an override must change it")
        entry = job_step(
            uow,
            caller,
            job,
            Action.OVERRIDE,
            {
                "seq": uow.jobs.decision_count(job.id) + 1,
                "outcome": chosen.value,
                "previous": job.state.value,
                "justification": text,
                "inspector": job.inspector_id,
            },
            target=OUTCOME_STATE[chosen],
        )
        return record_and_reload(uow, [entry], lambda: uow.jobs.get(job.id))


# A work order refused before it was issued because it would breach a threshold.
ORDER_REFUSED = "work_order.refused"


def authorise_reset(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    job_id: str,
    tool_id: str,
    origin_signer_key: str,
) -> str:
    """Issue a signed work order for one tool to reset one device; returns the signed note."""
    caller.require(Permission.RESET_REQUEST)
    try:
        return bench_assignment.refusing_elsewhere(
            uow_factory,
            caller,
            lambda: _authorise_reset(uow_factory, caller, job_id, tool_id, origin_signer_key),
        )
    except anomaly.ThresholdReached as exc:
        # No order exists; the attempt is on the device's record, and suspends who made it.
        subject = device_ref(exc.job.device_id)
        common.record_refusal(
            uow_factory, caller, ORDER_REFUSED, subject, str(exc), then=exc.record()
        )
        raise


def _authorise_reset(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    job_id: str,
    tool_id: str,
    origin_signer_key: str,
) -> str:
    with uow_factory(write=True) as uow:
        job = get_job(uow, job_id)
        tool = bench_assignment.bench_tool(uow, caller, tool_id)
        device = uow.devices.get(job.device_id)
        if device is None:
            raise NotFound(f"device {job.device_id} is not in the register")
        hub_returns.check_reset(uow, device)  # a hub goes back to the DCC, unless the policy says
        assessment.check_may_triage(uow)
        inventory.check_may_triage(uow, job.device_id, device)
        limits = uow.facilities.order_settings()
        issued = uow.clock.now()
        if job.state is JobState.RESET_AUTHORISED and uow.work_orders.live(job.id, issued):
            raise Conflict(
                "a work order for this device is still valid; wait for the tool's result "
                "or for the order to expire"
            )
        attempt = check_retry(job, limits.max_reset_attempts)
        profile = uow.packaged.reset_profiles().for_type(device.type)
        signed, fields = common.issue_order(
            uow,
            caller,
            job,
            tool.id,
            FACTORY_RESET,
            f"{profile.id}@{profile.version}",
            origin_signer_key,
            issued,
            limits.work_order_minutes,
        )
        entry = job_step(
            uow, caller, job, Action.AUTHORISE_RESET, {**fields, "attempt": attempt}, at=issued
        )
        checked = anomaly.check_order(uow, job, tool, caller.id, issued, limits.working_hours)
        uow.ledger.record([entry])
        anomaly.reset_issued(uow, job, tool.id, caller.id, issued, checked)
        uow.commit()
    return signed


def work_orders_for_tool(uow_factory: UnitOfWorkFactory, caller: Caller) -> list[str]:
    """The signed work orders waiting for the calling tool."""
    caller.require_tool()
    with uow_factory(write=False) as uow:
        tools.active_tool(uow, caller)
        at = uow.clock.now()
        return [order.signed for order in uow.work_orders.issued(caller.id, at)]


def record_tool_result(
    uow_factory: UnitOfWorkFactory, caller: Caller, signed_result: str
) -> TriageJob:
    """Record a tool's signed result, verify the reset against the profile, and move the job."""
    caller.require_tool()
    try:
        with uow_factory(write=True) as uow:
            tool = tools.active_tool(uow, caller)
            result = ToolResult.open(signed_result, tool.verifier_key)
            order = _order_for(uow, result, signed_result, caller.id)
            job = get_job(uow, order.job_id)
            if order.status != "issued":  # the same result again: see _order_for
                return job
            entries = _result_entries(uow, caller, job, order, result, signed_result)
            uow.ledger.record(entries)
            at = uow.clock.now()
            anomaly.check(
                uow, caller.id, order.operator_id, at, [Metric.FAILED_VERIFICATIONS], tool=tool
            )
            uow.commit()
        for entry in entries:  # each moves the job on from where the one before left it
            job = moved(job, entry)
        return job
    except WorkOrderRefused as exc:
        common.record_refusal(
            uow_factory,
            caller,
            "tool.result_refused",
            Ref(caller.kind.value, caller.id),
            str(exc),
            then=anomaly.after_refusal(caller.id),
        )
        raise InvalidInput(str(exc)) from exc


def _order_for(uow: UnitOfWork, result: ToolResult, signed: str, tool_id: str) -> StoredWorkOrder:
    """The work order ``result`` reports on, checked against it; refused when it does not match
    or is closed, unless the closed order's recorded result is this very result.

    An agent that was stopped after the server recorded its result, but before it learnt so,
    sends the same signed result again when it restarts; that is a retry, not a replay, and
    changes nothing (the order comes back closed). A different result for a closed order is
    refused as a replay.
    """
    order = uow.work_orders.get(result.work_order_id)
    if order is None:
        raise WorkOrderRefused(f"result names unknown work order {result.work_order_id}")
    if result.tool_id != tool_id or order.tool_id != tool_id:
        raise WorkOrderRefused(f"work order {order.id} was not issued to tool {tool_id}")
    if result.nonce != order.nonce or result.device_id != order.device_id:
        raise WorkOrderRefused(f"result does not match work order {order.id}")
    if order.status != "issued" and not _recorded(uow, order, signed):
        why = _CLOSED.get(order.status, "a second result for it is a replay")
        raise WorkOrderRefused(f"work order {order.id} is {order.status}: {why}")
    if order.status == "issued":
        _check_in_time(order, result, uow.clock.now(), uow.settings.work_order_expiry_grace)
    return order


def _check_in_time(
    order: StoredWorkOrder, result: ToolResult, at: datetime, grace: timedelta
) -> None:
    """Refuse a result for a reset done after its order expired (the result arriving at ``at``).

    The order's expiry bounds when the device may be reset, not only when the result may
    arrive: a result the tool says it completed after the expiry is refused. The sweep's grace
    is for a reset completed in time whose result is still on its way; a result arriving after
    the grace is refused too, even if the sweep has not closed the order yet.
    """
    expires = order.expires_at
    if result.completed_at > expires:
        raise WorkOrderRefused(
            f"work order {order.id} expired at {format_time(expires)}, before the reset "
            f"was completed ({format_time(result.completed_at)}): a reset after the order's "
            "expiry is not accepted; the device needs a new work order"
        )
    if at > expires + grace:
        raise WorkOrderRefused(
            f"work order {order.id} expired at {format_time(expires)} and its result came "
            f"more than {grace} later: the device needs a new work order"
        )


def _recorded(uow: UnitOfWork, order: StoredWorkOrder, signed: str) -> bool:
    """Whether ``signed`` (the very same bytes) is the result recorded for ``order``."""
    rows = uow.jobs.reset_results(order.job_id)
    return any(r.work_order_id == order.id and r.signed == signed for r in rows)


_CLOSED = {
    "expired": "no result came before it expired, so it was closed; the device needs a new one",
    "superseded": "a newer work order for the device replaced it",
    "withdrawn": (
        "the device was set aside (quarantined or disposed of), or its tool or operator "
        "suspended, before a result came"
    ),
}


def _result_entries(
    uow: UnitOfWork,
    caller: Caller,
    job: TriageJob,
    order: StoredWorkOrder,
    result: ToolResult,
    signed: str,
) -> list[Entry]:
    base = {
        "work_order_id": order.id,
        "before": dict(result.before),
        "after": dict(result.after),
        "detail": result.detail[:2000],
        "signed": signed,
    }
    system = Caller.system()
    if result.outcome is ResetOutcome.FAILED:
        entries = [job_step(uow, caller, job, Action.FAIL_RESET, base)]
        job = dataclasses.replace(job, state=JobState.RESET_FAILED)
    else:
        entries = [job_step(uow, caller, job, Action.COMPLETE_RESET, base)]
        job = dataclasses.replace(job, state=JobState.RESET_DONE)
        device = uow.devices.get(job.device_id)
        if device is None:
            raise NotFound(f"device {job.device_id} is not in the register")
        profiles = uow.packaged.reset_profiles()
        failures = check_reset(profiles.for_type(device.type), result.before, result.after)
        verdict = {"work_order_id": order.id, "failures": failures}
        if not failures:
            entries.append(job_step(uow, system, job, Action.VERIFY, verdict))
            return entries
        entries.append(job_step(uow, system, job, Action.FAIL_VERIFICATION, verdict))
        job = dataclasses.replace(job, state=JobState.VERIFICATION_FAILED)
    return entries + _quarantine_if_exhausted(uow, job)


def _quarantine_if_exhausted(
    uow: UnitOfWork, job: TriageJob, max_attempts: int | None = None
) -> list[Entry]:
    """The system's quarantine entry when the failed attempt was the last one allowed (of
    ``max_attempts``, when the caller has just read the setting)."""
    if max_attempts is None:
        max_attempts, _ = uow.facilities.settings()
    if not attempts_exhausted(job.reset_attempts, max_attempts):
        return []
    reason = f"reset not verified after {job.reset_attempts} attempts"
    return [job_step(uow, Caller.system(), job, Action.QUARANTINE, {"reason": reason})]


SWEEP_BATCH = 200


def sweep_expired_orders(
    uow_factory: UnitOfWorkFactory, grace: timedelta | None = None
) -> list[str]:
    """Close work orders that expired (more than ``grace`` ago, by default the setting
    ``work_order_expiry_grace``) without a tool's result.

    A tool that stopped in the middle of a reset, or never fetched its order, leaves the job
    waiting for a result that will not come. The system records the reset as failed (the
    entry says the order expired, and which tool had it), so the job is visibly ``reset_failed``
    and can be given a new work order, or is quarantined when that was its last attempt.
    ``grace`` leaves time for a result from a reset that began just before expiry. Returns
    the ids of the jobs moved.
    """
    moved: list[str] = []
    # A look first, in a read transaction: the sweep runs every minute, and most minutes there
    # is nothing to close, so it should not queue for the write lock behind the benches.
    with uow_factory(write=False) as uow:
        if grace is None:
            grace = uow.settings.work_order_expiry_grace
        if not uow.work_orders.expired(uow.clock.now() - grace, 1):
            return moved
    while True:
        with uow_factory(write=True) as uow:
            max_attempts, _ = uow.facilities.settings()
            orders = uow.work_orders.expired(uow.clock.now() - grace, SWEEP_BATCH)
            entries: list[Entry] = []
            for order in orders:
                job = get_job(uow, order.job_id)
                expired_at = order.expires_at
                data = {
                    "work_order_id": order.id,
                    "tool_id": order.tool_id,
                    "expired": True,
                    "before": {},
                    "after": {},
                    "detail": (
                        f"work order expired at {format_time(expired_at)} without a result "
                        f"from tool {order.tool_id}"
                    ),
                    "signed": "",
                }
                entries.append(job_step(uow, Caller.system(), job, Action.FAIL_RESET, data))
                failed = dataclasses.replace(job, state=JobState.RESET_FAILED)
                entries += _quarantine_if_exhausted(uow, failed, max_attempts)
                moved.append(job.id)
            if entries:
                uow.ledger.record(entries)
            uow.commit()
        if len(orders) < SWEEP_BATCH:
            return moved


def record_refusal(
    uow_factory: UnitOfWorkFactory, caller: Caller, work_order_id: str, reason: str
) -> None:
    """The agent refused a work order (wrong device, expired, replayed, bad signature)."""
    caller.require_tool()
    with uow_factory(write=True) as uow:
        tools.active_tool(uow, caller)
        order = uow.work_orders.get(work_order_id)
        subject = device_ref(order.device_id) if order else Ref("tool", caller.id)
        uow.ledger.record(
            [
                make_entry(
                    uow,
                    caller,
                    "tool.command_refused",
                    subject,
                    {"work_order_id": work_order_id, "reason": reason[:500]},
                )
            ]
        )
        anomaly.refusal_recorded(uow, caller.id)
        uow.commit()


def seal(uow_factory: UnitOfWorkFactory, caller: Caller, job_id: str, serial: str) -> TriageJob:
    """Record the tamper-protection seal fitted to a verified device: only a seal issued to
    the operator at the bench, and never used, is accepted."""
    require_step(caller, Action.SEAL)
    serial = normalise_serial(serial)
    with uow_factory(write=True) as uow:
        job = get_job(uow, job_id)
        entry = job_step(uow, caller, job, Action.SEAL, {"serial": serial, "bench": caller.bench})
        seal_draw.check_drawn(uow, caller, job, serial)
        check_fittable(uow.seals.seal(serial), serial, caller.id, caller.bench)
        if caller.bench is not None:
            bench_assignment.check_assigned(uow, caller.id, caller.bench)
        uow.ledger.record([entry])
        uow.commit()
    return moved(job, entry, seal_serial=serial)


def release(uow_factory: UnitOfWorkFactory, caller: Caller, job_id: str) -> TriageJob:
    """The sealed device leaves as triaged."""
    require_step(caller, Action.RELEASE)
    with uow_factory(write=True) as uow:
        job = get_job(uow, job_id)
        if job.state is JobState.VERIFIED:
            raise Conflict("a device cannot be released without a fitted seal: seal it first")
        entry = job_step(uow, caller, job, Action.RELEASE, {"seal_serial": job.seal_serial})
        uow.ledger.record([entry])
        uow.commit()
    return moved(job, entry)


def quarantine(
    uow_factory: UnitOfWorkFactory, caller: Caller, job_id: str, reason: str
) -> TriageJob:
    """A supervisor sets a device aside."""
    require_step(caller, Action.QUARANTINE)
    text = Reason.parse(reason).text
    with uow_factory(write=True) as uow:
        job = get_job(uow, job_id)
        entry = job_step(uow, caller, job, Action.QUARANTINE, {"reason": text})
        return record_and_reload(uow, [entry], lambda: uow.jobs.get(job.id))


def dispose(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    job_id: str,
    action: str,
    reference: str,
    destruction: Destruction | None = None,
    manufacturer: str | None = None,
) -> TriageJob:
    """A quarantined device is returned to its manufacturer (``reference``: the RMA; the
    manufacturer, by default the device's) or destroyed (``destruction``: the method, site,
    day and evidence, all required; see ``services.disposals``)."""
    choices = {"return": Action.RETURN_TO_MANUFACTURER, "destroy": Action.DESTROY}
    require_step(caller, *choices.values())
    if action not in choices:
        raise InvalidInput("action: must be 'return' (to the manufacturer) or 'destroy'")
    text = reference.strip()
    if not text or len(text) > 100:
        raise InvalidInput(
            "reference: give the returns authorisation or destruction certificate reference"
        )
    if action == "destroy" and destruction is None:
        raise InvalidInput(
            "method: a destruction records its method, site or contractor, day and photo or "
            "video evidence: use the destruction form (triage disposal destroy, or POST "
            "/api/v1/disposals/destructions)",
            field="method",
        )
    with uow_factory(write=True) as uow:
        job = get_job(uow, job_id)
        step(job.state, choices[action])  # a device not set aside is refused first
        found = uow.devices.get(job.device_id)
        data: dict[str, Any] = {"reference": text}
        if found is not None:
            data |= device_facts(
                found.manufacturer, found.model, int(found.type), found.asset_owner
            )
        if destruction is None:
            made_by = manufacturer if manufacturer is not None else data.get("manufacturer")
            data["manufacturer"] = check_line(made_by or "", "manufacturer", 200)
        else:
            destruction.check_day(local(uow.clock.now(), uow.settings.zone).date())
            role = ", ".join(
                sorted(r.value for r in roles_with(Permission.DEVICE_DISPOSE) if r in caller.roles)
            )
            method = uow.disposals.method(destruction.method)
            data |= destruction_data(destruction, method, role)
        entries = [job_step(uow, caller, job, choices[action], data)]
        if destruction is not None:
            # A destroyed device is no longer anywhere: it leaves the facility's custody.
            reason = f"destroyed ({destruction.method}) at {destruction.site}"
            entries.append(custody.left_entry(uow, caller, job.device_id, reason))
        return record_and_reload(uow, entries, lambda: uow.jobs.get(job.id))
