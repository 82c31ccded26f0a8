"""The provider, commissioning mode, the gate on triage work, and security assessments with
their findings, responses, remedial actions, outcomes and schedule.

Every step is a ledger entry. Triage work (opening a job, issuing a work order) asks ``gate``
first: the provider must be a recorded SEC Party and the facility approved (with no overdue
steps), or in commissioning mode.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

from triage.domain.assessment import (
    Commissioning,
    Kind,
    Past,
    Result,
    SecParty,
    Severity,
    Standing,
    Step,
    approval_state,
    check_commissioning,
    gate,
    next_due,
    parse_date,
    parse_enum,
)
from triage.domain.assurance_records import (
    Approval,
    ApprovalStep,
    Assessment,
    AssessmentSummary,
    AssuranceStatus,
    CommissioningState,
    Finding,
    NextAssessment,
    OverdueAction,
    OverdueFinding,
    RemedialAction,
    StepState,
)
from triage.domain.caller import Caller
from triage.domain.reason import Reason
from triage.domain.roles import Permission
from triage.errors import Conflict, InvalidInput, NotFound
from triage.ledger.entry import Ref, format_time
from triage.services import assurance
from triage.services.common import make_entry
from triage.services.ports import UnitOfWork, UnitOfWorkFactory


def _text(value: str, field: str, shortest: int, longest: int) -> str:
    cleaned = " ".join(value.split())
    if not shortest <= len(cleaned) <= longest:
        raise InvalidInput(f"{field}: {shortest}-{longest} characters")
    return cleaned


def _record(
    uow: UnitOfWork, caller: Caller, entry_type: str, subject: Ref, data: Mapping[str, object]
) -> None:
    uow.ledger.record([make_entry(uow, caller, entry_type, subject, dict(data))])


# -- the provider, commissioning and the gate ------------------------------------------------


def record_party(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    party_id: str,
    name: str,
    roles: Sequence[str],
) -> SecParty:
    """Record (or correct) the provider's SEC Party details (an administrator)."""
    caller.require(Permission.FACILITY_MANAGE)
    party = SecParty.checked(party_id, name, roles)
    with uow_factory(write=True) as uow:
        data = {"party_id": party.party_id, "name": party.name, "roles": list(party.roles)}
        _record(uow, caller, "provider.party_recorded", Ref("sec_party", party.party_id), data)
        uow.commit()
    return party


def start_commissioning(
    uow_factory: UnitOfWorkFactory, caller: Caller, until: datetime, reason: str
) -> Commissioning:
    """Let a facility not yet approved triage test devices until ``until`` (an administrator;
    at most 90 days; refused while the facility is approved)."""
    caller.require(Permission.FACILITY_MANAGE)
    at = uow_factory.clock.now()
    check_commissioning(until, at)
    text = Reason.parse(reason).text
    with uow_factory(write=True) as uow:
        approved, _ = approval_state(standing(uow), at.date())
        if approved:
            raise Conflict(
                "the facility is approved: commissioning mode is for before its first "
                "assessment (or after a rejection or deferral)"
            )
        data = {"until": format_time(until), "reason": text}
        _record(
            uow, caller, "facility.commissioning_started", Ref("facility", uow.facility_id), data
        )
        uow.commit()
    return Commissioning(until, text)


def end_commissioning(uow_factory: UnitOfWorkFactory, caller: Caller, reason: str) -> None:
    """Leave commissioning mode before its end."""
    caller.require(Permission.FACILITY_MANAGE)
    text = Reason.parse(reason).text
    with uow_factory(write=True) as uow:
        if uow.assessments.commissioning(uow.facility_id) is None:
            raise Conflict("the facility is not in commissioning mode")
        data = {"reason": text}
        _record(uow, caller, "facility.commissioning_ended", Ref("facility", uow.facility_id), data)
        uow.commit()


