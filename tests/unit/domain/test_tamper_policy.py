from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import triage.domain
from triage.adapters.packaged_data import PackagedFiles
from triage.domain.tamper_policy import (
    Alert,
    Cover,
    EvidenceError,
    LegitimateReason,
    LogSource,
    Outcome,
    PolicyError,
    SecurityLogUsed,
    SecuritySealState,
    TamperDecision,
    TamperEvidence,
    TamperPolicy,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DEFAULT = PackagedFiles().tamper_policy()
DEFAULT_TEXT = DEFAULT.source.decode()
WINDOW = timedelta(hours=72)

TAMPER_DETECT = 0x8F3F
BATTERY_COVER = 0x8F73
METER_COVER = 0x8F74
MAGNETIC = 0x8F75
TERMINAL_COVER = 0x8F76
SECOND_TERMINAL_COVER = 0x8F77
OTHER_ACCESS = 0x8F78
LOW_BATTERY = 0x8F1F
POWER_LOSS = 0x8F1D
BATTERY_RESET = 0x8F82


def evidence(**changes: Any) -> TamperEvidence:
    """Evidence from a clean inspection, with the given changes."""
    fields: dict[str, Any] = {"metrology_seal_intact": True, "cpa_boundary_intact": True}
    fields.update(changes)
    return TamperEvidence(**fields)


def job(*covers: Cover, alert_codes: frozenset[int] = frozenset()) -> LegitimateReason:
    return LegitimateReason("supplier_job", "J-100", frozenset(covers), alert_codes)


def rules(decision: TamperDecision) -> list[str]:
    return [reason.rule for reason in decision.reasons]


def edited(*replacements: tuple[str, str], text: str = DEFAULT_TEXT) -> bytes:
    """The default policy file with each (old, new) replaced exactly once."""
    for old, new in replacements:
        assert text.count(old) == 1, f"{old!r} should occur once in the policy"
        text = text.replace(old, new)
    return text.encode()


def line_of(text: str) -> int:
    """The line of the default policy file where ``text`` starts, counting from 1."""
    return DEFAULT_TEXT[: DEFAULT_TEXT.index(text)].count("\n") + 1


ID_LINE = line_of("id: tamper-default")
BATTERY_RESET_LINE = line_of('  "0x8F82"')


# The default policy


def test_default_policy_is_the_packaged_file() -> None:
    packaged = Path(triage.domain.__file__).parent / "policies" / "tamper-default.yaml"
    assert DEFAULT.source == packaged.read_bytes()
    assert DEFAULT.hash == hashlib.sha256(packaged.read_bytes()).hexdigest()
    assert (DEFAULT.id, DEFAULT.version) == ("tamper-default", "3")
    assert DEFAULT.explanation_window == WINDOW
    assert PackagedFiles().tamper_policy() is DEFAULT  # read and parsed once


def test_clean_inspection_is_eligible_with_no_tamper_evidence() -> None:
    decision = DEFAULT.decide(evidence(security_seal=SecuritySealState.intact))
    assert decision.outcome is Outcome.eligible
    assert [(r.rule, r.outcome, r.text) for r in decision.reasons] == [
        ("no-tamper-evidence", Outcome.eligible, "no tamper evidence")
    ]
    assert (decision.policy_id, decision.policy_version, decision.policy_hash) == (
        DEFAULT.id,
        DEFAULT.version,
        DEFAULT.hash,
    )


def test_battery_events_alone_are_not_tamper_evidence() -> None:
    alerts = (Alert(LOW_BATTERY, T0), Alert(POWER_LOSS, T0), Alert(BATTERY_RESET, T0))
    decision = DEFAULT.decide(evidence(alerts=alerts))
    assert decision.outcome is Outcome.eligible
    assert rules(decision) == ["no-tamper-evidence"]


@pytest.mark.parametrize(
    ("changes", "outcome", "rule", "text"),
    [
        (
            {"cpa_boundary_intact": False},
            Outcome.quarantine,
            "cpa-boundary-breached",
            "CPA tamper protection boundary breached: security hardware may be compromised",
        ),
        (
            {"metrology_seal_intact": False},
            Outcome.reverify_metrology,
            "metrology-seal-broken",
            "metrology (MID) seal broken",
        ),
        (
            {"security_seal": SecuritySealState.broken},
            Outcome.supervisor_review,
            "security-seal-broken",
            "security seal fitted at an earlier triage is broken",
        ),
        (
            {"outer_covers_opened": frozenset({Cover.terminal, Cover.comms_hub})},
            Outcome.supervisor_review,
            "unexplained-cover-opening",
            "no recorded legitimate reason: terminal cover, comms hub cover",
        ),
        (
            {"alerts": (Alert(TAMPER_DETECT, T0),)},
            Outcome.supervisor_review,
            "unexplained-tamper-alert",
            "no battery or power event within 72 hours: 0x8F3F tamper detect at "
            "2026-03-01T12:00:00Z",
        ),
        (
            {"other_findings": "  drill hole near the terminal block \n"},
            Outcome.supervisor_review,
            "other-findings",
            "inspection found something else: drill hole near the terminal block",
        ),
        (
            {
                "outer_covers_opened": frozenset({Cover.terminal}),
                "legitimate_reasons": (job(Cover.terminal),),
            },
            Outcome.eligible,
            "explained-cover-opening",
            "outer cover opened for a recorded legitimate reason: terminal cover by "
            "supplier_job J-100",
        ),
        (
            {"alerts": (Alert(BATTERY_COVER, T0), Alert(LOW_BATTERY, T0 - timedelta(hours=5)))},
            Outcome.eligible,
            "explained-tamper-alert",
            "tamper alert explained: 0x8F73 battery cover removed at 2026-03-01T12:00:00Z by "
            "0x8F1F low battery capacity at 2026-03-01T07:00:00Z",
        ),
        (
            {"alerts": (Alert(0xABCD, T0),)},
            Outcome.eligible,
            "unknown-alert",
            "recorded without assessment: unknown alert 0xABCD at 2026-03-01T12:00:00Z",
        ),
    ],
)
def test_each_rule_alone(changes: dict[str, Any], outcome: Outcome, rule: str, text: str) -> None:
    decision = DEFAULT.decide(evidence(**changes))
    assert decision.outcome is outcome
    assert rules(decision) == [rule]
    assert decision.reasons[0].outcome is outcome
    assert text in decision.reasons[0].text


@pytest.mark.parametrize(
    ("code", "name"),
    [
        (0x8F1B, "firmware verification failed"),
        (0x8F1C, "firmware verification failed"),
        (0x81A0, "integrity issue"),
        (0x8F52, "event log cleared"),
    ],
)
def test_integrity_alerts_quarantine(code: int, name: str) -> None:
    decision = DEFAULT.decide(evidence(alerts=(Alert(code, T0),)))
    assert decision.outcome is Outcome.quarantine
    assert rules(decision) == ["integrity-alert"]
    assert f"0x{code:04X} {name} at 2026-03-01T12:00:00Z" in decision.reasons[0].text


def test_a_recorded_reason_does_not_excuse_an_integrity_alert() -> None:
    decision = DEFAULT.decide(
        evidence(
            alerts=(Alert(0x8F52, T0),), legitimate_reasons=(job(alert_codes=frozenset({0x8F52})),)
        )
    )
    assert decision.outcome is Outcome.quarantine


def test_every_matching_rule_gives_a_reason_and_the_most_severe_wins() -> None:
    decision = DEFAULT.decide(
        evidence(
            metrology_seal_intact=False,
            cpa_boundary_intact=False,
            outer_covers_opened=frozenset({Cover.terminal, Cover.battery}),
            security_seal=SecuritySealState.broken,
            alerts=(
                Alert(0xABCD, T0),
                Alert(0x8F52, T0),
                Alert(MAGNETIC, T0),
                Alert(BATTERY_COVER, T0),
                Alert(LOW_BATTERY, T0 - timedelta(hours=1)),
            ),
            legitimate_reasons=(job(Cover.terminal),),
            other_findings="scratches",
        )
    )
    assert decision.outcome is Outcome.quarantine
    assert rules(decision) == [
        "cpa-boundary-breached",
        "integrity-alert",
        "metrology-seal-broken",
        "security-seal-broken",
        "unexplained-cover-opening",
        "unexplained-tamper-alert",
        "other-findings",
        "explained-cover-opening",
        "explained-tamper-alert",
        "unknown-alert",
    ]


@pytest.mark.parametrize(
    ("changes", "outcome", "expected_rules"),
    [
        (
            {"metrology_seal_intact": False, "security_seal": SecuritySealState.broken},
            Outcome.reverify_metrology,
            ["metrology-seal-broken", "security-seal-broken"],
        ),
        (
            {"metrology_seal_intact": False, "cpa_boundary_intact": False},
            Outcome.quarantine,
            ["cpa-boundary-breached", "metrology-seal-broken"],
        ),
        (
            {
                "security_seal": SecuritySealState.broken,
                "outer_covers_opened": frozenset({Cover.battery}),
                "legitimate_reasons": (job(Cover.battery),),
            },
            Outcome.supervisor_review,
            ["security-seal-broken", "explained-cover-opening"],
        ),
        (
            {"metrology_seal_intact": False, "alerts": (Alert(0x81A0, T0),)},
            Outcome.quarantine,
            ["integrity-alert", "metrology-seal-broken"],
        ),
    ],
)
def test_combinations(changes: dict[str, Any], outcome: Outcome, expected_rules: list[str]) -> None:
    decision = DEFAULT.decide(evidence(**changes))
    assert decision.outcome is outcome
    assert rules(decision) == expected_rules


def test_an_explained_opening_is_not_eligible_when_something_else_was_found() -> None:
    decision = DEFAULT.decide(
        evidence(
            outer_covers_opened=frozenset({Cover.terminal}),
            alerts=(Alert(TERMINAL_COVER, T0),),
            legitimate_reasons=(job(Cover.terminal),),
            other_findings="seal wire cut on the comms hub",
        )
    )
    assert decision.outcome is Outcome.supervisor_review
    assert rules(decision) == [
        "other-findings",
        "explained-cover-opening",
        "explained-tamper-alert",
    ]


def test_blank_other_findings_mean_nothing_else_was_found() -> None:
    decision = DEFAULT.decide(evidence(other_findings=" \n "))
    assert rules(decision) == ["no-tamper-evidence"]


# Explaining covers and tamper alerts


def test_a_job_explains_only_the_covers_it_names() -> None:
    decision = DEFAULT.decide(
        evidence(
            outer_covers_opened=frozenset({Cover.terminal, Cover.battery}),
            legitimate_reasons=(job(Cover.battery),),
        )
    )
    assert decision.outcome is Outcome.supervisor_review
    by_rule = {reason.rule: reason.text for reason in decision.reasons}
    assert by_rule["unexplained-cover-opening"].endswith(": terminal cover")
    assert by_rule["explained-cover-opening"].endswith(": battery cover by supplier_job J-100")


def test_a_battery_event_cannot_explain_a_cover_found_open() -> None:
    decision = DEFAULT.decide(
        evidence(
            outer_covers_opened=frozenset({Cover.battery}),
            alerts=(Alert(BATTERY_COVER, T0), Alert(LOW_BATTERY, T0)),
        )
    )
    assert decision.outcome is Outcome.supervisor_review
    assert rules(decision) == ["unexplained-cover-opening", "explained-tamper-alert"]


def test_several_reasons_for_one_cover_are_all_cited() -> None:
    other = LegitimateReason("network_operator_job", "N-7", frozenset({Cover.terminal}))
    decision = DEFAULT.decide(
        evidence(
            outer_covers_opened=frozenset({Cover.terminal}),
            legitimate_reasons=(job(Cover.terminal), other),
        )
    )
    assert decision.reasons[0].text.endswith(
        "terminal cover by supplier_job J-100 and network_operator_job N-7"
    )


@pytest.mark.parametrize("explaining", [LOW_BATTERY, POWER_LOSS, BATTERY_RESET])
@pytest.mark.parametrize(
    ("offset", "explained"),
    [
        (-WINDOW, True),
        (-WINDOW - timedelta(seconds=1), False),
        (WINDOW, True),
        (WINDOW + timedelta(seconds=1), False),
        (timedelta(0), True),
        (timedelta(hours=-1), True),
        (timedelta(hours=1), True),
    ],
)
def test_battery_events_explain_tamper_alerts_within_the_window_either_side(
    explaining: int, offset: timedelta, explained: bool
) -> None:
    decision = DEFAULT.decide(
        evidence(alerts=(Alert(BATTERY_COVER, T0), Alert(explaining, T0 + offset)))
    )
    if explained:
        assert decision.outcome is Outcome.eligible
        assert rules(decision) == ["explained-tamper-alert"]
    else:
        assert decision.outcome is Outcome.supervisor_review
        assert rules(decision) == ["unexplained-tamper-alert"]


def test_the_nearest_battery_event_is_cited() -> None:
    decision = DEFAULT.decide(
        evidence(
            alerts=(
                Alert(TAMPER_DETECT, T0),
                Alert(LOW_BATTERY, T0 - timedelta(hours=40)),
                Alert(BATTERY_RESET, T0 + timedelta(hours=2)),
            )
        )
    )
    assert decision.reasons[0].text.endswith(
        "by 0x8F82 battery capacity reset at 2026-03-01T14:00:00Z"
    )


def test_each_alert_needs_its_own_explanation() -> None:
    decision = DEFAULT.decide(
        evidence(
            alerts=(
                Alert(TAMPER_DETECT, T0),
                Alert(LOW_BATTERY, T0 + timedelta(hours=1)),
                Alert(METER_COVER, T0 + timedelta(days=10)),
            )
        )
    )
    assert decision.outcome is Outcome.supervisor_review
    by_rule = {reason.rule: reason.text for reason in decision.reasons}
    assert (
        "0x8F74 meter cover removed at 2026-03-11T12:00:00Z" in by_rule["unexplained-tamper-alert"]
    )
    assert "0x8F3F tamper detect" not in by_rule["unexplained-tamper-alert"]
    assert "0x8F3F tamper detect" in by_rule["explained-tamper-alert"]


@pytest.mark.parametrize(
    ("code", "cover"),
    [
        (BATTERY_COVER, Cover.battery),
        (METER_COVER, Cover.meter),
        (TERMINAL_COVER, Cover.terminal),
        (SECOND_TERMINAL_COVER, Cover.second_terminal),
        (OTHER_ACCESS, Cover.other),
    ],
)
def test_a_job_explains_a_cover_alert_only_for_its_own_cover(code: int, cover: Cover) -> None:
    explained = DEFAULT.decide(
        evidence(alerts=(Alert(code, T0),), legitimate_reasons=(job(cover),))
    )
    assert explained.outcome is Outcome.eligible
    assert explained.reasons[0].text.endswith("by supplier_job J-100")

    others = [other for other in Cover if other is not cover]
    unexplained = DEFAULT.decide(
        evidence(alerts=(Alert(code, T0),), legitimate_reasons=(job(*others),))
    )
    assert unexplained.outcome is Outcome.supervisor_review


def test_a_job_that_opened_any_cover_explains_a_generic_tamper_detect() -> None:
    decision = DEFAULT.decide(
        evidence(alerts=(Alert(TAMPER_DETECT, T0),), legitimate_reasons=(job(Cover.comms_hub),))
    )
    assert decision.outcome is Outcome.eligible


def test_a_job_may_name_an_alert_code_directly() -> None:
    decision = DEFAULT.decide(
        evidence(
            alerts=(Alert(SECOND_TERMINAL_COVER, T0),),
            legitimate_reasons=(job(alert_codes=frozenset({SECOND_TERMINAL_COVER})),),
        )
    )
    assert decision.outcome is Outcome.eligible


def test_battery_events_never_explain_a_strong_magnetic_field() -> None:
    alerts = (
        Alert(MAGNETIC, T0),
        Alert(LOW_BATTERY, T0),
        Alert(POWER_LOSS, T0 + timedelta(minutes=1)),
        Alert(BATTERY_RESET, T0 - timedelta(minutes=1)),
    )
    assert DEFAULT.decide(evidence(alerts=alerts)).outcome is Outcome.supervisor_review
    every_cover = job(*Cover)
    decision = DEFAULT.decide(evidence(alerts=alerts, legitimate_reasons=(every_cover,)))
    assert decision.outcome is Outcome.supervisor_review
    assert "0x8F75 strong magnetic field" in decision.reasons[0].text


def test_a_reason_naming_the_magnetic_alert_explains_it() -> None:
    test_rig = LegitimateReason("lab_test", "MAG-3", frozenset(), frozenset({MAGNETIC}))
    decision = DEFAULT.decide(
        evidence(alerts=(Alert(MAGNETIC, T0),), legitimate_reasons=(test_rig,))
    )
    assert decision.outcome is Outcome.eligible
    assert decision.reasons[0].text.endswith("by lab_test MAG-3")


def test_unknown_alert_codes_are_recorded_by_name() -> None:
    decision = DEFAULT.decide(
        evidence(alerts=(Alert(0x0001, T0 + timedelta(hours=1)), Alert(0xFFFF, T0)))
    )
    assert decision.outcome is Outcome.eligible
    assert decision.reasons[0].text.endswith(
        "unknown alert 0xFFFF at 2026-03-01T12:00:00Z; unknown alert 0x0001 at 2026-03-01T13:00:00Z"
    )


def test_alert_times_are_shown_in_utc_and_order_does_not_matter() -> None:
    plus_two = timezone(timedelta(hours=2))
    alerts = (Alert(TAMPER_DETECT, T0.astimezone(plus_two)), Alert(METER_COVER, T0 - WINDOW))
    first = DEFAULT.decide(evidence(alerts=alerts))
    second = DEFAULT.decide(evidence(alerts=alerts[::-1]))
    assert first == second
    assert first.reasons[0].text.endswith(
        "0x8F74 meter cover removed at 2026-02-26T12:00:00Z; "
        "0x8F3F tamper detect at 2026-03-01T12:00:00Z"
    )


def _walk(value: object) -> list[object]:
    if isinstance(value, dict):
        assert all(isinstance(key, str) for key in value)
        return [item for child in value.values() for item in _walk(child)]
    if isinstance(value, list):
        return [item for child in value for item in _walk(child)]
    return [value]


def test_decision_json_is_plain_data_for_the_ledger() -> None:
    decision = DEFAULT.decide(
        evidence(metrology_seal_intact=False, security_seal=SecuritySealState.broken)
    )
    data = decision.to_json()
    assert all(type(leaf) in (str, int, bool, type(None)) for leaf in _walk(data))
    assert json.loads(json.dumps(data)) == {
        "outcome": "reverify_metrology",
        "reasons": [
            {
                "rule": "metrology-seal-broken",
                "outcome": "reverify_metrology",
                "text": decision.reasons[0].text,
            },
            {
                "rule": "security-seal-broken",
                "outcome": "supervisor_review",
                "text": decision.reasons[1].text,
            },
        ],
        "policy_id": "tamper-default",
        "policy_version": "3",
        "policy_hash": DEFAULT.hash,
    }


# Evidence validation


@pytest.mark.parametrize(
    ("make", "field", "problem"),
    [
        (lambda: Alert(0x10000, T0), "alert.code", "not a 16-bit alert code"),
        (lambda: Alert(-1, T0), "alert.code", "not a 16-bit alert code"),
        (lambda: Alert(True, T0), "alert.code", "not a 16-bit alert code"),
        (lambda: Alert(TAMPER_DETECT, datetime(2026, 3, 1)), "alert.at", "timezone-aware"),
        (lambda: job(), "legitimate_reason", "names no cover and no alert code"),
        (
            lambda: LegitimateReason("Supplier Job", "J-1", frozenset({Cover.meter})),
            "legitimate_reason.kind",
            "lower-case word",
        ),
        (
            lambda: LegitimateReason("supplier_job", " ", frozenset({Cover.meter})),
            "legitimate_reason.reference",
            "non-empty",
        ),
        (
            lambda: LegitimateReason("supplier_job", "J-1", frozenset({"lid"})),  # type: ignore[arg-type]
            "legitimate_reason.covers",
            "'lid' is not one of terminal",
        ),
        (
            lambda: job(alert_codes=frozenset({0x1FFFF})),
            "legitimate_reason.alert_codes",
            "not a 16-bit alert code",
        ),
        (lambda: evidence(cpa_boundary_intact="no"), "cpa_boundary_intact", "true or false"),
        (lambda: evidence(metrology_seal_intact=None), "metrology_seal_intact", "true or false"),
        (
            lambda: evidence(outer_covers_opened="terminal"),
            "outer_covers_opened",
            "not a string",
        ),
        (
            lambda: evidence(outer_covers_opened=frozenset({"hatch"})),
            "outer_covers_opened",
            "'hatch' is not one of",
        ),
        (lambda: evidence(security_seal="cut"), "security_seal", "'cut' is not one of"),
        (lambda: evidence(alerts=(TAMPER_DETECT,)), "alerts[0]", "must be an Alert"),
        (lambda: evidence(legitimate_reasons=("J-1",)), "legitimate_reasons[0]", "must be"),
        (lambda: evidence(other_findings="x" * 2001), "other_findings", "at most 2000"),
    ],
)
def test_bad_evidence_is_refused_naming_the_field(make: Any, field: str, problem: str) -> None:
    with pytest.raises(EvidenceError) as caught:
        make()
    assert caught.value.field == field
    assert problem in str(caught.value)


def test_evidence_accepts_plain_strings_for_enumerations() -> None:
    found = evidence(outer_covers_opened={"terminal"}, security_seal="broken", alerts=[])
    assert found.outer_covers_opened == frozenset({Cover.terminal})
    assert found.security_seal is SecuritySealState.broken
    assert found.alerts == ()


# Loading and validating policies


_REMOVE_UNKNOWN_ALERT_RULE = (
    DEFAULT_TEXT[DEFAULT_TEXT.index("  # Security logs carry") :],
    "",
)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            edited(("when: other_findings", "when: other_finding")),
            "rules[6] (other-findings).when: unknown predicate 'other_finding'; known "
            "predicates: cpa_boundary_breached,",
        ),
        (
            edited(("outcome: reverify_metrology", "outcome: reverify")),
            "rules[2] (metrology-seal-broken).outcome: unknown outcome 'reverify'; expected one "
            "of eligible, quarantine, reverify_metrology, supervisor_review",
        ),
        (
            edited(("else: {findings}", "else: {finding}")),
            "rules[6] (other-findings).reason: unknown placeholder {finding} for predicate "
            "other_findings; it offers {findings}",
        ),
        (
            edited(
                ("broken: a supervisor must review", "broken: a supervisor must review {covers}")
            ),
            "unknown placeholder {covers} for predicate security_seal_broken; it offers none",
        ),
        (
            edited(("else: {findings}", "else: {findings.__class__}")),
            "placeholder {findings.__class__} must be a plain name",
        ),
        (edited(("else: {findings}", "else: {findings!r}")), "must be a plain name"),
        (edited(("else: {findings}", "else: {findings:>9}")), "must be a plain name"),
        (edited(("else: {findings}", "else: {}")), "placeholder {} must be a plain name"),
        (edited(("else: {findings}", "else: {findings")), "write a literal brace as {{ or }}"),
        (edited(("id: tamper-default\n", "")), "tamper policy id: is missing"),
        (edited(('version: "3"\n', "")), "tamper policy version: is missing"),
        (edited(('version: "3"', "version: 1.5")), "version: must be text of 1-32 characters"),
        (edited(("id: tamper-default", "id: Tamper Default")), "id: 'Tamper Default' must be"),
        (
            edited(
                (
                    DEFAULT_TEXT[
                        DEFAULT_TEXT.index("description:") : DEFAULT_TEXT.index("\n\n# Most")
                    ],
                    "description: ''",
                )
            ),
            "tamper policy description: must be non-empty text",
        ),
        (b"id: [unclosed", "tamper policy is not valid YAML: "),
        (b"- a\n- b\n", "tamper policy must be a YAML mapping"),
        (b"", "tamper policy must be a YAML mapping"),
        (
            edited(("id: tamper-default", "id: tamper-default\nid: other")),
            f"is not valid YAML: duplicate key 'id' at line {ID_LINE + 1}, column 1",
        ),
        (
            edited(('"0x8F82"', '"0x8F1F"')),
            f"is not valid YAML: duplicate key '0x8F1F' at line {BATTERY_RESET_LINE}, column 3",
        ),
        (b"a: b: c", "is not valid YAML: mapping values are not allowed here at line 1, column 5"),
        (
            edited(("explanation_window_hours:", "explanation_window_hour:")),
            "tamper policy explanation_window_hour: unknown key; expected one of alert_codes,",
        ),
        (
            edited(("explanation_window_hours: 72", "explanation_window_hours: 0")),
            "explanation_window_hours: 0 must be a whole number of hours from 1 to 8784",
        ),
        (
            edited(("explanation_window_hours: 72", "explanation_window_hours: 1.5")),
            "explanation_window_hours: 1.5 must be a whole number",
        ),
        (
            edited(("explanation_window_hours: 72", 'explanation_window_hours: "72"')),
            "explanation_window_hours: '72' must be a whole number",
        ),
        (
            edited(("supervisor_review, eligible]", "eligible, supervisor_review]")),
            "severity: must end with eligible",
        ),
        (
            edited((", supervisor_review, eligible]", ", eligible]")),
            "severity: must list each outcome once, most severe first",
        ),
        (
            edited(('class: integrity}\n  "0x8F52"', 'class: integrty}\n  "0x8F52"')),
            "alert_codes.0x81A0.class: 'integrty' is not one of tamper, explaining, integrity",
        ),
        (edited(('"0x8F82"', '"0xZZ"')), "alert_codes.0xZZ: is not a 16-bit alert code"),
        (edited(('"0x8F82"', '"0x18F82"')), "alert_codes.0x18F82: is not a 16-bit alert code"),
        (
            edited(('"0x8F82"', "36671")),
            "alert_codes.36671: 0x8F3F is listed twice",
        ),
        (
            edited(("covers: [battery], power_explains", "power_explains")),
            "alert_codes.0x8F73.covers: is missing",
        ),
        (
            edited(("covers: [battery]", "covers: [batt]")),
            "alert_codes.0x8F73.covers: must be a list drawn from terminal, second_terminal,",
        ),
        (
            edited(("covers: [meter], power_explains: true", "covers: [meter], power_explains: 1")),
            "alert_codes.0x8F74.power_explains: must be true or false",
        ),
        (
            edited(
                ('class: explaining}\n  "0x8F1D"', 'class: explaining, covers: []}\n  "0x8F1D"')
            ),
            "alert_codes.0x8F1F.covers: unknown key; expected one of class, name",
        ),
        (
            edited(("name: low battery capacity, ", "")),
            "alert_codes.0x8F1F.name: is missing",
        ),
        (
            edited(_REMOVE_UNKNOWN_ALERT_RULE),
            "tamper policy rules: no rule uses unknown_alert: a policy must say what every kind "
            "of evidence leads to",
        ),
        (
            edited(("id: explained-tamper-alert", "id: explained-cover-opening")),
            "rules[8].id: 'explained-cover-opening' is used by an earlier rule",
        ),
        (
            edited(("id: explained-tamper-alert", "id: no-tamper-evidence")),
            "rules[8].id: 'no-tamper-evidence' must be",
        ),
        (
            edited(
                (
                    '    outcome: supervisor_review\n    reason: "inspection',
                    '    outcomes: x\n    reason: "inspection',
                )
            ),
            "rules[6] (other-findings).outcomes: unknown key",
        ),
        (
            edited(("when: integrity_alert", "when: [integrity_alert]")),
            "rules[1] (integrity-alert).when: must be non-empty text",
        ),
        (
            edited((DEFAULT_TEXT[DEFAULT_TEXT.index("rules:") :], "rules: []\n")),
            "rules: must be a non-empty list of rules",
        ),
    ],
)
def test_bad_policies_are_refused_at_load_time(source: bytes, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        TamperPolicy.load(source)
    assert message in str(caught.value)


def test_an_oversized_policy_is_refused() -> None:
    with pytest.raises(PolicyError, match="is 300000 bytes; at most 262144 allowed"):
        TamperPolicy.load(b"#" * 300_000)


def test_the_hash_follows_the_file_bytes() -> None:
    commented = TamperPolicy.load(DEFAULT.source + b"\n# reviewed by the security manager\n")
    assert commented.hash != DEFAULT.hash
    assert commented.hash == hashlib.sha256(commented.source).hexdigest()
    assert commented != DEFAULT
    assert TamperPolicy.load(DEFAULT.source) == DEFAULT
    assert TamperPolicy.load(DEFAULT.source).hash == DEFAULT.hash
    decision = commented.decide(evidence(cpa_boundary_intact=False))
    assert decision.policy_hash == commented.hash


def test_a_custom_policy_changes_decisions_without_code() -> None:
    strict = TamperPolicy.load(
        edited(
            ("id: tamper-default", "id: strict-metrology"),
            ('version: "3"', 'version: "4"'),
            ("outcome: reverify_metrology", "outcome: quarantine"),
        )
    )
    broken_seal = evidence(metrology_seal_intact=False)
    assert DEFAULT.decide(broken_seal).outcome is Outcome.reverify_metrology
    decision = strict.decide(broken_seal)
    assert decision.outcome is Outcome.quarantine
    assert (decision.policy_id, decision.policy_version) == ("strict-metrology", "4")


def test_a_custom_window_changes_what_battery_events_explain() -> None:
    narrow = TamperPolicy.load(
        edited(("explanation_window_hours: 72", "explanation_window_hours: 1"))
    )
    found = evidence(alerts=(Alert(TAMPER_DETECT, T0), Alert(LOW_BATTERY, T0 - timedelta(hours=2))))
    assert DEFAULT.decide(found).outcome is Outcome.eligible
    decision = narrow.decide(found)
    assert decision.outcome is Outcome.supervisor_review
    assert "within 1 hours" in decision.reasons[0].text


def test_a_custom_alert_table_changes_what_battery_events_explain() -> None:
    lenient = TamperPolicy.load(
        edited(("covers: [], power_explains: false", "covers: [], power_explains: true"))
    )
    found = evidence(alerts=(Alert(MAGNETIC, T0), Alert(LOW_BATTERY, T0)))
    assert DEFAULT.decide(found).outcome is Outcome.supervisor_review
    assert lenient.decide(found).outcome is Outcome.eligible


def test_a_custom_severity_order_changes_which_outcome_wins() -> None:
    reordered = TamperPolicy.load(
        edited(
            (
                "[quarantine, reverify_metrology, supervisor_review, eligible]",
                "[quarantine, supervisor_review, reverify_metrology, eligible]",
            )
        )
    )
    found = evidence(metrology_seal_intact=False, security_seal=SecuritySealState.broken)
    assert DEFAULT.decide(found).outcome is Outcome.reverify_metrology
    assert reordered.decide(found).outcome is Outcome.supervisor_review


def test_a_minimal_policy_written_from_scratch() -> None:
    source = b"""
id: site-7
version: 3
description: everything to a supervisor
explanation_window_hours: 24
severity: [quarantine, reverify_metrology, supervisor_review, eligible]
alert_codes:
  0x8F3F: {name: tamper detect, class: tamper, covers: [], power_explains: false}
rules:
"""
    predicates = [
        "cpa_boundary_breached",
        "metrology_seal_broken",
        "security_seal_broken",
        "integrity_alert",
        "unexplained_cover_opening",
        "explained_cover_opening",
        "unexplained_tamper_alert",
        "explained_tamper_alert",
        "other_findings",
        "unknown_alert",
    ]
    for name in predicates:
        rule = f"{{id: {name}, when: {name}, outcome: supervisor_review, reason: {name}}}"
        source += f"  - {rule}\n".encode()
    policy = TamperPolicy.load(source)
    assert policy.version == "3"
    assert set(policy.alert_codes) == {TAMPER_DETECT}
    decision = policy.decide(evidence(alerts=(Alert(TAMPER_DETECT, T0), Alert(LOW_BATTERY, T0))))
    assert decision.outcome is Outcome.supervisor_review
    assert [(r.rule, r.text) for r in decision.reasons] == [
        ("unexplained_tamper_alert", "unexplained_tamper_alert"),
        ("unknown_alert", "unknown_alert"),
    ]


# The security log the alerts came from (issue 17)

TYPED = SecurityLogUsed(LogSource.TYPED, None, reason="log unreadable: optical port damaged")
READ = SecurityLogUsed(LogSource.TOOL, "ab" * 32, "ECS35b")


def test_a_typed_log_goes_to_a_supervisor_with_its_reason() -> None:
    decision = DEFAULT.decide(evidence(security_log=TYPED))
    assert decision.outcome is Outcome.supervisor_review
    assert [(r.rule, r.text) for r in decision.reasons] == [
        (
            "security-log-typed",
            "security log typed by hand, not read from the device (log unreadable: optical "
            "port damaged): a supervisor must review",
        )
    ]


def test_a_log_read_from_the_device_or_none_recorded_decides_as_before() -> None:
    for used in (READ, None):
        assert rules(DEFAULT.decide(evidence(security_log=used))) == ["no-tamper-evidence"]


def test_a_policy_written_before_typed_logs_still_loads_and_sends_a_typed_log_to_review() -> None:
    start = DEFAULT_TEXT.index("  - id: security-log-typed")
    end = DEFAULT_TEXT.index("  # Security logs carry many codes")
    older = TamperPolicy.load(edited((DEFAULT_TEXT[start:end], "")))
    assert "security_log_typed" not in [rule.when for rule in older.rules]

    decision = older.decide(evidence(security_log=TYPED))

    assert decision.outcome is Outcome.supervisor_review
    [reason] = decision.reasons
    assert reason.rule == "security-log-typed-unaddressed"
    assert "log unreadable: optical port damaged" in reason.text
    assert rules(older.decide(evidence(security_log=READ))) == ["no-tamper-evidence"]


def test_the_built_in_rule_id_for_typed_logs_is_reserved() -> None:
    with pytest.raises(PolicyError, match="security-log-typed-unaddressed"):
        TamperPolicy.load(
            edited(("id: security-log-typed\n", "id: security-log-typed-unaddressed\n"))
        )


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"source": LogSource.TYPED, "sha256": None, "reason": " "}, "typed_log.reason"),
        ({"source": LogSource.TYPED, "sha256": "ab" * 32, "reason": "x"}, "no digest"),
        ({"source": LogSource.TOOL, "sha256": None}, "security_log.sha256"),
        ({"source": LogSource.SUPPLIER, "sha256": "AB" * 32}, "64 lower-case hex"),
        ({"source": "fax", "sha256": None}, "security_log.source"),
    ],
)
def test_the_log_used_names_its_digest_or_why_it_was_typed(
    fields: dict[str, Any], problem: str
) -> None:
    with pytest.raises(EvidenceError, match=problem):
        SecurityLogUsed(**fields)


