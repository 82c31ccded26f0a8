"""The provider, commissioning mode, the gate on triage work, and security assessments with
their findings, actions, outcomes and schedule, against the fake unit of work."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import assurance_seed as seed
from tests.unit.services.assurance_seed import FakeFileStore
from tests.unit.services.callers import (
    administrator,
    auditor,
    bench_operator,
    security_manager,
)
from triage.domain.assessment import Kind, Result, Severity
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.services import assessment, assurance

REASON = "Test devices for the first FUSA"


def _gate(factory: FakeUnitOfWorkFactory) -> str:
    with factory(write=False) as uow:
        return assessment.check_may_triage(uow)


def _until(factory: FakeUnitOfWorkFactory, days: int = 30) -> datetime:
    return factory.clock.now() + timedelta(days=days)


# -- the provider and commissioning ----------------------------------------------------------


def test_recording_the_provider_as_a_sec_party(factory: FakeUnitOfWorkFactory) -> None:
    party = assessment.record_party(
        factory, administrator(), " TFP-001 ", " Triage   Ltd ", ["Other SEC Party"] * 2
    )

    assert (party.party_id, party.name, party.roles) == (
        "TFP-001",
        "Triage Ltd",
        ("Other SEC Party",),
    )
    [entry] = factory.entries()
    assert (entry.type, entry.subject.kind, entry.subject.id) == (
        "provider.party_recorded",
        "sec_party",
        "TFP-001",
    )
    assert entry.data == {"party_id": "TFP-001", "name": "Triage Ltd", "roles": ["Other SEC Party"]}
    shown = assessment.status(factory, auditor()).party
    assert shown is not None
    assert (shown.party, shown.recorded_by, shown.recorded_at) == (
        party,
        "adm",
        factory.clock.now(),
    )


def test_recording_the_provider_again_corrects_it(factory: FakeUnitOfWorkFactory) -> None:
    seed.record_party(factory)
    assessment.record_party(factory, administrator(), "TFP-002", "Triage Two Ltd", ["Gas Supplier"])

    with factory(write=False) as uow:
        party = uow.assessments.party()
    assert party is not None
    assert (party.party_id, party.roles) == ("TFP-002", ("Gas Supplier",))


@pytest.mark.parametrize(
    ("party_id", "name", "roles", "message"),
    [
        ("?", "Triage Ltd", ["Gas Supplier"], "party_id:"),
        ("TFP-1", "T", ["Gas Supplier"], "name:"),
        ("TFP-1", "Triage Ltd", [], "roles: at least one"),
        ("TFP-1", "Triage Ltd", ["Chocolatier"], "Chocolatier not known"),
    ],
)
def test_a_sec_party_with_bad_details_is_refused(
    factory: FakeUnitOfWorkFactory, party_id: str, name: str, roles: list[str], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        assessment.record_party(factory, administrator(), party_id, name, roles)
    assert factory.entry_types() == []


def test_only_a_facility_manager_records_the_provider(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(PermissionDenied, match=r"facility\.manage"):
        assessment.record_party(
            factory, security_manager(), "TFP-1", "Triage Ltd", ["Gas Supplier"]
        )
    assert factory.entry_types() == []


def test_triage_is_refused_until_the_provider_is_a_recorded_sec_party(
    factory: FakeUnitOfWorkFactory,
) -> None:
    with pytest.raises(Conflict, match="not recorded as a SEC Party"):
        _gate(factory)
    seed.record_party(factory)
    with pytest.raises(Conflict, match=r"has not been approved yet.*commissioning mode"):
        _gate(factory)


def test_commissioning_mode_lets_an_unapproved_facility_triage_until_it_ends(
    factory: FakeUnitOfWorkFactory,
) -> None:
    seed.record_party(factory)
    until = _until(factory, 30)

    started = assessment.start_commissioning(factory, administrator(), until, REASON)

    assert (started.until, started.reason) == (until, REASON)
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject.kind, entry.subject.id) == (
        "facility.commissioning_started",
        "facility",
        factory.facility_id,
    )
    assert entry.data == {"until": "2026-12-31T09:00:00.000000Z", "reason": REASON}
    assert _gate(factory).startswith("commissioning mode until 2026-12-31")
    state = assessment.status(factory, auditor())
    assert state.commissioning is not None and state.commissioning.active
    assert state.may_triage is True

    factory.clock.advance(timedelta(days=30))
    with pytest.raises(Conflict, match="triage work is refused"):
        _gate(factory)
    state = assessment.status(factory, auditor())
    assert state.commissioning is not None and not state.commissioning.active
    assert state.may_triage is False


@pytest.mark.parametrize(
    ("until", "message"),
    [
        (datetime(2026, 12, 1, 8, 0, tzinfo=UTC), "must be in the future"),
        (datetime(2027, 3, 2, 9, 0, tzinfo=UTC), "at most 90 days"),
        (datetime(2026, 12, 20, 9, 0), "time zone"),
    ],
)
def test_commissioning_mode_needs_a_time_within_90_days(
    factory: FakeUnitOfWorkFactory, until: datetime, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        assessment.start_commissioning(factory, administrator(), until, REASON)
    with pytest.raises(InvalidInput):
        assessment.start_commissioning(factory, administrator(), _until(factory), "short")
    assert factory.entry_types() == []


def test_commissioning_mode_is_refused_to_an_approved_facility(
    factory: FakeUnitOfWorkFactory,
) -> None:
    seed.approved(factory)
    before = factory.entry_types()

    with pytest.raises(Conflict, match="the facility is approved"):
        assessment.start_commissioning(factory, administrator(), _until(factory), REASON)
    assert factory.entry_types() == before


def test_ending_commissioning_mode(factory: FakeUnitOfWorkFactory) -> None:
    seed.record_party(factory)
    with pytest.raises(Conflict, match="not in commissioning mode"):
        assessment.end_commissioning(factory, administrator(), "The first FUSA is over now")
    assessment.start_commissioning(factory, administrator(), _until(factory), REASON)
    with pytest.raises(PermissionDenied):
        assessment.end_commissioning(factory, auditor(), "An auditor may not end it")

    assessment.end_commissioning(factory, administrator(), "The first FUSA is over now")

    entry = factory.entries()[-1]
    assert (entry.type, entry.data) == (
        "facility.commissioning_ended",
        {"reason": "The first FUSA is over now"},
    )
    assert assessment.status(factory, auditor()).commissioning is None
    with pytest.raises(Conflict):
        _gate(factory)


def test_starting_commissioning_mode_needs_facility_manage(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(PermissionDenied):
        assessment.start_commissioning(factory, security_manager(), _until(factory), REASON)
    assert factory.entry_types() == []


# -- the standing, the status and the schedule -----------------------------------------------


def test_a_deferred_outcome_is_recorded_and_refuses_triage_with_its_reason(
    factory: FakeUnitOfWorkFactory,
) -> None:
    seed.record_party(factory)
    decided = seed.approved(factory, "deferred")

    assert decided.result is Result.DEFERRED
    entry = factory.entries()[-1]
    assert (entry.type, entry.data["result"]) == ("assessment.outcome_recorded", "deferred")
    with pytest.raises(Conflict, match=r"refused: the facility's last assessment was deferred"):
        _gate(factory)
    state = assessment.status(factory, auditor())
    assert (state.approval.approved, state.approval.result, state.may_triage) == (
        False,
        Result.DEFERRED,
        False,
    )
    assert "was deferred" in state.approval.why
    # Not approved, so commissioning mode may be switched on again (test devices only).
    assessment.start_commissioning(factory, administrator(), _until(factory), REASON)
    assert _gate(factory).startswith("commissioning mode until")


def test_a_deferred_outcome_has_no_additional_steps(factory: FakeUnitOfWorkFactory) -> None:
    seed.record_party(factory)
    with pytest.raises(InvalidInput, match="only an approval subject to additional steps"):
        seed.approved(factory, "deferred", [("Fit a lock to the seal store", "2026-12-20")])


def test_an_approval_with_steps_lapses_while_a_step_is_overdue(
    factory: FakeUnitOfWorkFactory,
) -> None:
    seed.record_party(factory)
    decided = seed.approved(
        factory, "approval_with_steps", [("Fit a lock to the seal store", "2026-12-05")]
    )
    [step] = decided.steps
    assert _gate(factory) == "approved subject to additional steps, none overdue"

    factory.clock.advance(timedelta(days=5))
    with factory(write=False) as uow:
        standing = assessment.standing(uow)
    assert (standing.last_result, [s.id for s in standing.steps]) == (
        Result.APPROVAL_WITH_STEPS,
        [step.id],
    )
    state = assessment.status(factory, auditor())
    assert state.approval.approved is False
    assert "Fit a lock to the seal store (due 2026-12-05)" in state.approval.why
    assert [(s.id, s.overdue) for s in state.approval.steps] == [(step.id, True)]
    assert state.may_triage is False

    assessment.complete_step(factory, administrator(), step.id)
    assert assessment.status(factory, auditor()).approval.approved is True


def test_the_status_lists_overdue_responses_and_actions(factory: FakeUnitOfWorkFactory) -> None:
    planned = seed.plan(factory, controls=["G1"])
    finding_id = seed.raise_finding(factory, planned.id)
    assessment.respond(
        factory, administrator(), finding_id, "We shall write the scope down.", "2026-12-03"
    )
    action = assessment.plan_action(
        factory, administrator(), finding_id, "Write the scope statement", "Dana", "2026-12-06"
    )
    assert assessment.status(factory, auditor()).overdue_findings == ()

    factory.clock.advance(timedelta(days=3))
    state = assessment.status(factory, auditor())

    assert [(f.finding_id, f.due) for f in state.overdue_findings] == [
        (finding_id, date(2026, 12, 3))
    ]
    assert state.overdue_actions == ()
    factory.clock.advance(timedelta(days=3))
    overdue = assessment.status(factory, auditor()).overdue_actions
    assert [(a.action_id, a.owner) for a in overdue] == [(action.id, "Dana")]


def test_the_status_is_for_readers_of_assurance_or_facility_managers(
    factory: FakeUnitOfWorkFactory,
) -> None:
    assert assessment.status(factory, administrator()).approval.approved is False
    with pytest.raises(PermissionDenied):
        assessment.status(factory, bench_operator())


def test_the_first_assessment_due_is_a_fusa_today(factory: FakeUnitOfWorkFactory) -> None:
    due = assessment.schedule(factory, auditor())

    assert (due.schedule.kind, due.schedule.due, due.schedule.overdue) == (
        Kind.FUSA,
        date(2026, 12, 1),
        False,
    )
    assert due.devices_last_12_months == 0
    with pytest.raises(PermissionDenied):
        assessment.schedule(factory, bench_operator())


def test_after_an_approval_a_self_assessment_is_due_unless_serious_findings_are_open(
    factory: FakeUnitOfWorkFactory,
) -> None:
    planned = seed.plan(factory, controls=["G1"])
    seed.raise_finding(factory, planned.id, severity="critical")
    assessment.record_fieldwork(factory, administrator(), planned.id, "2026-12-01", "2026-12-01")
    assessment.record_outcome(factory, administrator(), planned.id, "approval")

    due = assessment.schedule(factory, auditor()).schedule

    assert (due.kind, due.due) == (Kind.VUSA, date(2027, 12, 1))
    assert "findings of high or critical severity are still open" in due.reasons


# -- planning and fieldwork ------------------------------------------------------------------


def test_planning_an_assessment_covers_every_applicable_control_by_default(
    factory: FakeUnitOfWorkFactory,
) -> None:
    assurance.set_applicable(factory, administrator(), "TD.3", False, "No seals are kept here")

    planned = assessment.plan(
        factory, administrator(), " FUSA ", " Assessor   & Co ", "The whole facility", "2026-12-10"
    )

    every = [c.id for c in factory.packaged.catalogue().controls]
    assert planned.controls == tuple(c for c in every if c != "TD.3")
    assert (planned.kind, planned.assessor, planned.status) == (
        Kind.FUSA,
        "Assessor & Co",
        "planned",
    )
    assert planned.planned_at == date(2026, 12, 10)
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject.kind, entry.subject.id) == (
        "assessment.planned",
        "assessment",
        planned.id,
    )
    assert entry.data["controls"] == list(planned.controls)
    assert assessment.get(factory, auditor(), planned.id) == planned


def test_the_first_assessment_must_be_a_fusa_and_one_at_a_time(
    factory: FakeUnitOfWorkFactory,
) -> None:
    with pytest.raises(Conflict, match="the first assessment of a Triage Facility is a FUSA"):
        seed.plan(factory, kind="USSA")
    seed.plan(factory, controls=["G1"])
    with pytest.raises(Conflict, match="already in progress"):
        seed.plan(factory, controls=["G1"])
    assert factory.entry_types() == ["assessment.planned"]


@pytest.mark.parametrize(
    ("kind", "assessor", "planned_at", "controls", "error"),
    [
        ("ISO", "Assessor & Co", "2026-12-10", None, InvalidInput),
        ("FUSA", "A", "2026-12-10", None, InvalidInput),
        ("FUSA", "Assessor & Co", "10/12/2026", None, InvalidInput),
        ("FUSA", "Assessor & Co", "2026-12-10", ["G1", "Z9"], NotFound),
    ],
)
def test_an_assessment_with_bad_details_is_refused(
    factory: FakeUnitOfWorkFactory,
    kind: str,
    assessor: str,
    planned_at: str,
    controls: list[str] | None,
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        assessment.plan(
            factory, administrator(), kind, assessor, "The facility", planned_at, controls
        )
    assert factory.entry_types() == []


def test_planning_needs_the_assurance_manage_permission(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(PermissionDenied):
        assessment.plan(factory, auditor(), "FUSA", "Assessor", "The facility", "2026-12-10")
    assert factory.entry_types() == []


def test_recording_the_fieldwork(factory: FakeUnitOfWorkFactory) -> None:
    planned = seed.plan(factory, controls=["G1"])

    worked = assessment.record_fieldwork(
        factory, administrator(), planned.id, "2026-12-02", "2026-12-04"
    )

    assert (worked.status, worked.fieldwork_start, worked.fieldwork_end) == (
        "fieldwork",
        date(2026, 12, 2),
        date(2026, 12, 4),
    )
    assert factory.entries()[-1].data == {
        "assessment_id": planned.id,
        "start": "2026-12-02",
        "end": "2026-12-04",
    }
    with pytest.raises(InvalidInput, match="ends on or after its start"):
        assessment.record_fieldwork(
            factory, administrator(), planned.id, "2026-12-04", "2026-12-02"
        )
    with pytest.raises(NotFound, match="no assessment 'nope'"):
        assessment.record_fieldwork(factory, administrator(), "nope", "2026-12-02", "2026-12-04")
    with pytest.raises(PermissionDenied):
        assessment.record_fieldwork(factory, auditor(), planned.id, "2026-12-02", "2026-12-04")
    assert len(factory.entries()) == 2


def test_a_self_assessment_has_no_fieldwork_and_a_decided_one_is_closed(
    factory: FakeUnitOfWorkFactory,
) -> None:
    first = seed.approved(factory)
    with pytest.raises(Conflict, match="is decided"):
        assessment.record_fieldwork(factory, administrator(), first.id, "2026-12-02", "2026-12-03")
    ussa = seed.plan(factory, kind="USSA", controls=["G1"], planned_at="2027-11-01")
    with pytest.raises(Conflict, match="a USSA is a self-assessment"):
        assessment.record_fieldwork(factory, administrator(), ussa.id, "2027-11-01", "2027-11-01")

    decided = assessment.record_outcome(factory, administrator(), ussa.id, "approval")

    assert (decided.result, decided.status) == (Result.APPROVAL, "decided")


# -- evidence, findings and actions ----------------------------------------------------------


def test_evidence_attached_is_listed_with_its_ledger_index(factory: FakeUnitOfWorkFactory) -> None:
    store = FakeFileStore()
    first = seed.upload(factory, store, name="isms")
    planned = seed.plan(factory, controls=["G5.1"])
    factory.clock.advance(timedelta(minutes=1))
    second = seed.upload(factory, store, name="risk-assessment", content=b"risks")

    assessment.attach_evidence(factory, administrator(), planned.id, [second.id])
    attached = assessment.attach_evidence(
        factory, administrator(), planned.id, [first.id, second.id]
    )

    assert [(e.id, e.ledger_index) for e in attached.evidence] == [(first.id, 0), (second.id, 2)]
    assert factory.entries()[-1].data == {
        "assessment_id": planned.id,
        "evidence_ids": [second.id, first.id],
    }
    assert assessment.get(factory, auditor(), planned.id).evidence == attached.evidence


def test_attaching_unknown_or_no_evidence_is_refused(factory: FakeUnitOfWorkFactory) -> None:
    planned = seed.plan(factory, controls=["G1"])
    with pytest.raises(NotFound, match="no evidence nope"):
        assessment.attach_evidence(factory, administrator(), planned.id, ["nope"])
    with pytest.raises(InvalidInput, match="evidence_ids"):
        assessment.attach_evidence(factory, administrator(), planned.id, [])
    with pytest.raises(PermissionDenied):
        assessment.attach_evidence(factory, auditor(), planned.id, ["nope"])
    assert factory.entry_types() == ["assessment.planned"]


def test_a_finding_is_raised_against_an_assessed_control(factory: FakeUnitOfWorkFactory) -> None:
    planned = seed.plan(factory, controls=["G1", "G3.1"])

    found = assessment.raise_finding(
        factory, administrator(), planned.id, "G3.1", " medium ", "Incidents are not written down."
    )

    assert (found.control_id, found.severity, found.status) == ("G3.1", Severity.MEDIUM, "open")
    assert found.raised_at == factory.clock.now()
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject.id) == ("assessment.finding_raised", planned.id)
    assert entry.data["finding_id"] == found.id
    assert assessment.get(factory, auditor(), planned.id).findings == (found,)


def test_a_finding_on_a_control_not_assessed_or_with_bad_details_is_refused(
    factory: FakeUnitOfWorkFactory,
) -> None:
    planned = seed.plan(factory, controls=["G1"])
    text = "Something is not right here."
    with pytest.raises(InvalidInput, match="not among the assessed controls"):
        assessment.raise_finding(factory, administrator(), planned.id, "G3.1", "low", text)
    with pytest.raises(InvalidInput, match="severity"):
        assessment.raise_finding(factory, administrator(), planned.id, "G1", "dire", text)
    with pytest.raises(InvalidInput, match="description"):
        assessment.raise_finding(factory, administrator(), planned.id, "G1", "low", "Bad.")
    with pytest.raises(PermissionDenied):
        assessment.raise_finding(factory, auditor(), planned.id, "G1", "low", text)
    assert factory.entry_types() == ["assessment.planned"]


def test_responding_to_a_finding(factory: FakeUnitOfWorkFactory) -> None:
    planned = seed.plan(factory, controls=["G1"])
    finding_id = seed.raise_finding(factory, planned.id)

    answered = assessment.respond(
        factory, administrator(), finding_id, "We shall write it  down.", "2026-12-20"
    )

    assert (answered.response, answered.response_due, answered.responded_by) == (
        "We shall write it down.",
        date(2026, 12, 20),
        "adm",
    )
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject.id) == ("assessment.finding_responded", planned.id)
    with pytest.raises(InvalidInput, match="due"):
        assessment.respond(factory, administrator(), finding_id, "We shall write it down.", "soon")
    with pytest.raises(NotFound, match="no finding 'nope'"):
        assessment.respond(
            factory, administrator(), "nope", "We shall write it down.", "2026-12-20"
        )
    with pytest.raises(PermissionDenied):
        assessment.respond(factory, auditor(), finding_id, "We shall write it down.", "2026-12-20")
    assert factory.entry_types().count("assessment.finding_responded") == 1


def test_a_finding_closes_only_when_its_actions_are_done(factory: FakeUnitOfWorkFactory) -> None:
    planned = seed.plan(factory, controls=["G1"])
    finding_id = seed.raise_finding(factory, planned.id)
    action = assessment.plan_action(
        factory, administrator(), finding_id, "Write the scope statement", " Dana ", "2026-12-15"
    )
    assert (action.owner, action.due, action.status) == ("Dana", date(2026, 12, 15), "open")
    assert factory.entries()[-1].type == "assessment.action_planned"

    with pytest.raises(Conflict, match="remedial actions still open"):
        assessment.close_finding(factory, administrator(), finding_id, "The scope is written")
    done = assessment.complete_action(factory, administrator(), action.id)
    assert (done.status, done.done_at) == ("done", factory.clock.now())
    closed = assessment.close_finding(factory, administrator(), finding_id, "The scope is written")

    assert (closed.status, closed.closure) == ("closed", "The scope is written")
    assert factory.entry_types()[-2:] == ["assessment.action_done", "assessment.finding_closed"]
    whole = assessment.get(factory, auditor(), planned.id)
    assert (whole.findings, whole.actions) == ((closed,), (done,))


def test_a_closed_finding_takes_no_response_action_or_closing(
    factory: FakeUnitOfWorkFactory,
) -> None:
    planned = seed.plan(factory, controls=["G1"])
    finding_id = seed.raise_finding(factory, planned.id)
    assessment.close_finding(factory, administrator(), finding_id, "Not a finding after all")
    before = factory.entry_types()

    with pytest.raises(Conflict, match="is closed"):
        assessment.respond(
            factory, administrator(), finding_id, "Too late for this one.", "2027-01-01"
        )
    with pytest.raises(Conflict, match="is closed"):
        assessment.plan_action(
            factory, administrator(), finding_id, "Write the scope", "Dana", "2027-01-01"
        )
    with pytest.raises(Conflict, match="is closed"):
        assessment.close_finding(factory, administrator(), finding_id, "Closing it once more")
    assert factory.entry_types() == before


def test_an_action_needs_an_owner_and_is_done_once(factory: FakeUnitOfWorkFactory) -> None:
    planned = seed.plan(factory, controls=["G1"])
    finding_id = seed.raise_finding(factory, planned.id)
    with pytest.raises(InvalidInput, match="owner"):
        assessment.plan_action(
            factory, administrator(), finding_id, "Write the scope", "D", "2027-01-01"
        )
    with pytest.raises(PermissionDenied):
        assessment.plan_action(
            factory, auditor(), finding_id, "Write the scope", "Dana", "2027-01-01"
        )
    action = assessment.plan_action(
        factory, administrator(), finding_id, "Write the scope", "Dana", "2027-01-01"
    )
    assessment.complete_action(factory, administrator(), action.id)

    with pytest.raises(Conflict, match="already done"):
        assessment.complete_action(factory, administrator(), action.id)
    with pytest.raises(NotFound, match="no remedial action 'nope'"):
        assessment.complete_action(factory, administrator(), "nope")
    with pytest.raises(PermissionDenied):
        assessment.complete_action(factory, auditor(), action.id)
    with pytest.raises(PermissionDenied):
        assessment.close_finding(factory, auditor(), finding_id, "An auditor cannot close")
    assert factory.entry_types().count("assessment.action_done") == 1


# -- the outcome -----------------------------------------------------------------------------


def test_an_approval_with_steps_records_each_step(factory: FakeUnitOfWorkFactory) -> None:
    decided = seed.approved(
        factory,
        "approval_with_steps",
        [("Fit a lock to the seal store", "2027-01-15"), ("Train the new staff", "2027-01-10")],
    )

    assert (decided.result, decided.status, decided.decided_at) == (
        Result.APPROVAL_WITH_STEPS,
        "decided",
        factory.clock.now(),
    )
    assert [(s.description, s.due) for s in decided.steps] == [
        ("Train the new staff", date(2027, 1, 10)),
        ("Fit a lock to the seal store", date(2027, 1, 15)),
    ]
    entry = factory.entries()[-1]
    assert entry.type == "assessment.outcome_recorded"
    assert [s["description"] for s in entry.data["steps"]] == [
        "Fit a lock to the seal store",
        "Train the new staff",
    ]


@pytest.mark.parametrize(
    ("result", "steps", "message"),
    [
        ("approved", [], "result"),
        ("approval_with_steps", [], "names at least one"),
        ("approval", [("Fit a lock", "2027-01-15")], "only an approval subject"),
        ("approval_with_steps", [("Lock", "2027-01-15")], "steps.description"),
        ("approval_with_steps", [("Fit a lock", "next week")], "steps.due"),
    ],
)
def test_an_outcome_with_bad_details_is_refused(
    factory: FakeUnitOfWorkFactory, result: str, steps: list[tuple[str, str]], message: str
) -> None:
    planned = seed.plan(factory, controls=["G1"])
    assessment.record_fieldwork(factory, administrator(), planned.id, "2026-12-01", "2026-12-01")
    before = factory.entry_types()

    with pytest.raises(InvalidInput, match=message):
        assessment.record_outcome(factory, administrator(), planned.id, result, steps)
    assert factory.entry_types() == before


def test_an_outcome_needs_the_fieldwork_first_and_is_given_once(
    factory: FakeUnitOfWorkFactory,
) -> None:
    planned = seed.plan(factory, controls=["G1"])
    with pytest.raises(Conflict, match="record the assessor's fieldwork"):
        assessment.record_outcome(factory, administrator(), planned.id, "approval")
    with pytest.raises(PermissionDenied):
        assessment.record_outcome(factory, auditor(), planned.id, "approval")
    assessment.record_fieldwork(factory, administrator(), planned.id, "2026-12-01", "2026-12-01")
    assessment.record_outcome(factory, administrator(), planned.id, "rejection")

    with pytest.raises(Conflict, match="is decided \\(rejection\\)"):
        assessment.record_outcome(factory, administrator(), planned.id, "approval")
    assert factory.entry_types().count("assessment.outcome_recorded") == 1
    assert "ended in rejection" in assessment.status(factory, auditor()).approval.why


def test_a_step_is_done_once(factory: FakeUnitOfWorkFactory) -> None:
    decided = seed.approved(factory, "approval_with_steps", [("Fit a lock", "2027-01-15")])
    [step] = decided.steps

    done = assessment.complete_step(factory, administrator(), step.id)

    assert (done.id, done.done_at) == (step.id, factory.clock.now())
    entry = factory.entries()[-1]
    assert (entry.type, entry.subject.id, entry.data) == (
        "assessment.step_done",
        decided.id,
        {"step_id": step.id},
    )
    with pytest.raises(Conflict, match="already done"):
        assessment.complete_step(factory, administrator(), step.id)
    with pytest.raises(NotFound, match="no approval step 'nope'"):
        assessment.complete_step(factory, administrator(), "nope")
    with pytest.raises(PermissionDenied):
        assessment.complete_step(factory, auditor(), step.id)
    assert factory.entry_types().count("assessment.step_done") == 1


# -- reads -----------------------------------------------------------------------------------


def test_every_assessment_is_listed_by_planned_date(factory: FakeUnitOfWorkFactory) -> None:
    first = seed.approved(factory)
    second = seed.plan(factory, kind="VUSA", controls=["G1"], planned_at="2027-06-01")

    assert [a.id for a in assessment.list_all(factory, auditor())] == [first.id, second.id]
    assert assessment.get(factory, auditor(), second.id).kind is Kind.VUSA
    with pytest.raises(NotFound):
        assessment.get(factory, auditor(), "nope")
    with pytest.raises(PermissionDenied):
        assessment.get(factory, bench_operator(), first.id)
    with pytest.raises(PermissionDenied):
        assessment.list_all(factory, bench_operator())
