"""Issue 20 (C): the fake repository of communications hubs back to the DCC (uow.hub_returns)."""

from __future__ import annotations

from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
from triage.adapters.hub_return_repository import record_of
from triage.adapters.projector_hub_returns import POLICY_SET, RETURNED, return_row
from triage.domain.hub_return import HubPolicy, HubReturnRecord
from triage.ledger.entry import Entry


@area("hub_returns")
class FakeHubReturnRepository(FakeTables):
    """``HubReturnRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.recorded: dict[str, HubReturnRecord] = {}
        self.policies: dict[str, HubPolicy] = {}

    # -- the port ------------------------------------------------------------------------------
    def for_job(self, job_id: str) -> HubReturnRecord | None:
        return self.recorded.get(job_id)

    def returns(
        self, scope: str | None = None, device_id: str | None = None, limit: int = 200
    ) -> list[HubReturnRecord]:
        found = [
            r
            for r in self.recorded.values()
            if (scope is None or r.asset_owner == scope)
            and (device_id is None or r.device_id == device_id)
        ]
        found.sort(key=lambda r: r.job_id)
        found.sort(key=lambda r: r.returned_at, reverse=True)
        return found[:limit]

    def policy(self, facility_id: str) -> HubPolicy:
        return self.policies.get(facility_id, HubPolicy())

    # -- projections ---------------------------------------------------------------------------
    @projects(RETURNED)
    def _returned(self, entry: Entry, index: int) -> None:
        # The same row the SQL projector inserts (projector_hub_returns builds both).
        record = record_of(return_row(entry))
        self.recorded[record.job_id] = record

    @projects(POLICY_SET)
    def _policy_set(self, entry: Entry, index: int) -> None:
        self.policies[entry.facility] = HubPolicy(
            bool(entry.data["allow_reset"]), entry.actor.id, entry.at
        )