def test_a_job_with_a_date_explains_only_alerts_within_the_window_of_that_day() -> None:
    dated = LegitimateReason("supplier_job", "J-7", frozenset({Cover.terminal}), on=T0.date())
    # The day runs 2026-03-01T00:00Z to 03-02T00:00Z; the window reaches 72 hours past its end.
    near = Alert(TERMINAL_COVER, datetime(2026, 3, 4, 23, 59, tzinfo=UTC))
    far = Alert(TERMINAL_COVER, datetime(2026, 3, 5, 0, 0, tzinfo=UTC))

    explained = DEFAULT.decide(evidence(alerts=(near,), legitimate_reasons=(dated,)))
    unexplained = DEFAULT.decide(evidence(alerts=(far,), legitimate_reasons=(dated,)))

    assert explained.outcome is Outcome.eligible
    assert "by supplier_job J-7 on 2026-03-01" in explained.reasons[0].text
    assert rules(unexplained) == ["unexplained-tamper-alert"]
    # Without a date, a reason explains its alerts whenever they happened (as before).
    undated = LegitimateReason("supplier_job", "J-7", frozenset({Cover.terminal}))
    assert DEFAULT.decide(evidence(alerts=(far,), legitimate_reasons=(undated,))).outcome is (
        Outcome.eligible
    )


