"""The fake repository of destruction methods and disposals (uow.disposals)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date

from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
from triage.domain.disposal import (
    DEFAULT_METHODS,
    DESTROY,
    RETURN,
    DestructionMethod,
    DisposalRecord,
    EvidenceFile,
)
from triage.ledger.entry import Entry


@area("disposals")
class FakeDisposalRepository(FakeTables):
    """``DisposalRepository``, in memory; it starts with the default methods, as the
    migration seeds them."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.method_rows: dict[str, DestructionMethod] = {m.code: m for m in DEFAULT_METHODS}
        self.records: dict[str, DisposalRecord] = {}

    # -- the port ------------------------------------------------------------------------------
    def for_job(self, job_id: str) -> DisposalRecord | None:
        return self.records.get(job_id)

    def for_device(self, device_id: str) -> list[DisposalRecord]:
        found = [r for r in self.records.values() if r.device_id == device_id]
        return sorted(found, key=lambda r: r.recorded_at, reverse=True)

    def destroyed(
        self,
        owner: str | None,
        *,
        device_ids: Sequence[str] | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> list[DisposalRecord]:
        found = [
            r
            for r in self.records.values()
            if r.kind == DESTROY
            and r.destroyed_on is not None
            and (owner is None or r.asset_owner == owner)
            and (device_ids is None or r.device_id in device_ids)
            and (since is None or r.destroyed_on >= since)
            and (until is None or r.destroyed_on <= until)
        ]
        return sorted(found, key=lambda r: (r.destroyed_on or date.min, r.device_id, r.job_id))

    def awaiting_witness(self, owner: str | None) -> list[DisposalRecord]:
        found = [
            r
            for r in self.records.values()
            if r.kind == DESTROY and not r.witnessed and (owner is None or r.asset_owner == owner)
        ]
        return sorted(found, key=lambda r: (r.recorded_at, r.job_id))

    def method(self, code: str) -> DestructionMethod | None:
        return self.method_rows.get(code)

    def methods(self) -> list[DestructionMethod]:
        return [self.method_rows[k] for k in sorted(self.method_rows)]

    # -- projections ---------------------------------------------------------------------------
    @projects("destruction_method.set")
    def _method_set(self, entry: Entry, index: int) -> None:
        self.method_rows[entry.data["code"]] = DestructionMethod.from_data(entry.data)

    def _record(self, entry: Entry, kind: str) -> DisposalRecord:
        data = entry.data
        return DisposalRecord(
            job_id=data["job_id"],
            device_id=entry.subject.id,
            kind=kind,
            reference=data["reference"],
            recorded_by=entry.actor.id,
            recorded_at=entry.at,
            role=data.get("role"),
            manufacturer=data.get("manufacturer"),
            model=data.get("model"),
            device_type=data.get("device_type"),
            asset_owner=data.get("asset_owner"),
        )

    @projects("device.destroyed")
    def _destroyed(self, entry: Entry, index: int) -> None:
        data = entry.data
        if not isinstance(data.get("method"), dict):
            return
        self.records[data["job_id"]] = dataclasses.replace(
            self._record(entry, DESTROY),
            method=DestructionMethod.from_data(data["method"]),
            site=data["site"],
            contact=data.get("contact") or None,
            destroyed_on=date.fromisoformat(data["destroyed_on"]),
            evidence=tuple(EvidenceFile(**e) for e in data["evidence"]),
        )

    @projects("device.returned_to_manufacturer")
    def _returned(self, entry: Entry, index: int) -> None:
        if "manufacturer" in entry.data:
            self.records[entry.data["job_id"]] = self._record(entry, RETURN)

    @projects("disposal.witnessed")
    def _witnessed(self, entry: Entry, index: int) -> None:
        job_id = entry.data["job_id"]
        self.records[job_id] = dataclasses.replace(
            self.records[job_id],
            witness_id=entry.actor.id,
            witness_statement=entry.data["statement"],
            witnessed_at=entry.at,
        )
