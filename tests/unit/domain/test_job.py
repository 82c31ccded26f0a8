"""Guards on a triage job: who may override a decision, and how many resets a device gets."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from triage.domain.job import (
    MIN_JUSTIFICATION,
    TriageJob,
    attempts_exhausted,
    check_override,
    check_retry,
)
from triage.domain.lifecycle import JobState
from triage.errors import IllegalTransition, InvalidInput, PermissionDenied

GOOD_REASON = "seal intact on re-inspection; alert was a known firmware false positive"


def _job(**changes: Any) -> TriageJob:
    job = TriageJob(
        id="job-1",
        device_id="BC-33-AC-FF-FE-FA-55-3D",
        consignment_id="cons-1",
        state=JobState.QUARANTINED,
        inspector_id="alice",
        outcome="quarantine",
        reset_attempts=0,
        seal_serial=None,
        opened_at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        closed_at=None,
    )
    return dataclasses.replace(job, **changes)


def test_another_supervisor_may_override_with_a_justification() -> None:
    assert check_override(_job(), "bob", GOOD_REASON) == GOOD_REASON


def test_the_inspector_cannot_override_their_own_inspection() -> None:
    with pytest.raises(PermissionDenied, match="alice inspected this device"):
        check_override(_job(), "alice", GOOD_REASON)


def test_separation_of_duties_is_checked_before_the_justification() -> None:
    # The inspector is told why they may not override, not to write a longer justification.
    with pytest.raises(PermissionDenied):
        check_override(_job(), "alice", "")


def test_justification_shorter_than_the_minimum_is_refused() -> None:
    with pytest.raises(InvalidInput, match=f"at least {MIN_JUSTIFICATION} characters"):
        check_override(_job(), "bob", "x" * (MIN_JUSTIFICATION - 1))


def test_justification_of_exactly_the_minimum_is_accepted() -> None:
    assert check_override(_job(), "bob", "x" * MIN_JUSTIFICATION) == "x" * MIN_JUSTIFICATION


def test_white_space_does_not_count_towards_the_justification() -> None:
    padded = "  short \n\n\t reason" + " " * 40
    with pytest.raises(InvalidInput, match="justification"):
        check_override(_job(), "bob", padded)


def test_justification_is_returned_with_white_space_collapsed() -> None:
    text = "  seal   intact\non re-inspection,\t\tfalse alert  "
    assert check_override(_job(), "bob", text) == "seal intact on re-inspection, false alert"


@pytest.mark.parametrize("attempts", [1, 2])
def test_no_override_after_a_reset_was_attempted(attempts: int) -> None:
    with pytest.raises(IllegalTransition, match="after a reset was attempted"):
        check_override(_job(reset_attempts=attempts), "bob", GOOD_REASON)


@pytest.mark.parametrize(("attempts", "limit"), [(0, 1), (0, 3), (1, 3), (2, 3)])
def test_retry_below_the_limit_numbers_the_next_attempt(attempts: int, limit: int) -> None:
    assert check_retry(_job(reset_attempts=attempts), limit) == attempts + 1


@pytest.mark.parametrize(("attempts", "limit"), [(1, 1), (3, 3), (4, 3), (0, 0)])
def test_retry_at_or_past_the_limit_is_refused(attempts: int, limit: int) -> None:
    with pytest.raises(IllegalTransition) as caught:
        check_retry(_job(reset_attempts=attempts), limit)
    message = str(caught.value)
    assert f"{attempts} reset attempts" in message
    assert f"the limit is {limit}" in message
    assert "quarantine" in message


@pytest.mark.parametrize(
    ("attempt", "limit", "exhausted"),
    [(1, 3, False), (2, 3, False), (3, 3, True), (4, 3, True), (1, 1, True)],
)
def test_attempts_exhausted_exactly_at_the_limit(attempt: int, limit: int, exhausted: bool) -> None:
    assert attempts_exhausted(attempt, limit) is exhausted


def test_retry_and_exhaustion_agree() -> None:
    # The attempt numbered by check_retry is the last one exactly when attempts_exhausted says so,
    # and after it check_retry refuses.
    limit = 3
    job = _job(reset_attempts=0)
    numbers = []
    while True:
        attempt = check_retry(job, limit)
        numbers.append(attempt)
        job = _job(reset_attempts=attempt)
        if attempts_exhausted(attempt, limit):
            break
    assert numbers == [1, 2, 3]
    with pytest.raises(IllegalTransition):
        check_retry(job, limit)