def standing(uow: UnitOfWork, summaries: Sequence[AssessmentSummary] | None = None) -> Standing:
    """The facility's standing: provider, last outcome and its steps, commissioning mode.

    Asked before every job opened and work order issued, so it reads the assessments' summaries
    and the last one's steps, not every assessment in full.
    """
    found = uow.assessments.summaries() if summaries is None else summaries
    decided = [s for s in found if s.result is not None and s.decided_at is not None]
    last = max(decided, key=lambda s: s.decided_at or datetime.min, default=None)
    steps: tuple[Step, ...] = ()
    result = None
    if last is not None:
        result = last.result
        steps = tuple(
            Step(s.id, s.description, s.due, s.done_at) for s in uow.assessments.steps(last.id)
        )
    return Standing(
        uow.assessments.party(),
        result,
        steps,
        uow.assessments.commissioning(uow.facility_id),
        uow.packaged.assessment_rules().outcomes,
    )


def check_may_triage(uow: UnitOfWork) -> str:
    """Within a unit of work that starts triage work: why it may, or Conflict."""
    return gate(standing(uow), uow.clock.now())


def status(uow_factory: UnitOfWorkFactory, caller: Caller) -> AssuranceStatus:
    """The provider, the approval, commissioning mode, whether triage may go ahead, and which
    assessment is due next and why."""
    caller.require(Permission.ASSURANCE_READ, Permission.FACILITY_MANAGE)
    at = uow_factory.clock.now()
    with uow_factory(write=False) as uow:
        summaries = uow.assessments.summaries()
        current = standing(uow, summaries)
        party = uow.assessments.party_record()
        due = _next(uow, at, summaries)
        everything = [uow.assessments.assessment(s.id) for s in summaries]
    approved, why = approval_state(current, at.date())
    try:
        may = True, gate(current, at)
    except Conflict as exc:
        may = False, str(exc)
    commissioning = current.commissioning
    known = [a for a in everything if a is not None]
    return AssuranceStatus(
        party=party,
        approval=Approval(
            approved,
            why,
            current.last_result,
            tuple(
                StepState(
                    s.id, s.description, s.due, s.done_at, s.done_at is None and s.due < at.date()
                )
                for s in current.steps
            ),
        ),
        commissioning=None
        if commissioning is None
        else CommissioningState(
            commissioning.until, commissioning.reason, commissioning.active(at)
        ),
        may_triage=may[0],
        may_triage_because=may[1],
        next_assessment=due,
        overdue_findings=_overdue_findings(known, at.date()),
        overdue_actions=_overdue_actions(known, at.date()),
    )


def _overdue_findings(everything: Sequence[Assessment], today: date) -> tuple[OverdueFinding, ...]:
    """Findings whose response date has passed while open."""
    return tuple(
        OverdueFinding(a.id, f.id, f.control_id, f.response_due)
        for a in everything
        for f in a.findings
        if f.is_open
        and f.response is not None
        and f.response_due is not None
        and f.response_due < today
    )


def _overdue_actions(everything: Sequence[Assessment], today: date) -> tuple[OverdueAction, ...]:
    """Remedial actions still open past their due date."""
    return tuple(
        OverdueAction(a.id, x.id, x.owner, x.due)
        for a in everything
        for x in a.actions
        if x.status == "open" and x.due < today
    )


def _next(
    uow: UnitOfWork, at: datetime, summaries: Sequence[AssessmentSummary] | None = None
) -> NextAssessment:
    found = uow.assessments.summaries() if summaries is None else summaries
    history = [
        Past(
            s.kind,
            s.result,
            s.planned_at,
            s.fieldwork_end,
            None if s.decided_at is None else s.decided_at.date(),
        )
        for s in found
    ]
    severities = [Severity(s) for s in uow.assessments.open_severities()]
    volume = uow.assessments.jobs_opened_since(at - timedelta(days=365))
    due = next_due(uow.packaged.assessment_rules(), history, severities, volume, at.date())
    return NextAssessment(due, volume)


