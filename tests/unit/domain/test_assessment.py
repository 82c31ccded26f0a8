"""Security assessments of a Triage Facility: the SEC Party check, commissioning mode, the gate
that refuses triage work without a current approval, and the schedule that says which
assessment (FUSA, VUSA or USSA) is due next, when, and why."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.adapters.packaged_data import PackagedFiles
from triage.domain.assessment import (
    MAX_COMMISSIONING_DAYS,
    PARTY_ROLES,
    Commissioning,
    Kind,
    Outcome,
    Past,
    Result,
    SecParty,
    Severity,
    Standing,
    Step,
    add_months,
    approval_state,
    check_commissioning,
    gate,
    next_due,
    parse_rules,
)
from triage.errors import Conflict, InvalidInput
from triage.ledger.entry import format_time

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TODAY = T0.date()
PARTY = SecParty("SEC-PARTY-001", "Example Triage Ltd", ("Meter Asset Provider",))
RULES = PackagedFiles().assessment_rules()
# What each outcome means, for rules written by the tests.
OUTCOMES = """outcomes:
  approval: {approved: true, reason: approved}
  approval_with_steps: {approved: true, reason: approved with steps}
  deferred: {approved: false, reason: deferred for now}
  rejection: {approved: false, reason: rejected}
"""
FEW = settings(max_examples=150, deadline=None)


def standing(
    result: Result | None,
    *,
    party: SecParty | None = PARTY,
    steps: tuple[Step, ...] = (),
    commissioning: Commissioning | None = None,
) -> Standing:
    return Standing(party, result, steps, commissioning, RULES.outcomes)


def step(due: date, done_at: datetime | None = None, description: str = "fix CCTV") -> Step:
    return Step("step-1", description, due, done_at)


def past(
    kind: Kind,
    result: Result | None,
    decided_at: date | None,
    fieldwork_end: date | None = None,
    planned_at: date | None = None,
) -> Past:
    planned = planned_at or (decided_at or TODAY) - timedelta(days=30)
    if fieldwork_end is None and kind.has_fieldwork and decided_at is not None:
        fieldwork_end = decided_at - timedelta(days=7)
    return Past(kind, result, planned, fieldwork_end, decided_at)


# -- kinds -------------------------------------------------------------------------------------


def test_each_kind_has_its_long_name() -> None:
    assert Kind.FUSA.long_name == "Full User Security Assessment"
    assert Kind.VUSA.long_name == "Verification User Security Assessment"
    assert Kind.USSA.long_name == "User Security Self-Assessment"


def test_only_a_self_assessment_has_no_assessor_fieldwork() -> None:
    assert Kind.FUSA.has_fieldwork
    assert Kind.VUSA.has_fieldwork
    assert not Kind.USSA.has_fieldwork


# -- the SEC Party -----------------------------------------------------------------------------


def test_a_sec_party_is_recorded_tidied() -> None:
    party = SecParty.checked(
        "  SEC-PARTY-001 ", "  Example   Triage\tLtd ", ["Meter Asset Provider", "Gas Supplier"]
    )
    assert party == SecParty(
        "SEC-PARTY-001", "Example Triage Ltd", ("Meter Asset Provider", "Gas Supplier")
    )


def test_a_role_given_twice_is_recorded_once_in_first_order() -> None:
    party = SecParty.checked(
        "SP1", "Example Ltd", ["Gas Supplier", "Import Supplier", "Gas  Supplier", "Gas Supplier"]
    )
    assert party.roles == ("Gas Supplier", "Import Supplier")


def test_every_known_role_is_accepted() -> None:
    assert SecParty.checked("SP1", "Example Ltd", list(PARTY_ROLES)).roles == PARTY_ROLES


@pytest.mark.parametrize(
    "party_id", ["", "X", "-starts-with-dash", "has;semicolon", "a" * 65, " ", "ünï"]
)
def test_a_bad_party_id_is_refused(party_id: str) -> None:
    with pytest.raises(InvalidInput, match="party_id"):
        SecParty.checked(party_id, "Example Ltd", ["Gas Supplier"])


@pytest.mark.parametrize("name", ["", "A", "   ", " B  ", "x" * 201])
def test_a_too_short_or_too_long_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match="name"):
        SecParty.checked("SP1", name, ["Gas Supplier"])


def test_a_party_with_no_roles_is_refused() -> None:
    with pytest.raises(InvalidInput, match="roles: at least one"):
        SecParty.checked("SP1", "Example Ltd", [])


def test_an_unknown_role_is_refused_naming_it_and_the_known_ones() -> None:
    with pytest.raises(InvalidInput, match="Triage Wizard not known") as caught:
        SecParty.checked("SP1", "Example Ltd", ["Gas Supplier", "Triage Wizard"])
    assert "Meter Asset Provider" in str(caught.value)


# -- commissioning mode ------------------------------------------------------------------------


def test_commissioning_needs_a_time_with_a_zone() -> None:
    with pytest.raises(InvalidInput, match="time zone"):
        check_commissioning(datetime(2026, 3, 10, 12, 0), T0)


@pytest.mark.parametrize("before", [timedelta(0), timedelta(seconds=1), timedelta(days=3)])
def test_commissioning_must_end_in_the_future(before: timedelta) -> None:
    with pytest.raises(InvalidInput, match="future"):
        check_commissioning(T0 - before, T0)


def test_commissioning_lasts_at_most_the_limit() -> None:
    limit = T0 + timedelta(days=MAX_COMMISSIONING_DAYS)
    check_commissioning(limit, T0)
    check_commissioning(T0 + timedelta(seconds=1), T0)
    with pytest.raises(InvalidInput, match=f"at most {MAX_COMMISSIONING_DAYS} days"):
        check_commissioning(limit + timedelta(seconds=1), T0)


def test_commissioning_compares_instants_across_time_zones() -> None:
    paris = timezone(timedelta(hours=1))
    # 12:30 in Paris is 11:30 UTC: before T0, so in the past.
    with pytest.raises(InvalidInput, match="future"):
        check_commissioning(datetime(2026, 3, 1, 12, 30, tzinfo=paris), T0)


def test_commissioning_is_active_until_its_end_only() -> None:
    mode = Commissioning(T0 + timedelta(days=5), "first FUSA test devices")
    assert mode.active(T0)
    assert mode.active(mode.until - timedelta(microseconds=1))
    assert not mode.active(mode.until)
    assert not mode.active(mode.until + timedelta(days=1))


# -- approval and the gate ---------------------------------------------------------------------


def test_without_a_sec_party_triage_is_refused_naming_the_sec_party() -> None:
    with pytest.raises(Conflict, match="SEC Party") as caught:
        gate(standing(Result.APPROVAL, party=None), T0)
    assert "administrator records it" in str(caught.value)


def test_without_a_sec_party_even_commissioning_does_not_open_the_gate() -> None:
    mode = Commissioning(T0 + timedelta(days=10), "first FUSA")
    with pytest.raises(Conflict, match="SEC Party"):
        gate(standing(None, party=None, commissioning=mode), T0)


def test_a_facility_never_assessed_is_refused_and_told_about_commissioning() -> None:
    with pytest.raises(Conflict) as caught:
        gate(standing(None), T0)
    message = str(caught.value)
    assert "triage work is refused" in message
    assert "not been approved yet" in message
    assert "FUSA" in message
    assert "commissioning mode" in message


def test_commissioning_mode_lets_a_facility_not_yet_approved_triage() -> None:
    mode = Commissioning(T0 + timedelta(days=30), "test devices for the first FUSA")
    why = gate(standing(None, commissioning=mode), T0)
    assert why.startswith("commissioning mode until ")
    assert format_time(mode.until) in why


def test_once_commissioning_has_expired_triage_is_refused_again() -> None:
    mode = Commissioning(T0 + timedelta(days=30), "test devices for the first FUSA")
    assert gate(standing(None, commissioning=mode), mode.until - timedelta(seconds=1))
    with pytest.raises(Conflict, match="not been approved yet"):
        gate(standing(None, commissioning=mode), mode.until)
    with pytest.raises(Conflict, match="not been approved yet"):
        gate(standing(None, commissioning=mode), mode.until + timedelta(days=1))


def test_a_rejection_refuses_triage() -> None:
    with pytest.raises(Conflict, match="ended in rejection") as caught:
        gate(standing(Result.REJECTION), T0)
    assert "commissioning mode" in str(caught.value)


def test_an_approval_allows_triage() -> None:
    assert gate(standing(Result.APPROVAL), T0) == "approved"


def test_an_approval_with_steps_allows_triage_while_no_step_is_overdue() -> None:
    steps = (step(TODAY), step(TODAY + timedelta(days=30)))
    why = gate(standing(Result.APPROVAL_WITH_STEPS, steps=steps), T0)
    assert why == "approved subject to additional steps, none overdue"


def test_an_approval_with_an_overdue_step_refuses_triage_naming_the_step() -> None:
    late = step(TODAY - timedelta(days=1), description="replace the bench lock")
    with pytest.raises(Conflict, match="overdue") as caught:
        gate(standing(Result.APPROVAL_WITH_STEPS, steps=(late,)), T0)
    message = str(caught.value)
    assert "replace the bench lock" in message
    assert (TODAY - timedelta(days=1)).isoformat() in message
    assert "triage work is refused" in message


def test_a_step_done_late_never_counts_as_overdue() -> None:
    done = step(TODAY - timedelta(days=60), done_at=T0 - timedelta(days=1))
    assert gate(standing(Result.APPROVAL_WITH_STEPS, steps=(done,)), T0) == (
        "approved subject to additional steps, none overdue"
    )


def test_a_step_falls_overdue_the_day_after_it_is_due() -> None:
    due = TODAY + timedelta(days=3)
    current = standing(Result.APPROVAL_WITH_STEPS, steps=(step(due),))
    assert approval_state(current, due)[0]
    assert not approval_state(current, due + timedelta(days=1))[0]


def test_only_the_first_three_overdue_steps_are_named() -> None:
    steps = tuple(
        Step(f"s{i}", f"step number {i}", TODAY - timedelta(days=i + 1)) for i in range(5)
    )
    approved, why = approval_state(standing(Result.APPROVAL_WITH_STEPS, steps=steps), TODAY)
    assert not approved
    assert [f"step number {i}" in why for i in range(5)] == [True, True, True, False, False]


def test_approval_state_says_why() -> None:
    assert approval_state(standing(None), TODAY) == (
        False,
        "the facility has not been approved yet (it needs a FUSA)",
    )
    assert approval_state(standing(Result.REJECTION), TODAY) == (
        False,
        "the facility's last assessment ended in rejection",
    )
    assert approval_state(standing(Result.APPROVAL), TODAY) == (True, "approved")
    assert approval_state(standing(Result.DEFERRED), TODAY) == (
        False,
        "the facility's last assessment was deferred: there is no current approval until an "
        "assessment decides it",
    )


def test_the_gate_refuses_triage_after_a_deferred_outcome_with_its_reason() -> None:
    with pytest.raises(Conflict, match=r"refused: the facility's last assessment was deferred"):
        gate(standing(Result.DEFERRED), T0)
    mode = Commissioning(T0 + timedelta(days=10), "first FUSA re-run")
    assert gate(standing(Result.DEFERRED, commissioning=mode), T0).startswith("commissioning")


def test_what_an_outcome_means_is_read_from_the_rules() -> None:
    lenient = parse_rules(
        rules_yaml(
            OTHERWISE,
            outcomes=OUTCOMES.replace(
                "deferred: {approved: false, reason: deferred for now}",
                "deferred: {approved: true, reason: deferred yet approved}",
            ),
        )
    )
    current = Standing(PARTY, Result.DEFERRED, (), None, lenient.outcomes)
    assert approval_state(current, TODAY) == (True, "deferred yet approved")
    assert parse_rules(rules_yaml(OTHERWISE)).outcomes[Result.REJECTION] == Outcome(
        False, "rejected"
    )


def test_an_outcome_the_rules_do_not_explain_counts_as_no_approval() -> None:
    current = Standing(PARTY, Result.APPROVAL, (), None, {})
    approved, why = approval_state(current, TODAY)
    assert not approved
    assert "do not say what the outcome 'approval' means" in why


@pytest.mark.parametrize(
    ("outcomes", "message"),
    [
        ("", "outcomes: a mapping from each outcome"),
        ("outcomes: [approval]\n", "outcomes: a mapping from each outcome"),
        (
            "outcomes:\n  approval: {approved: true, reason: ok}\n",
            "say what approval_with_steps, deferred, rejection means",
        ),
        ("outcomes:\n  postponed: {approved: false, reason: x}\n", "outcomes: one of approval"),
        (
            OUTCOMES.replace("{approved: false, reason: deferred for now}", "{approved: no}"),
            "deferred needs 'approved' \\(true/false\\), 'reason'",
        ),
    ],
)
def test_outcomes_the_rules_do_not_explain_are_refused(outcomes: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_rules(rules_yaml(OTHERWISE, outcomes=outcomes))


def test_a_deferred_outcome_chooses_a_verification_next() -> None:
    fusa = past(Kind.FUSA, Result.DEFERRED, date(2026, 2, 1), fieldwork_end=date(2026, 1, 25))
    due = next_due(RULES, [fusa], [], 0, TODAY)
    assert due.kind is Kind.VUSA
    assert "the last assessment was deferred" in due.reasons[1]


# -- add_months --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2026, 1, 15), 0, date(2026, 1, 15)),
        (date(2026, 11, 30), 2, date(2027, 1, 30)),
        (date(2026, 12, 31), 1, date(2027, 1, 31)),
        (date(2026, 12, 1), 12, date(2027, 12, 1)),
        (date(2026, 1, 31), 25, date(2028, 2, 29)),
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_months_last(
    day: date, months: int, expected: date
) -> None:
    assert add_months(day, months) == expected


DAYS = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
MONTHS = st.integers(min_value=-600, max_value=600)


@FEW
@given(day=DAYS, months=MONTHS)
def test_add_months_lands_in_the_right_month_never_overflowing_it(day: date, months: int) -> None:
    moved = add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    last = calendar.monthrange(moved.year, moved.month)[1]
    assert moved.day == min(day.day, last)


@FEW
@given(day=DAYS, a=MONTHS, b=MONTHS)
def test_add_months_is_monotonic_in_months(day: date, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert add_months(day, low) <= add_months(day, high)


@FEW
@given(a=DAYS, b=DAYS, months=MONTHS)
def test_add_months_is_monotonic_in_the_day(a: date, b: date, months: int) -> None:
    early, late = sorted((a, b))
    assert add_months(early, months) <= add_months(late, months)


# -- the schedule with the default rules -------------------------------------------------------


def test_the_default_rules_load() -> None:
    assert RULES.version == "2026.12.1"
    assert (RULES.interval_months, RULES.ussa_within_months) == (12, 12)
    assert RULES.rules[-1].when == {}
    assert all(rule.reason for rule in RULES.rules)


def test_with_no_history_a_fusa_is_due_today() -> None:
    due = next_due(RULES, [], [], 0, TODAY)
    assert (due.kind, due.due, due.overdue) == (Kind.FUSA, TODAY, False)
    assert due.reasons == ["the first assessment of a Triage Facility is a FUSA"]


def test_undecided_assessments_are_not_history() -> None:
    planned = past(Kind.FUSA, None, None, fieldwork_end=TODAY - timedelta(days=2))
    due = next_due(RULES, [planned], [], 0, TODAY)
    assert (due.kind, due.due) == (Kind.FUSA, TODAY)


def test_a_newer_undecided_assessment_does_not_move_the_schedule() -> None:
    fusa = past(Kind.FUSA, Result.APPROVAL, date(2025, 9, 1))
    pending = Past(Kind.VUSA, None, date(2026, 2, 1), date(2026, 2, 20), None)
    assert next_due(RULES, [fusa, pending], [], 0, TODAY) == next_due(RULES, [fusa], [], 0, TODAY)


def test_after_an_approved_fusa_a_ussa_is_due_within_a_year_of_the_fieldwork() -> None:
    fusa = past(Kind.FUSA, Result.APPROVAL, date(2026, 1, 20), fieldwork_end=date(2025, 12, 10))
    due = next_due(RULES, [fusa], [], 1000, TODAY)
    assert due.kind is Kind.USSA
    assert due.due == date(2026, 12, 10)
    assert not due.overdue
    assert any("12 months of the assessor's last fieldwork (2025-12-10)" in r for r in due.reasons)
    assert any("self-assessment" in r for r in due.reasons)


def test_a_ussa_is_never_due_later_than_the_yearly_interval() -> None:
    # Fieldwork ended on the day of the decision: the interval and the USSA limit coincide.
    fusa = past(Kind.FUSA, Result.APPROVAL, date(2026, 1, 20), fieldwork_end=date(2026, 1, 20))
    due = next_due(RULES, [fusa], [], 0, TODAY)
    assert (due.kind, due.due) == (Kind.USSA, date(2027, 1, 20))
    assert due.reasons[0] == "one assessment a year: 12 months after the last"


def test_after_a_rejection_a_full_assessment_is_due_again() -> None:
    fusa = past(Kind.FUSA, Result.REJECTION, date(2026, 2, 1))
    due = next_due(RULES, [fusa], [Severity.CRITICAL], 90_000, TODAY)
    assert due.kind is Kind.FUSA
    assert due.due == date(2027, 2, 1)
    assert any("rejection" in r for r in due.reasons)


@pytest.mark.parametrize("severity", [Severity.HIGH, Severity.CRITICAL])
def test_an_open_serious_finding_calls_for_a_verification(severity: Severity) -> None:
    fusa = past(Kind.FUSA, Result.APPROVAL, date(2026, 2, 1))
    due = next_due(RULES, [fusa], [Severity.LOW, severity], 0, TODAY)
    assert due.kind is Kind.VUSA
    assert due.due == date(2027, 2, 1)
    assert any("high or critical" in r for r in due.reasons)


def test_open_low_and_medium_findings_still_allow_a_self_assessment() -> None:
    fusa = past(Kind.FUSA, Result.APPROVAL, date(2026, 2, 1))
    due = next_due(RULES, [fusa], [Severity.LOW, Severity.MEDIUM], 0, TODAY)
    assert due.kind is Kind.USSA


def test_an_approval_with_steps_calls_for_a_verification() -> None:
    fusa = past(Kind.FUSA, Result.APPROVAL_WITH_STEPS, date(2026, 2, 1))
    due = next_due(RULES, [fusa], [], 0, TODAY)
    assert due.kind is Kind.VUSA
    assert any("additional steps" in r for r in due.reasons)


def test_more_than_fifty_thousand_devices_call_for_a_verification() -> None:
    fusa = past(Kind.FUSA, Result.APPROVAL, date(2026, 2, 1))
    assert next_due(RULES, [fusa], [], 50_000, TODAY).kind is Kind.USSA
    due = next_due(RULES, [fusa], [], 50_001, TODAY)
    assert due.kind is Kind.VUSA
    assert any("50,000 devices" in r for r in due.reasons)


def test_with_no_assessor_fieldwork_on_record_a_verification_is_due() -> None:
    ussa = past(Kind.USSA, Result.APPROVAL, date(2026, 2, 1))
    due = next_due(RULES, [ussa], [], 0, TODAY)
    assert due.kind is Kind.VUSA
    assert due.due == date(2027, 2, 1)
    assert "no assessor fieldwork on record, so a self-assessment is not allowed" in due.reasons


def test_a_fusa_without_a_recorded_fieldwork_end_is_no_fieldwork() -> None:
    fusa = Past(Kind.FUSA, Result.APPROVAL, date(2026, 1, 1), None, date(2026, 2, 1))
    due = next_due(RULES, [fusa], [], 0, TODAY)
    assert due.kind is Kind.VUSA
    assert any("no assessor fieldwork" in r for r in due.reasons)


def test_when_the_last_fieldwork_is_over_a_year_old_a_verification_is_due() -> None:
    fusa = past(Kind.FUSA, Result.APPROVAL, date(2024, 12, 1), fieldwork_end=date(2024, 11, 1))
    ussa = past(Kind.USSA, Result.APPROVAL, date(2025, 11, 20))
    due = next_due(RULES, [ussa, fusa], [], 0, TODAY)
    assert due.kind is Kind.VUSA
    assert due.due == date(2026, 11, 20)
    assert any("last fieldwork ended 2024-11-01, more than 12 months ago" in r for r in due.reasons)


def test_the_latest_fieldwork_counts_whichever_assessment_it_came_from() -> None:
    fusa = past(Kind.FUSA, Result.APPROVAL, date(2024, 6, 1), fieldwork_end=date(2024, 5, 1))
    vusa = past(Kind.VUSA, Result.APPROVAL, date(2025, 6, 1), fieldwork_end=date(2025, 5, 1))
    due = next_due(RULES, [vusa, fusa], [], 0, TODAY)
    assert (due.kind, due.due) == (Kind.USSA, date(2026, 5, 1))


def test_the_latest_decision_is_the_last_assessment_whatever_the_order_given() -> None:
    rejected = past(Kind.FUSA, Result.REJECTION, date(2025, 3, 1))
    approved = past(Kind.FUSA, Result.APPROVAL, date(2025, 9, 1))
    for history in ([rejected, approved], [approved, rejected]):
        due = next_due(RULES, history, [], 0, TODAY)
        # The approved FUSA's fieldwork ended 2025-08-25: its USSA falls within a year of it.
        assert (due.kind, due.due) == (Kind.USSA, date(2026, 8, 25))


def test_an_assessment_due_before_today_is_overdue() -> None:
    fusa = past(Kind.FUSA, Result.APPROVAL_WITH_STEPS, date(2025, 2, 1))
    due = next_due(RULES, [fusa], [], 0, TODAY)
    assert due.due == date(2026, 2, 1)
    assert due.overdue
    assert not next_due(RULES, [fusa], [], 0, date(2026, 2, 1)).overdue


def test_a_due_assessment_is_plain_json() -> None:
    due = next_due(RULES, [], [], 0, TODAY)
    assert due.to_json() == {
        "kind": "FUSA",
        "title": "Full User Security Assessment",
        "due": "2026-03-01",
        "overdue": False,
        "reasons": ["the first assessment of a Triage Facility is a FUSA"],
    }


KINDS = st.sampled_from(list(Kind))
RESULTS = st.one_of(st.none(), st.sampled_from(list(Result)))
SCHEDULE_DAYS = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def histories(draw: st.DrawFn) -> list[Past]:
    items = []
    for _ in range(draw(st.integers(min_value=0, max_value=5))):
        kind = draw(KINDS)
        result = draw(RESULTS)
        planned = draw(SCHEDULE_DAYS)
        fieldwork = draw(st.one_of(st.none(), SCHEDULE_DAYS)) if kind.has_fieldwork else None
        decided = draw(st.one_of(st.none(), SCHEDULE_DAYS)) if result is not None else None
        items.append(Past(kind, result, planned, fieldwork, decided))
    return items


@FEW
@given(
    history=histories(),
    severities=st.lists(st.sampled_from(list(Severity)), max_size=3),
    volume=st.integers(min_value=0, max_value=100_000),
    today=SCHEDULE_DAYS,
)
def test_the_schedule_always_gives_reasons_and_keeps_its_rules(
    history: list[Past], severities: list[Severity], volume: int, today: date
) -> None:
    due = next_due(RULES, history, severities, volume, today)
    assert due.reasons
    assert all(isinstance(r, str) and r.strip() for r in due.reasons)
    assert due.overdue == (due.due < today)
    decided = [p for p in history if p.result is not None]
    if not decided:
        assert (due.kind, due.due) == (Kind.FUSA, today)
        return
    last = sorted(decided, key=lambda p: p.decided_at or p.planned_at)[-1]
    anchor = last.decided_at or last.planned_at
    assert due.due <= add_months(anchor, RULES.interval_months)
    assert (due.kind is Kind.FUSA) == (last.result is Result.REJECTION)
    if due.kind is Kind.USSA:
        fieldwork = [p.fieldwork_end for p in decided if p.kind.has_fieldwork and p.fieldwork_end]
        assert fieldwork
        limit = add_months(max(fieldwork), RULES.ussa_within_months)
        assert today <= limit
        assert due.due <= limit
        assert not any(s in (Severity.HIGH, Severity.CRITICAL) for s in severities)
        assert volume <= 50_000
        assert last.result is Result.APPROVAL


# -- the rules as data -------------------------------------------------------------------------

BUSY = ("{devices_triaged_last_12_months_over: 10}", "VUSA", "busy facility")
APPROVED = ("{last_outcome: approval}", "USSA", "approved, self-assess")
OTHERWISE = ("{}", "FUSA", "anything else")


def rules_yaml(*rules: tuple[str, str, str], head: str = "", outcomes: str = OUTCOMES) -> str:
    """Schedule rules as YAML: each rule is (when, kind, reason), in the order given, and what
    each outcome means for triage."""
    body = "".join(
        f"  - when: {when}\n    kind: {kind}\n    reason: {reason}\n"
        for when, kind, reason in rules
    )
    return head + "rules:\n" + body + outcomes


ORDERED = rules_yaml(
    BUSY, APPROVED, OTHERWISE, head="version: test-1\ninterval_months: 6\nussa_within_months: 9\n"
)


def test_rules_are_read_from_their_yaml() -> None:
    rules = parse_rules(ORDERED)
    assert (rules.version, rules.interval_months, rules.ussa_within_months) == ("test-1", 6, 9)
    assert [(r.when, r.kind, r.reason) for r in rules.rules] == [
        ({"devices_triaged_last_12_months_over": 10}, Kind.VUSA, "busy facility"),
        ({"last_outcome": "approval"}, Kind.USSA, "approved, self-assess"),
        ({}, Kind.FUSA, "anything else"),
    ]


def test_the_interval_defaults_to_a_year() -> None:
    rules = parse_rules(rules_yaml(OTHERWISE))
    assert (rules.interval_months, rules.ussa_within_months) == (12, 12)


def test_the_first_matching_rule_chooses_top_to_bottom() -> None:
    fusa = past(Kind.FUSA, Result.APPROVAL, date(2026, 2, 1), fieldwork_end=date(2026, 1, 25))
    rules = parse_rules(ORDERED)
    busy = next_due(rules, [fusa], [], 11, TODAY)
    assert busy.kind is Kind.VUSA
    assert busy.reasons == ["one assessment a year: 6 months after the last", "busy facility"]
    assert busy.due == date(2026, 8, 1)
    quiet = next_due(rules, [fusa], [], 10, TODAY)
    assert quiet.kind is Kind.USSA
    assert "approved, self-assess" in quiet.reasons
    assert quiet.due == date(2026, 8, 1)

    # The same rules the other way round: the approval now matches first, so even a busy
    # facility may self-assess.
    swapped = next_due(parse_rules(rules_yaml(APPROVED, BUSY, OTHERWISE)), [fusa], [], 11, TODAY)
    assert swapped.kind is Kind.USSA
    assert "busy facility" not in swapped.reasons
    # Neither matches a rejection, so the catch-all at the bottom decides.
    rejected = past(Kind.FUSA, Result.REJECTION, date(2026, 2, 1))
    assert next_due(rules, [rejected], [], 0, TODAY).kind is Kind.FUSA


def test_a_catch_all_rule_shadows_the_rules_below_it() -> None:
    text = """
