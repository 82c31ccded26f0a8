"""What the dashboards show: each part of the home page only to who may see it, and the
administrator's facility page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.services import callers
from tests.unit.services.workflow_seed import (
    BREACHED,
    Bench,
    at_the_bench,
    inspected,
    issued_seal,
    received,
    verified,
)
from triage.errors import PermissionDenied
from triage.services import job_steps
from triage.services.views import dashboard


@pytest.fixture
def at_bench(factory: FakeUnitOfWorkFactory) -> Bench:
    """A bench with three devices: one sealed, one quarantined, one just received."""
    at = at_the_bench(factory)
    job_id = verified(factory, at, 1)
    job_steps.seal(factory, at.operator, job_id, issued_seal(factory, "op", "SL-000100"))
    inspected(factory, at, 2, BREACHED)
    received(factory, 3, reference="CN-3")
    factory.clock.advance(timedelta(minutes=1))  # the charts count up to (not at) now
    return at


def test_the_bench_sees_its_work_and_the_seal_count(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    shown = dashboard.dashboard(factory, at_bench.operator)

    assert shown.counts == {"received": 1, "quarantined": 1, "sealed": 1}
    assert sorted(shown.outcomes or []) == [("12-01 eligible", 1), ("12-01 quarantine", 1)]
    assert shown.benches == [("bench BENCH-1", 1)]
    assert shown.fitted == [("2026-12-01", 1)]
    assert len(shown.seal_sums) == 2
    # Alerts and the assessment schedule are not the bench's to see.
    assert (shown.open_alerts, shown.next_assessment) == (None, None)


def test_the_charts_look_back_two_weeks(factory: FakeUnitOfWorkFactory, at_bench: Bench) -> None:
    factory.clock.advance(dashboard.RECENT + timedelta(days=1))

    shown = dashboard.dashboard(factory, at_bench.operator)

    assert shown.counts == {"received": 1, "quarantined": 1, "sealed": 1}
    assert (shown.outcomes, shown.benches, shown.fitted) == ([], [], [])


def test_a_security_manager_also_sees_alerts_and_the_next_assessment(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    shown = dashboard.dashboard(factory, callers.security_manager())

    assert shown.open_alerts == 0
    assert shown.next_assessment is not None
    assert shown.counts["sealed"] == 1


def test_someone_with_no_role_sees_an_empty_home_page(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    assert dashboard.dashboard(factory, callers.nobody()) == dashboard.Dashboard()


def test_the_administrator_sees_the_standing_and_the_policy(
    factory: FakeUnitOfWorkFactory, at_bench: Bench
) -> None:
    overview = dashboard.facility_overview(factory, callers.administrator())

    assert overview.standing.may_triage is True
    assert overview.policy is not None
    assert overview.policy.policy_id == "tamper-default"


def test_before_any_inspection_no_policy_is_in_force(factory: FakeUnitOfWorkFactory) -> None:
    overview = dashboard.facility_overview(factory, callers.administrator())

    assert overview.policy is None


def test_the_facility_page_is_the_administrators(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(PermissionDenied):
        dashboard.facility_overview(factory, callers.supervisor())
