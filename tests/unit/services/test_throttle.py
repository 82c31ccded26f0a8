"""In-memory rate limits on what unauthenticated callers may make the server do."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.fakes import START
from triage.services import throttle
from triage.services.throttle import Throttle, Throttles

MINUTE = timedelta(minutes=1)


def test_a_key_is_held_back_once_it_used_its_limit_until_the_window_passes() -> None:
    limit = Throttle(2, MINUTE)
    assert limit.retry_after("10.0.0.1", START) is None

    limit.add("10.0.0.1", START)
    assert limit.retry_after("10.0.0.1", START) is None
    limit.add("10.0.0.1", START + timedelta(seconds=20))

    assert limit.retry_after("10.0.0.1", START + timedelta(seconds=30)) == 30
    assert limit.retry_after("10.0.0.2", START + timedelta(seconds=30)) is None
    assert limit.retry_after("10.0.0.1", START + MINUTE) is None  # the first event expired


def test_retry_after_is_at_least_one_second() -> None:
    limit = Throttle(1, MINUTE)
    limit.add("k", START)

    assert limit.retry_after("k", START + MINUTE - timedelta(milliseconds=1)) == 1


def test_the_least_recently_seen_keys_are_forgotten_past_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(throttle, "MAX_KEYS", 2)
    limit = Throttle(1, MINUTE)
    limit.add("a", START)
    limit.add("b", START)
    limit.add("a", START)  # seen again: now the most recent

    limit.add("c", START)

    assert limit.retry_after("b", START) is None  # forgotten
    assert limit.retry_after("a", START) == 60
    assert limit.retry_after("c", START) == 60


def test_an_application_has_one_throttle_per_name() -> None:
    mine, theirs = Throttles(), Throttles()

    first = mine.named("agent", 5, MINUTE)

    assert mine.named("agent", 99, MINUTE) is first
    assert first.limit == 5
    assert mine.named("login", 5, MINUTE) is not first
    assert theirs.named("agent", 5, MINUTE) is not first


# -- several server processes (triage serve --workers) ---------------------------------------


@pytest.fixture
def shared_by_two() -> Iterator[None]:
    throttle.share_among(2)
    yield
    throttle.share_among(1)


@pytest.mark.usefixtures("shared_by_two")
def test_each_of_two_processes_allows_half_the_burst_so_together_no_more_than_one() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    limit = throttle.Throttles().named("agent-unverified", 5, timedelta(minutes=1))
    for n in range(3):  # 5 shared by 2, rounded up
        assert limit.retry_after("203.0.113.9", at) is None, n
        limit.add("203.0.113.9", at)
    assert limit.retry_after("203.0.113.9", at) is not None


def test_one_process_allows_the_whole_burst() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    limit = throttle.Throttles().named("agent-unverified", 5, timedelta(minutes=1))
    for _ in range(5):
        assert limit.retry_after("203.0.113.9", at) is None
        limit.add("203.0.113.9", at)
    assert limit.retry_after("203.0.113.9", at) is not None


def test_a_share_is_never_below_one() -> None:
    throttle.share_among(8)
    try:
        assert throttle.share_of(3) == 1
    finally:
        throttle.share_among(1)
    with pytest.raises(ValueError):
        throttle.share_among(0)
