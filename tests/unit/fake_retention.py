"""Issue 19 (E): the fake repository of retention rules, legal holds and purged evidence files
(uow.retention).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from tests.unit.fake_jobs import FakeJobRepository
from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
from triage.adapters.projector_retention import FILE_RECORDS, file_rows
from triage.domain.retention import (
    CountedFrom,
    EvidenceFile,
    HoldScope,
    LegalHold,
    Purged,
    RetentionRule,
)
from triage.ledger.entry import Entry


@dataclasses.dataclass(frozen=True)
class _Recorded:
    sha256: str
    kind: str
    ref: str
    name: str
    size: int
    recorded_at: datetime
    device_id: str | None
    job_id: str | None


@area("retention")
class FakeRetentionRepository(FakeTables):
    """``RetentionRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.set_rules: dict[str, RetentionRule] = {}
        self.legal_holds: dict[str, LegalHold] = {}
        self.recorded: dict[tuple[str, str, str], _Recorded] = {}
        self.purged: list[Purged] = []

    # -- the port ------------------------------------------------------------------------------
    def rules(self) -> list[RetentionRule]:
        return [self.set_rules[k] for k in sorted(self.set_rules)]

    def holds(self, active_only: bool) -> list[LegalHold]:
        found = sorted(self.legal_holds.values(), key=lambda h: (h.placed_at, h.id))
        return [h for h in found if h.active or not active_only]

    def hold(self, hold_id: str) -> LegalHold | None:
        return self.legal_holds.get(hold_id)

    def files(self, sha256: str | None = None) -> list[EvidenceFile]:
        jobs = self._database.repository("jobs", FakeJobRepository)
        found = []
        for r in self.recorded.values():
            if sha256 is not None and r.sha256 != sha256:
                continue
            job = None if r.job_id is None else jobs.get(r.job_id)
            found.append(
                EvidenceFile(
                    r.sha256,
                    r.kind,
                    r.name,
                    r.size,
                    r.recorded_at,
                    r.device_id,
                    r.job_id,
                    None if job is None else job.consignment_id,
                    None if job is None else job.closed_at,
                )
            )
        return sorted(found, key=lambda f: (f.recorded_at, f.sha256, f.kind))

    def purges(self, sha256: str | None = None, limit: int | None = None) -> list[Purged]:
        found = [p for p in self.purged if sha256 is None or p.sha256 == sha256]
        return sorted(found, key=lambda p: (p.purged_at, p.sha256), reverse=True)[:limit]

    # -- projections ---------------------------------------------------------------------------
    @projects(*FILE_RECORDS)
    def _file_recorded(self, entry: Entry, index: int) -> None:
        # The same row the SQL projector indexes (projector_retention builds both).
        for fields in file_rows(entry):
            row = _Recorded(**fields)
            self.recorded.setdefault((row.sha256, row.kind, row.ref), row)

    @projects("retention.rule_set")
    def _rule_set(self, entry: Entry, index: int) -> None:
        data = entry.data
        self.set_rules[data["kind"]] = RetentionRule(
            data["kind"], data["days"], CountedFrom(data["counted_from"]), entry.actor.id, entry.at
        )

    @projects("legal_hold.placed")
    def _placed(self, entry: Entry, index: int) -> None:
        data = entry.data
        self.legal_holds[data["hold_id"]] = LegalHold(
            data["hold_id"],
            HoldScope(data["scope"]),
            data["target"],
            data["reason"],
            entry.actor.id,
            entry.at,
        )

    @projects("legal_hold.released")
    def _released(self, entry: Entry, index: int) -> None:
        hold = self.legal_holds[entry.data["hold_id"]]
        self.legal_holds[hold.id] = dataclasses.replace(
            hold,
            released_by=entry.actor.id,
            released_at=entry.at,
            release_reason=entry.data["reason"],
        )

    @projects("evidence.purged")
    def _purged(self, entry: Entry, index: int) -> None:
        data = entry.data
        self.purged.append(
            Purged(
                data["sha256"],
                data["kind"],
                data["name"],
                data["size"],
                data["rule"]["days"],
                entry.at,
                entry.actor.id,
            )
        )
