"""Issue 20 (B): the fake repository of DUIS requests out (8.4, 8.3, 8.14.3, 8.14.4)
(uow.duis_requests)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from tests.unit.fake_devices import FakeDeviceRepository
from tests.unit.fake_jobs import FakeJobRepository
from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
from triage.domain.duis_request import (
    DEFAULT_TARGET,
    DccUser,
    DuisBatch,
    DuisSettings,
    FinishedJob,
    ProducedRequest,
)
from triage.ledger.entry import Entry


@area("duis_requests")
class FakeDuisRequestRepository(FakeTables):
    """``DuisRequestRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.requests: dict[str, ProducedRequest] = {}
        self.files: dict[str, bytes] = {}
        self.batches_by_id: dict[str, DuisBatch] = {}
        self.users: dict[str, DccUser] = {}
        self.values: dict[str, str] = {}

    # -- the port ------------------------------------------------------------------------------
    def get(self, request_id: str) -> ProducedRequest | None:
        return self.requests.get(request_id)

    def xml(self, request_id: str) -> bytes | None:
        return self.files.get(request_id)

    def _newest(self, found: list[ProducedRequest]) -> list[ProducedRequest]:
        return sorted(found, key=lambda r: (r.produced_at, r.counter), reverse=True)

    def page(self, owner: str | None, offset: int, limit: int) -> tuple[list[ProducedRequest], int]:
        found = [r for r in self.requests.values() if owner is None or r.asset_owner == owner]
        return self._newest(found)[offset : offset + limit], len(found)

    def in_batch(self, batch_id: str) -> list[ProducedRequest]:
        found = [r for r in self.requests.values() if r.batch_id == batch_id]
        return sorted(found, key=lambda r: (r.originator, r.counter))

    def unbatched(self, owner: str, device_ids: Sequence[str] | None) -> list[ProducedRequest]:
        found = [
            r
            for r in self.requests.values()
            if r.asset_owner == owner
            and r.batch_id is None
            and (device_ids is None or r.device_id in device_ids)
        ]
        return sorted(found, key=lambda r: (r.originator, r.counter))

    def purposes(self, job_ids: Sequence[str]) -> set[tuple[str, str]]:
        return {(r.job_id, r.purpose) for r in self.requests.values() if r.job_id in set(job_ids)}

    def last_counter(self, originator: str) -> int:
        return max(
            (r.counter for r in self.requests.values() if r.originator == originator), default=0
        )

    def finished_jobs(
        self,
        owner: str,
        states: Sequence[str],
        device_ids: Sequence[str] | None,
        consignment_id: str | None,
    ) -> list[FinishedJob]:
        jobs = self._database.repository("jobs", FakeJobRepository).jobs.values()
        devices = self._database.repository("devices", FakeDeviceRepository).devices
        found = [
            j
            for j in jobs
            if j.state.value in states
            and j.device_id in devices
            and devices[j.device_id].asset_owner == owner
            and (device_ids is None or j.device_id in device_ids)
            and (consignment_id is None or j.consignment_id == consignment_id)
        ]
        found.sort(key=lambda j: (j.closed_at or j.opened_at, j.id))
        return [FinishedJob(j.id, j.device_id, j.state.value, j.consignment_id) for j in found]

    def batch(self, batch_id: str) -> DuisBatch | None:
        return self.batches_by_id.get(batch_id)

    def batches(
        self,
        owner: str | None,
        offset: int,
        limit: int,
        dispatch_id: str | None = None,
        consignment_id: str | None = None,
    ) -> tuple[list[DuisBatch], int]:
        found = [
            b
            for b in self.batches_by_id.values()
            if (owner is None or b.asset_owner == owner)
            and (dispatch_id is None or b.dispatch_id == dispatch_id)
            and (consignment_id is None or b.consignment_id == consignment_id)
        ]
        found.sort(key=lambda b: b.id)
        found.sort(key=lambda b: b.produced_at, reverse=True)
        return found[offset : offset + limit], len(found)

    def dcc_user(self, owner: str) -> DccUser | None:
        return self.users.get(owner)

    def dcc_users(self) -> list[DccUser]:
        return [self.users[k] for k in sorted(self.users)]

    def settings(self) -> DuisSettings:
        return DuisSettings(self.values.get("target", DEFAULT_TARGET), self.values.get("rules"))

    # -- projections ---------------------------------------------------------------------------
    @projects("duis.request_written")
    def _written(self, entry: Entry, index: int) -> None:
        data = entry.data
        self.requests[data["request_id"]] = ProducedRequest.recorded(data, entry.actor.id, entry.at)
        self.files[data["request_id"]] = data["xml"].encode("utf-8")

    @projects("duis.batch_produced")
    def _batch(self, entry: Entry, index: int) -> None:
        data = entry.data
        self.batches_by_id[entry.subject.id] = DuisBatch(
            id=entry.subject.id,
            asset_owner=data["asset_owner"],
            sha256=data["sha256"],
            size=data["size"],
            request_count=len(data["request_ids"]),
            dispatch_id=data.get("dispatch_id"),
            consignment_id=data.get("consignment_id"),
            produced_by=entry.actor.id,
            produced_at=entry.at,
        )
        for number in data["request_ids"]:
            found = self.requests[number]
            self.requests[number] = dataclasses.replace(found, batch_id=entry.subject.id)

    @projects("duis.dcc_user_set")
    def _dcc_user(self, entry: Entry, index: int) -> None:
        owner = entry.subject.id
        self.users[owner] = DccUser(owner, entry.data["originator"], entry.actor.id, entry.at)

    @projects("duis.target_set")
    def _target(self, entry: Entry, index: int) -> None:
        self.values["target"] = entry.data["target"]

    @projects("duis.rules_set")
    def _rules(self, entry: Entry, index: int) -> None:
        self.values["rules"] = entry.data["source"]
