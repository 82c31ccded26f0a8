"""What the security office reads about people and tools: the access review with locks and
thresholds, and the tools with the open alerts."""

from __future__ import annotations

from dataclasses import dataclass

from triage.domain.alert import Alert
from triage.domain.caller import Caller
from triage.domain.credentials import AccessLock
from triage.domain.people import Operator
from triage.domain.roles import Permission
from triage.domain.thresholds import Scope
from triage.domain.tool import Tool
from triage.services import access_review, anomaly, auth
from triage.services.access_review import AccessReview
from triage.services.anomaly import SubjectLimit, ThresholdView
from triage.services.ports import UnitOfWorkFactory

# The security office's page lists at most this many open alerts.
ALERTS_SHOWN = 100


@dataclass(frozen=True)
class ToolsAndAlerts:
    """Every enrolled tool with the thresholds in force for it, and the alerts still open
    (oldest first)."""

    tools: list[Tool]
    alerts: list[Alert]
    limits: dict[str, list[SubjectLimit]]  # tool id -> the limit on each metric


def tools_and_alerts(uow_factory: UnitOfWorkFactory, caller: Caller) -> ToolsAndAlerts:
    """The tools with their status and thresholds, and the open alerts, for the security
    office."""
    caller.require(Permission.ALERT_READ)
    with uow_factory(write=False) as uow:
        tools = uow.security.tools()
        limits = anomaly.subject_limits(uow, Scope.TOOL, [t.id for t in tools])
    alerts, _ = anomaly.alerts(uow_factory, caller, "open", 0, ALERTS_SHOWN)
    return ToolsAndAlerts(tools, alerts, limits)


@dataclass(frozen=True)
class PeopleReview:
    """Who may do what, who is locked out, and the thresholds that raise alerts."""

    review: AccessReview
    locks: list[AccessLock]
    thresholds: ThresholdView


def people_review(uow_factory: UnitOfWorkFactory, caller: Caller) -> PeopleReview:
    """The access review, the locks and the thresholds in force (each needing its own
    permission, which the security manager holds)."""
    return PeopleReview(
        review=access_review.access_review(uow_factory, caller),
        thresholds=anomaly.thresholds(uow_factory, caller),
        locks=auth.locks(uow_factory, caller),
    )


@dataclass(frozen=True)
class Roster:
    """Every operator, and the benches each is assigned to."""

    operators: list[Operator]
    benches: dict[str, list[str]]  # operator id -> benches assigned


def roster(uow_factory: UnitOfWorkFactory, caller: Caller) -> Roster:
    """Operators, their roles and their benches (an administrator, or whoever reviews access)."""
    caller.require(Permission.OPERATOR_MANAGE, Permission.ACCESS_REVIEW)
    with uow_factory(write=False) as uow:
        return Roster(uow.operators.all(), uow.operators.bench_assignments())
