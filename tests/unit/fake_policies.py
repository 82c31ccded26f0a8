"""The tamper policies' fake repository (uow.policies)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
from triage.ledger.entry import Entry


@dataclass
class PolicyRow:
    """One row of the tamper-policy table."""

    hash: str
    policy_id: str
    version: str
    source: str
    active: bool
    activated_at: datetime


@area("policies")
class FakePolicyRepository(FakeTables):
    """``PolicyRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.policies: dict[str, PolicyRow] = {}  # by hash

    def active_source(self) -> str | None:
        active = [p.source for p in self.policies.values() if p.active]
        return active[0] if active else None

    @projects("policy.activated")
    def _activated(self, entry: Entry, index: int) -> None:
        data = entry.data
        for row in self.policies.values():
            row.active = False
        # One row a text: a text in force before is put back in force.
        self.policies[data["hash"]] = PolicyRow(
            hash=data["hash"],
            policy_id=data["policy_id"],
            version=data["version"],
            source=data["source"],
            active=True,
            activated_at=entry.at,
        )
