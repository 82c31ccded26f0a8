"""What the dashboards show: the home page of whoever signs in, and the facility's page of its
administrator."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

from triage.domain.assurance_records import AssuranceStatus, NextAssessment, PolicyInForce
from triage.domain.caller import Caller
from triage.domain.custody import LocationCount
from triage.domain.lifecycle import JobState
from triage.domain.roles import Permission
from triage.services import anomaly, assessment, seals
from triage.services.ports import UnitOfWorkFactory

# How far back the home page's charts look.
RECENT = timedelta(days=14)

# A chart: one (label, count) bar each.
Bars = list[tuple[str, int]]


@dataclass(frozen=True)
class Dashboard:
    """The home page: each part only for who may see it (None: not theirs to see)."""

    counts: dict[str, int] = field(default_factory=dict)  # devices by state, where any
    outcomes: Bars | None = None  # decisions per day and outcome
    benches: Bars | None = None  # verified resets per bench
    fitted: Bars | None = None  # seals fitted per day
    seal_sums: list[str] = field(default_factory=list)  # the first seal equations, in words
    open_alerts: int | None = None
    next_assessment: NextAssessment | None = None
    # Devices by location with how many are idle (not moved for ``idle_days``).
    custody: list[LocationCount] | None = None
    idle_days: int | None = None


def dashboard(uow_factory: UnitOfWorkFactory, caller: Caller) -> Dashboard:
    """The home page of a signed-in person: what their permissions let them see, as charts
    where looking beats reading."""
    shown = Dashboard()
    until = uow_factory.clock.now()
    since = until - RECENT
    if caller.can(Permission.TRIAGE_READ):
        with uow_factory(write=False) as uow:
            by_state = uow.jobs.count_by_state()
            # In the lifecycle's order, as the chart's bars go.
            counts = {
                state.value.replace("_", " "): by_state[state]
                for state in JobState
                if by_state.get(state)
            }
            outcomes = [
                (f"{r.day[5:]} {r.outcome.replace('_', ' ')}", r.count)
                for r in uow.assurance.outcomes_per_day(since)
            ]
            benches = [(f"bench {r.bench}", r.count) for r in uow.assurance.resets_per_bench(since)]
            idle_days = uow.facilities.custody_settings().idle_device_days
            by_location = uow.custody.counts(until - timedelta(days=idle_days), None)
        shown = replace(
            shown,
            counts=counts,
            outcomes=outcomes,
            benches=benches,
            custody=by_location,
            idle_days=idle_days,
        )
    if caller.can(Permission.SEAL_READ):
        per_day: dict[str, int] = {}
        for row in seals.fitted_report(uow_factory, caller, since, until).rows:
            per_day[row.day] = per_day.get(row.day, 0) + row.fitted
        equations = seals.running_count(uow_factory, caller).equations
        shown = replace(
            shown,
            fitted=sorted(per_day.items()),
            seal_sums=[e.statement() for e in equations[:2]],
        )
    if caller.can(Permission.ALERT_READ):
        _, open_alerts = anomaly.alerts(uow_factory, caller, "open", 0, 1)
        shown = replace(shown, open_alerts=open_alerts)
    if caller.can(Permission.ASSURANCE_READ):
        shown = replace(shown, next_assessment=assessment.schedule(uow_factory, caller))
    return shown


@dataclass(frozen=True)
class FacilityOverview:
    """The administrator's page: the facility's standing and the policy in force (its people
    are on the people pages: ``people.roster``)."""

    standing: AssuranceStatus
    policy: PolicyInForce | None


def facility_overview(uow_factory: UnitOfWorkFactory, caller: Caller) -> FacilityOverview:
    """The facility as its administrator manages it."""
    caller.require(Permission.FACILITY_MANAGE)
    standing = assessment.status(uow_factory, caller)
    with uow_factory(write=False) as uow:
        return FacilityOverview(
            standing=standing,
            policy=uow.assurance.policy_in_force(),
        )
