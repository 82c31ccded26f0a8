"""The anomaly thresholds' fake repository (uow.security): thresholds, working hours, counted
activity and alerts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from tests.unit.fake_tools import FakeToolRepository
from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
from triage.domain.alert import Alert
from triage.domain.thresholds import Limit, Metric, Scope, ThresholdSetting, WorkingHours
from triage.domain.tool import Tool
from triage.ledger.entry import Entry


@dataclass(frozen=True)
class Counted:
    """One row of the ``activity`` table: an event a threshold watches."""

    metric: Metric
    tool_id: str | None
    operator_id: str | None
    at: datetime


@area("security")
class FakeSecurityRepository(FakeTables):
    """``SecurityRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.settings: dict[tuple[str, str, str], ThresholdSetting] = {}
        self.hours: dict[str, WorkingHours | None] = {}
        self.activity: list[Counted] = []
        self.alerts_by_id: dict[str, Alert] = {}
        # What the real repository joins from the workflow tables: the devices each open
        # consignment expects (and whether they arrived), each job's consignment and device, and
        # each work order's tool and operator.
        self.expected: dict[tuple[str, str], bool] = {}
        self.job_arrivals: dict[str, tuple[str | None, str]] = {}
        self.order_subjects: dict[str, tuple[str | None, str | None]] = {}

    # -- reads ---------------------------------------------------------------------------------

    def thresholds(self) -> list[ThresholdSetting]:
        return [self.settings[key] for key in sorted(self.settings)]

    def working_hours(self) -> WorkingHours | None:
        # One facility per database: its settings are the only ones.
        return next(iter(self.hours.values()), None)

    def activity_totals(
        self, tool_id: str | None, operator_id: str | None
    ) -> dict[Scope, dict[Metric, int]]:
        totals: dict[Scope, dict[Metric, int]] = {}
        for row in self.activity:
            for scope, subject_id, whose in (
                (Scope.TOOL, tool_id, row.tool_id),
                (Scope.OPERATOR, operator_id, row.operator_id),
            ):
                if subject_id is not None and whose == subject_id:
                    counted = totals.setdefault(scope, {})
                    counted[row.metric] = counted.get(row.metric, 0) + 1
        return totals

    def count_activity(self, metric: Metric, scope: Scope, subject_id: str, since: datetime) -> int:
        def whose(row: Counted) -> str | None:
            return row.tool_id if scope is Scope.TOOL else row.operator_id

        return sum(
            1
            for row in self.activity
            if row.metric is metric and whose(row) == subject_id and row.at > since
        )

    def last_entry_at(
        self, subject_kind: str, subject_id: str, entry_types: Sequence[str]
    ) -> datetime | None:
        indexes = [
            s.index
            for s in self._database.subjects
            if (s.kind, s.id) == (subject_kind, subject_id) and s.entry_type in entry_types
        ]
        if not indexes:
            return None
        return Entry.from_bytes(self._database.storage.entries[max(indexes)]).at

    def arrived_as_expected(self, job_id: str) -> bool:
        consignment_id, device_id = self.job_arrivals.get(job_id, (None, ""))
        if consignment_id is None:
            return False
        return self.expected.get((consignment_id, device_id), False)

    def alert(self, alert_id: str) -> Alert | None:
        return self.alerts_by_id.get(alert_id)

    def alerts(self, status: str | None, offset: int, limit: int) -> tuple[list[Alert], int]:
        chosen = sorted(
            (a for a in self.alerts_by_id.values() if status is None or a.status == status),
            key=lambda a: (a.raised_at, a.id),
        )
        return chosen[offset : offset + limit], len(chosen)

    def tools(self) -> list[Tool]:
        # The tool table is the tools fake's (uow.tools), as the real one reads it.
        return self._database.repository("tools", FakeToolRepository).all_tools()

    # -- projections ---------------------------------------------------------------------------

    @projects("threshold.set")
    def _threshold_set(self, entry: Entry, index: int) -> None:
        data = entry.data
        self.settings[(data["scope"], data["subject_id"], data["metric"])] = ThresholdSetting(
            Scope(data["scope"]),
            data["subject_id"],
            Metric(data["metric"]),
            Limit(int(data["max_count"]), int(data["window_minutes"])),
        )

    @projects("facility.working_hours_set")
    def _working_hours_set(self, entry: Entry, index: int) -> None:
        # The real one updates the facility's settings row, which a real database always has;
        # a fake one may hold no facility, and the hours are kept all the same.
        hours = entry.data["working_hours"]
        self.hours[entry.subject.id] = None if hours is None else WorkingHours.from_json(hours)

    def _count(
        self, metric: Metric, tool_id: str | None, operator_id: str | None, entry: Entry
    ) -> None:
        self.activity.append(Counted(metric, tool_id, operator_id, entry.at))

    @projects("reset.authorised")
    def _reset_authorised(self, entry: Entry, index: int) -> None:
        data = entry.data
        self.order_subjects[data["work_order_id"]] = (data["tool_id"], data["operator_id"])
        self._count(Metric.RESETS, data["tool_id"], data["operator_id"], entry)

    @projects("tool.command_refused")
    def _command_refused(self, entry: Entry, index: int) -> None:
        # The agent refusing a work order speaks for its tool.
        self._count(Metric.REFUSED_COMMANDS, entry.actor.id, None, entry)

    @projects("tool.result_refused", "auth.refused")
    def _refused(self, entry: Entry, index: int) -> None:
        if entry.subject.kind == "tool":
            self._count(Metric.REFUSED_COMMANDS, entry.subject.id, None, entry)

    @projects("reset.verification_failed")
    def _verification_failed(self, entry: Entry, index: int) -> None:
        tool_id, operator_id = self.order_subjects.get(entry.data["work_order_id"], (None, None))
        self._count(Metric.FAILED_VERIFICATIONS, tool_id, operator_id, entry)

    @projects("anomaly.observed")
    def _observed(self, entry: Entry, index: int) -> None:
        data = entry.data
        self._count(Metric(data["metric"]), data.get("tool_id"), data.get("operator_id"), entry)

    @projects("consignment.device_expected")
    def _device_expected(self, entry: Entry, index: int) -> None:
        self.expected[(entry.data["consignment_id"], entry.subject.id)] = False

    @projects("device.received")
    def _device_received(self, entry: Entry, index: int) -> None:
        consignment_id = entry.data.get("consignment_id")
        self.job_arrivals[entry.data["job_id"]] = (consignment_id, entry.subject.id)
        if consignment_id and (consignment_id, entry.subject.id) in self.expected:
            self.expected[(consignment_id, entry.subject.id)] = True

    @projects("alert.raised")
    def _alert_raised(self, entry: Entry, index: int) -> None:
        data = entry.data
        detail = {key: data[key] for key in ("count", "max_count", "window_minutes", "action")}
        if "detail" in data:  # an alert that is not a threshold's says what happened
            detail["detail"] = data["detail"]
        self.alerts_by_id[data["alert_id"]] = Alert(
            id=data["alert_id"],
            metric=data["metric"],
            subject_kind=entry.subject.kind,
            subject_id=entry.subject.id,
            detail=detail,
            status="open",
            raised_at=entry.at,
        )

    @projects("alert.resolved")
    def _alert_resolved(self, entry: Entry, index: int) -> None:
        found = self.alerts_by_id.get(entry.data["alert_id"])
        if found is not None:
            self.alerts_by_id[found.id] = replace(
                found,
                status="resolved",
                resolved_by=entry.actor.id,
                resolution=entry.data["resolution"],
                resolved_at=entry.at,
            )
