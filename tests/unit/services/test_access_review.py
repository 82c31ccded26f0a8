"""The access review: who may do what with which credentials, and how misuse is watched."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import security_seed as seed
from tests.unit.services.callers import administrator, auditor, bench_operator, security_manager
from triage.domain.caller import Caller, Credential
from triage.domain.roles import Role
from triage.errors import PermissionDenied
from triage.services import access_review, anomaly, bench_assignment, tokens, tools


def _signed_in(operator_id: str, role: Role) -> Caller:
    """The operator after a sign-in with the second factor (what a token is minted from)."""
    return Caller.operator(operator_id, frozenset({role}), credential=Credential("session", "s1"))


def _staffed(factory: FakeUnitOfWorkFactory) -> None:
    seed.operator(factory, "op", Role.BENCH_OPERATOR)
    seed.operator(factory, "sto", Role.STORES)
    bench_assignment.assign_benches(factory, administrator(), "op", ["BENCH-1"], "works bench one")
    tokens.issue_token(factory, _signed_in("op", Role.BENCH_OPERATOR), "op", "tablet", days=1)
    tokens.issue_token(factory, _signed_in("sto", Role.STORES), "sto", "laptop", days=30)
    seed.tool(factory, "T1")
    seed.tool(factory, "T2")
    tools.suspend_tool(factory, administrator(), "T2", '=HYPERLINK("http://evil") sent odd results')
    anomaly.set_threshold(factory, security_manager(), "tool", "T1", "refused_commands", 0, 60)
    seed.refuse_result(factory, "T1")


def test_the_review_lists_people_live_tokens_tools_thresholds_and_open_alerts(
    factory: FakeUnitOfWorkFactory,
) -> None:
    _staffed(factory)
    factory.clock.advance(timedelta(days=2))  # the tablet's one-day token has expired
    before = len(factory.entries())

    review = access_review.access_review(factory, auditor())

    assert len(factory.entries()) == before  # a read records nothing
    assert (review.facility, review.generated_by) == ("unit", "aud")
    assert review.generated_at == factory.clock.now()
    assert [o.id for o in review.operators] == ["op", "sto"]
    assert review.benches == {"op": ["BENCH-1"]}
    assert [(t.operator_id, t.label) for t in review.tokens] == [("sto", "laptop")]
    assert [(t.id, t.status.value) for t in review.tools] == [
        ("T1", "suspended"),
        ("T2", "suspended"),
    ]
    assert review.thresholds.overrides[0].subject_id == "T1"
    assert [(a.metric, a.subject_id) for a in review.open_alerts] == [("refused_commands", "T1")]


def test_the_json_and_the_csv_say_the_same(factory: FakeUnitOfWorkFactory) -> None:
    _staffed(factory)
    review = access_review.access_review(factory, security_manager())

    document = json.loads(access_review.to_json(review))
    rows = list(csv.DictReader(io.StringIO(access_review.to_csv(review))))

    assert document == json.loads(json.dumps(access_review.to_dict(review)))
    assert [o["status"] for o in document["operators"]] == ["active", "active"]
    assert "verifier_key" not in document["tools"][0]  # never a key
    kinds = [r["kind"] for r in rows]
    assert kinds.count("operator") == 2 and kinds.count("token") == 2 and kinds.count("tool") == 2
    assert kinds.count("alert") == 1 and kinds.count("working_hours") == 1
    assert {r["id"] for r in rows if r["kind"] == "token"} == {t["id"] for t in document["tokens"]}
    hours = next(r for r in rows if r["kind"] == "working_hours")
    assert hours["detail"] == "always (no working hours set)"
    bench = next(r for r in rows if r["id"] == "op")
    assert (bench["bench"], bench["mfa_enrolled"]) == ("BENCH-1", "no")


def test_a_cell_a_spreadsheet_would_run_is_quoted(factory: FakeUnitOfWorkFactory) -> None:
    _staffed(factory)

    rows = list(
        csv.DictReader(
            io.StringIO(access_review.to_csv(access_review.access_review(factory, auditor())))
        )
    )

    suspended = next(r for r in rows if r["id"] == "T2")
    assert suspended["reason"].startswith("'=HYPERLINK(")


def test_only_reviewers_build_the_review(factory: FakeUnitOfWorkFactory) -> None:
    assert access_review.access_review(factory, administrator()).operators == []
    with pytest.raises(PermissionDenied):
        access_review.access_review(factory, bench_operator())
