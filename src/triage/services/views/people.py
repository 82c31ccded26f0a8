"""What the security office reads about people and tools: the access review with locks and
thresholds, and the tools with the open alerts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from triage.domain.alert import Alert
from triage.domain.caller import Caller
from triage.domain.credentials import AccessLock
from triage.domain.people import Operator, sought_id
from triage.domain.roles import Permission
from triage.domain.thresholds import Scope
from triage.domain.token import StoredToken
from triage.domain.tool import Tool
from triage.errors import NotFound
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
    locked: frozenset[str] = frozenset()  # the operators whose accounts are locked
    # The active asset owners a new person of one may act for (their ids).
    asset_owners: list[str] = field(default_factory=list)


def roster(uow_factory: UnitOfWorkFactory, caller: Caller) -> Roster:
    """Operators, their roles, their benches and which are locked (an administrator, or whoever
    reviews access)."""
    caller.require(Permission.OPERATOR_MANAGE, Permission.ACCESS_REVIEW)
    with uow_factory(write=False) as uow:
        locks = uow.credentials.locks()
        return Roster(
            uow.operators.all(),
            uow.operators.bench_assignments(),
            frozenset(k.subject_id for k in locks if k.subject_kind == "operator"),
            [o.id for o in uow.asset_owners.all() if o.active],
        )


@dataclass(frozen=True)
class Person:
    """One operator as whoever manages operators sees them: their account, benches, lock (None:
    not locked) and API tokens (never the secrets)."""

    operator: Operator
    benches: list[str]
    lock: AccessLock | None
    tokens: list[StoredToken]
    at: datetime  # when it was read: what each token's state is as of


def person(uow_factory: UnitOfWorkFactory, caller: Caller, operator_id: str) -> Person:
    """One operator's account, benches, lock and tokens (an administrator)."""
    caller.require(Permission.OPERATOR_MANAGE)
    with uow_factory(write=False) as uow:
        found = uow.operators.get(sought_id(operator_id))
        if found is None:
            raise NotFound(f"no operator {operator_id!r}")
        return Person(
            found,
            sorted(uow.operators.benches(operator_id)),
            uow.credentials.lock("operator", operator_id),
            uow.tokens.all(operator_id),
            uow.clock.now(),
        )