def test_a_legitimate_reasons_date_must_be_a_date() -> None:
    # A time is not a day: which day would it be in, UTC or the device's?
    with pytest.raises(EvidenceError, match=r"legitimate_reason\.on"):
        LegitimateReason("supplier_job", "J-7", frozenset({Cover.terminal}), on=T0)


# -- suspicious rules (issue 20: a suspicious quarantine is an incident) ----------------------


def test_the_default_policy_marks_its_tamper_evidence_rules_suspicious() -> None:
    marked = {rule.id for rule in DEFAULT.rules if rule.suspicious}
    assert marked == {
        "cpa-boundary-breached",
        "integrity-alert",
        "security-seal-broken",
        "unexplained-cover-opening",
        "unexplained-tamper-alert",
    }
    breached = DEFAULT.decide(evidence(cpa_boundary_intact=False))
    assert [r.rule for r in DEFAULT.suspicious(breached)] == ["cpa-boundary-breached"]
    # Not a quarantine: nothing suspicious to raise, whichever rules matched.
    opened = DEFAULT.decide(evidence(metrology_seal_intact=False))
    assert DEFAULT.suspicious(opened) == ()


def test_a_rule_left_unmarked_is_not_suspicious() -> None:
    unmarked = TamperPolicy.load(DEFAULT_TEXT.replace("    suspicious: true\n", "").encode())
    assert not any(rule.suspicious for rule in unmarked.rules)
    assert unmarked.suspicious(unmarked.decide(evidence(cpa_boundary_intact=False))) == ()


def test_a_suspicious_marker_that_is_not_true_or_false_is_refused() -> None:
    with pytest.raises(PolicyError, match=r"cpa-boundary-breached\)\.suspicious: must be true"):
        TamperPolicy.load(DEFAULT_TEXT.replace("suspicious: true", 'suspicious: "yes"').encode())