rules:
  - when: {}
    kind: USSA
    reason: catch all
  - when: {}
    kind: FUSA
    reason: never reached
"""
    fusa = past(Kind.FUSA, Result.REJECTION, date(2026, 2, 1))
    due = next_due(parse_rules(text + OUTCOMES), [fusa], [], 0, TODAY)
    assert due.kind is Kind.USSA
    assert "never reached" not in due.reasons


@pytest.mark.parametrize(
    "text",
    [
        "just text",
        "- a\n- list\n",
        "version: 1\n",
        "rules: []\n",
        "rules: {when: {}}\n",
        "",
    ],
)
def test_rules_that_are_not_a_mapping_with_rules_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="a mapping with a non-empty 'rules' list"):
        parse_rules(text)


@pytest.mark.parametrize(
    "rule",
    ["- just text", "- when: always\n    kind: FUSA\n    reason: x", "- kind: FUSA\n    reason: x"],
)
def test_a_rule_that_is_not_a_mapping_with_when_is_refused(rule: str) -> None:
    text = "rules:\n  " + rule + "\n  - when: {}\n    kind: FUSA\n    reason: y\n"
    with pytest.raises(InvalidInput, match="rule 1: needs 'when'"):
        parse_rules(text)


def test_an_unknown_condition_is_refused_naming_the_rule() -> None:
    text = """
rules:
  - when: {last_outcome: approval, weather: sunny}
    kind: USSA
    reason: nice day
  - when: {}
    kind: FUSA
    reason: otherwise
"""
    with pytest.raises(InvalidInput, match="rule 1: unknown conditions weather"):
        parse_rules(text)


def test_an_unknown_kind_is_refused_naming_the_rule() -> None:
    text = "rules:\n  - when: {}\n    kind: XUSA\n    reason: x\n"
    with pytest.raises(InvalidInput, match="rule 1: kind: one of FUSA, VUSA, USSA"):
        parse_rules(text)


def test_a_last_rule_that_does_not_always_match_is_refused() -> None:
    text = "rules:\n  - when: {last_outcome: approval}\n    kind: USSA\n    reason: x\n"
    with pytest.raises(InvalidInput, match="last rule must match always"):
        parse_rules(text)


def test_a_rule_without_a_reason_is_refused_naming_the_rule() -> None:
    # Every due assessment says why; a rule with no reason cannot, so it is refused at load
    # time like a rule without 'when' (the message promises 'kind' and 'reason' too).
    text = "rules:\n  - when: {}\n    kind: USSA\n"
    with pytest.raises(InvalidInput, match="rule 1"):
        parse_rules(text)