def schedule(uow_factory: UnitOfWorkFactory, caller: Caller) -> NextAssessment:
    """Which assessment is due next, when, whether it is overdue, and why that type."""
    caller.require(Permission.ASSURANCE_READ)
    with uow_factory(write=False) as uow:
        return _next(uow, uow.clock.now())


# -- assessments -----------------------------------------------------------------------------


def _assessment(uow: UnitOfWork, assessment_id: str) -> Assessment:
    """The assessment with the ledger index of each piece of evidence attached."""
    found = uow.assessments.assessment(assessment_id)
    if found is None:
        raise NotFound(f"no assessment {assessment_id!r}")
    evidence = tuple(
        dataclasses.replace(
            e, ledger_index=next(iter(uow.ledger.indexes_for("evidence", e.id)), None)
        )
        for e in found.evidence
    )
    return dataclasses.replace(found, evidence=evidence)


def _undecided(uow: UnitOfWork, assessment_id: str) -> Assessment:
    found = _assessment(uow, assessment_id)
    if found.result is not None:
        raise Conflict(
            f"assessment {assessment_id} is decided ({found.result.value}); it is closed"
        )
    return found


def plan(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    kind: str,
    assessor: str,
    scope: str,
    planned_at: str,
    controls: Sequence[str] | None = None,
) -> Assessment:
    """Record an assessment to come: type, assessor, scope, date, controls (default: every
    applicable control)."""
    caller.require(Permission.ASSURANCE_MANAGE)
    chosen_kind = parse_enum(Kind, kind, "kind")
    who = _text(assessor, "assessor", 2, 200)
    what = _text(scope, "scope", 3, 2000)
    when = parse_date(planned_at, "planned_at")
    with uow_factory(write=True) as uow:
        found = uow.assessments.summaries()
        if any(a.result is None for a in found):
            raise Conflict("an assessment is already in progress: record its outcome first")
        if not found and chosen_kind is not Kind.FUSA:
            raise Conflict("the first assessment of a Triage Facility is a FUSA")
        listing = assurance.controls_in_force(uow)
        applicable = [c.control.id for c in listing if c.applicable]
        selected = list(dict.fromkeys(controls)) if controls else applicable
        unknown = [c for c in selected if c not in {x.control.id for x in listing}]
        if unknown:
            raise NotFound(f"no control {', '.join(unknown)}")
        assessment_id = str(uuid.uuid4())
        data = {
            "assessment_id": assessment_id,
            "kind": chosen_kind.value,
            "assessor": who,
            "scope": what,
            "planned_at": when.isoformat(),
            "controls": selected,
        }
        _record(uow, caller, "assessment.planned", Ref("assessment", assessment_id), data)
        result = _assessment(uow, assessment_id)
        uow.commit()
    return result


def record_fieldwork(
    uow_factory: UnitOfWorkFactory, caller: Caller, assessment_id: str, start: str, end: str
) -> Assessment:
    """When the assessor worked at the facility (FUSA and VUSA)."""
    caller.require(Permission.ASSURANCE_MANAGE)
    first, last = parse_date(start, "start"), parse_date(end, "end")
    if last < first:
        raise InvalidInput("end: the fieldwork ends on or after its start")
    with uow_factory(write=True) as uow:
        found = _undecided(uow, assessment_id)
        if not found.kind.has_fieldwork:
            raise Conflict("a USSA is a self-assessment: it has no assessor fieldwork")
        data = {"assessment_id": assessment_id, "start": first.isoformat(), "end": last.isoformat()}
        _record(
            uow, caller, "assessment.fieldwork_recorded", Ref("assessment", assessment_id), data
        )
        result = _assessment(uow, assessment_id)
        uow.commit()
    return result


