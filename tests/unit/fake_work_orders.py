"""The work orders' fake repository (uow.work_orders)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
from triage.domain.work_order import FACTORY_RESET, READ_SECURITY_LOG
from triage.domain.work_order_record import StoredWorkOrder
from triage.ledger.entry import Entry, parse_time


@area("work_orders")
class FakeWorkOrderRepository(FakeTables):
    """``WorkOrderRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.orders: dict[str, StoredWorkOrder] = {}

    # -- the port ------------------------------------------------------------------------------
    def get(self, work_order_id: str) -> StoredWorkOrder | None:
        return self.orders.get(work_order_id)

    def _live(self, now: datetime) -> list[StoredWorkOrder]:
        """Orders issued and not yet expired at ``now``, oldest first."""
        return sorted(
            (
                order
                for order in self.orders.values()
                if order.status == "issued" and order.expires_at > now
            ),
            key=lambda order: order.issued_at,
        )

    def issued(self, tool_id: str, now: datetime) -> list[StoredWorkOrder]:
        return [order for order in self._live(now) if order.tool_id == tool_id]

    def live(self, job_id: str, now: datetime) -> StoredWorkOrder | None:
        return next(
            (
                order
                for order in self._live(now)
                if order.job_id == job_id and order.action == FACTORY_RESET
            ),
            None,
        )

    def outstanding(
        self, *, tool_id: str | None = None, operator_id: str | None = None
    ) -> list[StoredWorkOrder]:
        return sorted(
            (
                order
                for order in self.orders.values()
                if order.status == "issued"
                and (
                    (tool_id is not None and order.tool_id == tool_id)
                    or (operator_id is not None and order.operator_id == operator_id)
                )
            ),
            key=lambda order: (order.issued_at, order.id),
        )

    def expired(self, before: datetime, limit: int) -> list[StoredWorkOrder]:
        expired = [
            order
            for order in self.orders.values()
            if order.action == FACTORY_RESET
            and order.status == "issued"
            and order.expires_at <= before
        ]
        return sorted(expired, key=lambda order: (order.expires_at, order.id))[:limit]

    # -- projections ---------------------------------------------------------------------------
    def _set_status(self, job_id: str, status: str, action: str | None = None) -> None:
        """Every order of the job (of ``action``, if given) still issued takes ``status``."""
        for order in list(self.orders.values()):
            if (
                order.job_id == job_id
                and order.status == "issued"
                and action in (None, order.action)
            ):
                self.orders[order.id] = dataclasses.replace(order, status=status)

    def _issue(self, entry: Entry, action: str) -> None:
        data = entry.data
        self.orders[data["work_order_id"]] = StoredWorkOrder(
            id=data["work_order_id"],
            job_id=data["job_id"],
            tool_id=data["tool_id"],
            device_id=entry.subject.id,
            operator_id=data["operator_id"],
            nonce=data["nonce"],
            profile=data["profile"],
            status="issued",
            issued_at=parse_time(data["issued_at"]),
            expires_at=parse_time(data["expires_at"]),
            signed=data["signed"],
            action=action,
        )

    @projects("reset.authorised")
    def _authorised(self, entry: Entry, index: int) -> None:
        self._set_status(entry.data["job_id"], "superseded")
        self._issue(entry, FACTORY_RESET)

    @projects("security_log.read_ordered")
    def _read_ordered(self, entry: Entry, index: int) -> None:
        self._set_status(entry.data["job_id"], "superseded", READ_SECURITY_LOG)
        self._issue(entry, READ_SECURITY_LOG)

    @projects("device.security_log_recorded")
    def _log_recorded(self, entry: Entry, index: int) -> None:
        order_id = entry.data["source"].get("work_order_id")
        if order_id in self.orders:
            self.orders[order_id] = dataclasses.replace(self.orders[order_id], status="completed")

    @projects("device.inspected")
    def _inspected(self, entry: Entry, index: int) -> None:
        self._set_status(entry.data["job_id"], "withdrawn", READ_SECURITY_LOG)

    @projects("reset.completed", "reset.failed")
    def _reset_result(self, entry: Entry, index: int) -> None:
        data = entry.data
        order = self.orders.get(data["work_order_id"])
        if order is not None:
            outcome = "completed" if entry.type == "reset.completed" else "failed"
            status = "expired" if data.get("expired") else outcome
            self.orders[order.id] = dataclasses.replace(order, status=status)

    @projects(
        "device.released",
        "device.quarantined",
        "device.returned_to_manufacturer",
        "device.returned_to_dcc",
        "device.destroyed",
    )
    def _job_moved(self, entry: Entry, index: int) -> None:
        # A device set aside or gone keeps no work order a tool could still carry out.
        self._set_status(entry.data["job_id"], "withdrawn")

    @projects("work_order.withdrawn")
    def _withdrawn(self, entry: Entry, index: int) -> None:
        # Its tool or operator was taken out of service.
        order = self.orders.get(entry.data["work_order_id"])
        if order is not None and order.status == "issued":
            self.orders[order.id] = dataclasses.replace(order, status="withdrawn")
