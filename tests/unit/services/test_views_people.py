"""What the security office and administrators read about people and tools."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers
from tests.unit.services.people_seed import (
    add_operator,
    assign,
    enrol_tool,
    lock_account,
    person,
)
from triage.domain.roles import Role
from triage.domain.tool import ToolStatus
from triage.errors import NotFound, PermissionDenied
from triage.services import tools
from triage.services.views import people


def test_the_roster_lists_operators_with_their_benches(factory: FakeUnitOfWorkFactory) -> None:
    add_operator(factory, "zoe", Role.SUPERVISOR)
    add_operator(factory, "amy")
    add_operator(factory, "kim", Role.AUDITOR)
    assign(factory, "zoe", "B2", "B1")
    assign(factory, "amy", "B3")

    roster = people.roster(factory, callers.administrator())

    assert [o.id for o in roster.operators] == ["amy", "kim", "zoe"]
    assert roster.benches == {"amy": ["B3"], "zoe": ["B1", "B2"]}
    assert people.roster(factory, callers.auditor()) == roster  # who reviews access


def test_the_roster_is_refused_to_who_neither_manages_nor_reviews(
    factory: FakeUnitOfWorkFactory,
) -> None:
    with pytest.raises(PermissionDenied):
        people.roster(factory, callers.supervisor())


def test_an_administrator_sees_one_person_with_benches_lock_and_tokens(
    factory: FakeUnitOfWorkFactory,
) -> None:
    person(factory, "bob")
    assign(factory, "bob", "B2", "B1")
    lock_account(factory, "bob")
    admin = callers.administrator()

    shown = people.person(factory, admin, "bob")

    assert (shown.operator.id, shown.benches) == ("bob", ["B1", "B2"])
    assert shown.lock is not None and shown.lock.subject_id == "bob"
    assert shown.tokens == []
    assert people.roster(factory, admin).locked == {"bob"}
    with pytest.raises(NotFound):
        people.person(factory, admin, "ghost")
    with pytest.raises(NotFound):
        people.person(factory, admin, "bad\x00id")
    with pytest.raises(PermissionDenied):
        people.person(factory, callers.auditor(), "bob")


def test_the_security_office_sees_every_tool_and_the_open_alerts(
    factory: FakeUnitOfWorkFactory,
) -> None:
    enrol_tool(factory, "T2", "B2")
    enrol_tool(factory, "T1", "B1")
    tools.suspend_tool(factory, callers.security_manager(), "T2", "its case was found open")

    shown = people.tools_and_alerts(factory, callers.security_manager())

    assert [(t.id, t.status) for t in shown.tools] == [
        ("T1", ToolStatus.ACTIVE),
        ("T2", ToolStatus.SUSPENDED),
    ]
    assert shown.alerts == []
    with pytest.raises(PermissionDenied):
        people.tools_and_alerts(factory, callers.administrator())


def test_the_people_review_shows_who_may_act_and_who_is_locked_out(
    factory: FakeUnitOfWorkFactory,
) -> None:
    person(factory, "bob")
    add_operator(factory, "amy", Role.STORES)
    assign(factory, "bob", "B1")
    lock_account(factory, "bob")

    shown = people.people_review(factory, callers.security_manager())

    assert [o.id for o in shown.review.operators] == ["amy", "bob"]
    assert shown.review.benches == {"bob": ["B1"]}
    assert [(lock.subject_kind, lock.subject_id) for lock in shown.locks] == [("operator", "bob")]
    assert shown.review.generated_by == "sec"
    assert shown.thresholds.facility  # the defaults in force
    assert [o.id for o in people.people_review(factory, callers.auditor()).review.operators] == [
        "amy",
        "bob",
    ]
    with pytest.raises(PermissionDenied):
        people.people_review(factory, callers.supervisor())
