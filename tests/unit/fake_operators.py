"""The operators' fake repository (uow.operators): operators and their benches."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
from triage.domain.people import Operator
from triage.domain.roles import Role
from triage.errors import Conflict
from triage.ledger.entry import Entry


@area("operators")
class FakeOperatorRepository(FakeTables):
    """``OperatorRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.operators: dict[str, Operator] = {}
        # operator id -> bench -> when it was first assigned
        self.assigned: dict[str, dict[str, datetime]] = {}

    # -- the port ------------------------------------------------------------------------------
    def get(self, operator_id: str) -> Operator | None:
        return self.operators.get(operator_id)

    def all(self) -> list[Operator]:
        return [self.operators[k] for k in sorted(self.operators)]

    def benches(self, operator_id: str) -> frozenset[str]:
        return frozenset(self.assigned.get(operator_id, {}))

    def bench_assignments(self) -> dict[str, list[str]]:
        return {
            operator_id: sorted(benches)
            for operator_id, benches in sorted(self.assigned.items())
            if benches
        }

    # -- projections ---------------------------------------------------------------------------
    def _change(self, operator_id: str, **values: Any) -> None:
        # An update of a row that is not there changes nothing, as in SQL.
        found = self.operators.get(operator_id)
        if found is not None:
            self.operators[operator_id] = dataclasses.replace(found, **values)

    @projects("operator.created")
    def _created(self, entry: Entry, index: int) -> None:
        operator_id = entry.subject.id
        if operator_id in self.operators:
            raise Conflict(f"operator {operator_id!r} already exists")
        self.operators[operator_id] = Operator(
            id=operator_id,
            name=entry.data["name"],
            roles=frozenset(Role(r) for r in entry.data["roles"]),
            active=True,
            created_at=entry.at,
            asset_owner=entry.data.get("asset_owner"),
        )

    @projects("operator.roles_changed")
    def _roles_changed(self, entry: Entry, index: int) -> None:
        roles = frozenset(Role(r) for r in entry.data["roles"])
        self._change(entry.subject.id, roles=roles)

    @projects("operator.deactivated")
    def _deactivated(self, entry: Entry, index: int) -> None:
        self._change(entry.subject.id, active=False)

    @projects("operator.suspended", "operator.reinstated")
    def _suspension(self, entry: Entry, index: int) -> None:
        self._change(entry.subject.id, suspended=entry.type == "operator.suspended")

    @projects("auth.mfa_enrolled")
    def _mfa_enrolled(self, entry: Entry, index: int) -> None:
        self._change(entry.subject.id, mfa_enrolled=True)

    @projects("auth.login")
    def _login(self, entry: Entry, index: int) -> None:
        self._change(entry.subject.id, last_login_at=entry.at)

    @projects("operator.benches_assigned")
    def _benches_assigned(self, entry: Entry, index: int) -> None:
        # The entry holds the whole new set; a bench kept keeps when it was first assigned.
        held = self.assigned.get(entry.subject.id, {})
        now = {bench: held.get(bench, entry.at) for bench in entry.data["benches"]}
        if now:
            self.assigned[entry.subject.id] = now
        else:
            self.assigned.pop(entry.subject.id, None)