def attach_evidence(
    uow_factory: UnitOfWorkFactory, caller: Caller, assessment_id: str, evidence_ids: Sequence[str]
) -> Assessment:
    """Put evidence in front of the assessor (the observations of the assessment results)."""
    caller.require(Permission.ASSURANCE_MANAGE)
    if not evidence_ids:
        raise InvalidInput("evidence_ids: at least one")
    with uow_factory(write=True) as uow:
        found = _undecided(uow, assessment_id)
        unknown = [e for e in evidence_ids if uow.assurance.evidence(e) is None]
        if unknown:
            raise NotFound(f"no evidence {', '.join(unknown)}")
        attached = [e.id for e in found.evidence]
        merged = list(dict.fromkeys([*attached, *evidence_ids]))
        data = {"assessment_id": assessment_id, "evidence_ids": merged}
        _record(uow, caller, "assessment.evidence_attached", Ref("assessment", assessment_id), data)
        result = _assessment(uow, assessment_id)
        uow.commit()
    return result


def raise_finding(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    assessment_id: str,
    control_id: str,
    severity: str,
    description: str,
) -> Finding:
    """Record a finding of the assessor against one of the assessed controls."""
    caller.require(Permission.ASSURANCE_MANAGE)
    level = parse_enum(Severity, severity, "severity")
    text = _text(description, "description", 10, 4000)
    with uow_factory(write=True) as uow:
        found = _undecided(uow, assessment_id)
        if control_id not in found.controls:
            raise InvalidInput(f"control_id: {control_id!r} is not among the assessed controls")
        finding_id = str(uuid.uuid4())
        data = {
            "assessment_id": assessment_id,
            "finding_id": finding_id,
            "control_id": control_id,
            "severity": level.value,
            "description": text,
        }
        _record(uow, caller, "assessment.finding_raised", Ref("assessment", assessment_id), data)
        result = uow.assessments.finding(finding_id)
        uow.commit()
    assert result is not None
    return result


def _finding(uow: UnitOfWork, finding_id: str) -> Finding:
    found = uow.assessments.finding(finding_id)
    if found is None:
        raise NotFound(f"no finding {finding_id!r}")
    return found


def _open_finding(uow: UnitOfWork, finding_id: str) -> Finding:
    found = _finding(uow, finding_id)
    if not found.is_open:
        raise Conflict(f"finding {finding_id} is closed")
    return found


def respond(
    uow_factory: UnitOfWorkFactory, caller: Caller, finding_id: str, text: str, due: str
) -> Finding:
    """The provider's response to a finding, with the date by which it will be remedied."""
    caller.require(Permission.ASSURANCE_MANAGE)
    answer = _text(text, "text", 10, 4000)
    by = parse_date(due, "due")
    with uow_factory(write=True) as uow:
        found = _open_finding(uow, finding_id)
        data = {"finding_id": finding_id, "text": answer, "due": by.isoformat()}
        _record(
            uow,
            caller,
            "assessment.finding_responded",
            Ref("assessment", found.assessment_id),
            data,
        )
        result = uow.assessments.finding(finding_id)
        uow.commit()
    assert result is not None
    return result


def plan_action(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    finding_id: str,
    description: str,
    owner: str,
    due: str,
) -> RemedialAction:
    """A remedial action for a finding, with an owner and a due date."""
    caller.require(Permission.ASSURANCE_MANAGE)
    text = _text(description, "description", 10, 2000)
    who = _text(owner, "owner", 2, 64)
    by = parse_date(due, "due")
    with uow_factory(write=True) as uow:
        found = _open_finding(uow, finding_id)
        action_id = str(uuid.uuid4())
        data = {
            "action_id": action_id,
            "finding_id": finding_id,
            "description": text,
            "owner": who,
            "due": by.isoformat(),
        }
        _record(
            uow,
            caller,
            "assessment.action_planned",
            Ref("assessment", found.assessment_id),
            data,
        )
        result = uow.assessments.action(action_id)
        uow.commit()
    assert result is not None
    return result


def complete_action(
    uow_factory: UnitOfWorkFactory, caller: Caller, action_id: str
) -> RemedialAction:
    caller.require(Permission.ASSURANCE_MANAGE)
    with uow_factory(write=True) as uow:
        found = uow.assessments.action(action_id)
        if found is None:
            raise NotFound(f"no remedial action {action_id!r}")
        if found.status == "done":
            raise Conflict(f"remedial action {action_id} is already done")
        owner = _finding(uow, found.finding_id)
        data = {"action_id": action_id}
        _record(uow, caller, "assessment.action_done", Ref("assessment", owner.assessment_id), data)
        result = uow.assessments.action(action_id)
        uow.commit()
    assert result is not None
    return result


