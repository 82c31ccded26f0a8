"""The incident notification rules as data: the packaged default loads, every matching rule adds
its recipients (the shortest time wins), and rules that cannot be used are refused whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from triage.adapters.packaged_data import PackagedFiles
from triage.domain.incident import IncidentKind, IncidentRules, RulesError, Severity

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BASE = """
version: 1
recipients: {ssc: SSC, smki_pma: SMKI PMA}
categories: [key_compromise, other]
sources:
  tool_suspended: {severity: high, category: other}
  operator_suspended: null
  seal_discrepancy: null
  suspicious_quarantine: null
  checkpoint_refused: null
notifications:
"""


def test_the_default_rules_give_the_ssc_and_the_smki_pma_a_key_compromise() -> None:
    rules = PackagedFiles().incident_rules()
    required = rules.required(IncidentKind.INCIDENT, "key_compromise", Severity.HIGH, AT)
    assert {(r.recipient, r.deadline - AT) for r in required} == {
        ("ssc", timedelta(hours=24)),
        ("smki_pma", timedelta(hours=24)),
    }
    assert rules.required(IncidentKind.INCIDENT, "other", Severity.LOW, AT) == ()
    assert rules.for_source("checkpoint_refused") is not None


def test_every_matching_rule_applies_and_the_shortest_time_wins() -> None:
    rules = IncidentRules.load(
        BASE
        + "  - notify: {ssc: 48}\n"
        + "  - when: {severity: [high, critical], kind: incident}\n    notify: {ssc: 8}\n"
    )
    assert rules.within(IncidentKind.INCIDENT, "other", Severity.HIGH) == {"ssc": 8}
    assert rules.within(IncidentKind.VULNERABILITY, "other", Severity.HIGH) == {"ssc": 48}
    assert rules.for_source("operator_suspended") is None


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ("  - notify: {press: 4}", "'press' is not among the recipients"),
        ("  - notify: {ssc: 0}", "hours from 1"),
        ("  - when: {colour: red}\n    notify: {ssc: 4}", "`when` may name only"),
        ("  - when: {severity: dire}\n    notify: {ssc: 4}", "'dire' is not one of"),
        ("  - when: {category: gossip}\n    notify: {ssc: 4}", "'gossip' is not among"),
        ("  - when: {kind: rumour}\n    notify: {ssc: 4}", "'rumour' is not one of"),
    ],
)
def test_rules_that_cannot_be_used_are_refused(extra: str, says: str) -> None:
    with pytest.raises(RulesError, match=says):
        IncidentRules.load(BASE + extra)


def test_every_automatic_source_must_be_said_and_no_other() -> None:
    with pytest.raises(RulesError, match="say what checkpoint_refused raise"):
        IncidentRules.load(BASE.replace("  checkpoint_refused: null\n", ""))
    with pytest.raises(RulesError, match="'coffee' is not one of"):
        IncidentRules.load(BASE.replace("  checkpoint_refused: null\n", "  coffee: null\n"))
    with pytest.raises(RulesError, match=r"aliases \(\*name\) are not allowed"):
        IncidentRules.load("a: &x [1]\nb: *x\n")