def close_finding(
    uow_factory: UnitOfWorkFactory, caller: Caller, finding_id: str, reason: str
) -> Finding:
    """Close a finding once it is remedied (its actions done)."""
    caller.require(Permission.ASSURANCE_MANAGE)
    text = Reason.parse(reason).text
    with uow_factory(write=True) as uow:
        found = _open_finding(uow, finding_id)
        whole = _assessment(uow, found.assessment_id)
        open_actions = [
            a.id for a in whole.actions if a.finding_id == finding_id and a.status != "done"
        ]
        if open_actions:
            raise Conflict(
                f"finding {finding_id} has remedial actions still open: finish them first"
            )
        data = {"finding_id": finding_id, "reason": text}
        _record(
            uow,
            caller,
            "assessment.finding_closed",
            Ref("assessment", found.assessment_id),
            data,
        )
        result = uow.assessments.finding(finding_id)
        uow.commit()
    assert result is not None
    return result


def record_outcome(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    assessment_id: str,
    result: str,
    steps: Sequence[tuple[str, str]] = (),
) -> Assessment:
    """The assessment's outcome: approval, approval subject to steps (each with a due date),
    deferral or rejection (what each means for triage is in the assessment rules). A decided
    assessment does not change."""
    caller.require(Permission.ASSURANCE_MANAGE)
    chosen = parse_enum(Result, result, "result")
    cleaned = [
        (_text(d, "steps.description", 5, 2000), parse_date(due, "steps.due")) for d, due in steps
    ]
    if chosen is Result.APPROVAL_WITH_STEPS and not cleaned:
        raise InvalidInput("steps: an approval subject to additional steps names at least one")
    if chosen is not Result.APPROVAL_WITH_STEPS and cleaned:
        raise InvalidInput("steps: only an approval subject to additional steps has steps")
    with uow_factory(write=True) as uow:
        found = _undecided(uow, assessment_id)
        if found.kind.has_fieldwork and found.fieldwork_end is None:
            raise Conflict("record the assessor's fieldwork before the outcome")
        data = {
            "assessment_id": assessment_id,
            "result": chosen.value,
            "steps": [
                {"step_id": str(uuid.uuid4()), "description": d, "due": due.isoformat()}
                for d, due in cleaned
            ],
        }
        _record(uow, caller, "assessment.outcome_recorded", Ref("assessment", assessment_id), data)
        answer = _assessment(uow, assessment_id)
        uow.commit()
    return answer


def complete_step(uow_factory: UnitOfWorkFactory, caller: Caller, step_id: str) -> ApprovalStep:
    caller.require(Permission.ASSURANCE_MANAGE)
    with uow_factory(write=True) as uow:
        found = uow.assessments.step(step_id)
        if found is None:
            raise NotFound(f"no approval step {step_id!r}")
        if found.done_at is not None:
            raise Conflict(f"step {step_id} is already done")
        _record(
            uow,
            caller,
            "assessment.step_done",
            Ref("assessment", found.assessment_id),
            {"step_id": step_id},
        )
        result = uow.assessments.step(step_id)
        uow.commit()
    assert result is not None
    return result


def get(uow_factory: UnitOfWorkFactory, caller: Caller, assessment_id: str) -> Assessment:
    caller.require(Permission.ASSURANCE_READ)
    with uow_factory(write=False) as uow:
        return _assessment(uow, assessment_id)


def list_all(uow_factory: UnitOfWorkFactory, caller: Caller) -> list[Assessment]:
    """Every assessment, oldest first."""
    caller.require(Permission.ASSURANCE_READ)
    with uow_factory(write=False) as uow:
        return [_assessment(uow, a.id) for a in uow.assessments.summaries()]
