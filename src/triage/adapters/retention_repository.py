"""Issue 19 (E): retention rules, legal holds and purged evidence files, read from the projections
(uow.retention).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, RowMapping, select

from triage.adapters.rows import utc
from triage.adapters.tables import (
    evidence_file,
    evidence_purge,
    legal_hold,
    retention_rule,
    triage_job,
)
from triage.domain.retention import (
    CountedFrom,
    EvidenceFile,
    HoldScope,
    LegalHold,
    Purged,
    RetentionRule,
)


class SqlRetentionRepository:
    """``RetentionRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def rules(self) -> list[RetentionRule]:
        rows = self._conn.execute(select(retention_rule).order_by(retention_rule.c.kind))
        return [
            RetentionRule(
                r["kind"], r["days"], CountedFrom(r["counted_from"]), r["set_by"], utc(r["set_at"])
            )
            for r in rows.mappings()
        ]

    def holds(self, active_only: bool) -> list[LegalHold]:
        query = select(legal_hold).order_by(legal_hold.c.placed_at, legal_hold.c.id)
        if active_only:
            query = query.where(legal_hold.c.released_at.is_(None))
        return [_hold(r) for r in self._conn.execute(query).mappings()]

    def hold(self, hold_id: str) -> LegalHold | None:
        row = self._conn.execute(select(legal_hold).where(legal_hold.c.id == hold_id)).mappings()
        found = row.first()
        return None if found is None else _hold(found)

    def files(self, sha256: str | None = None) -> list[EvidenceFile]:
        query = (
            select(evidence_file, triage_job.c.consignment_id, triage_job.c.closed_at)
            .select_from(
                evidence_file.outerjoin(triage_job, triage_job.c.id == evidence_file.c.job_id)
            )
            .order_by(evidence_file.c.recorded_at, evidence_file.c.sha256, evidence_file.c.kind)
        )
        if sha256 is not None:
            query = query.where(evidence_file.c.sha256 == sha256)
        return [_file(r) for r in self._conn.execute(query).mappings()]

    def purges(self, sha256: str | None = None, limit: int | None = None) -> list[Purged]:
        query = select(evidence_purge).order_by(
            evidence_purge.c.purged_at.desc(), evidence_purge.c.sha256
        )
        if sha256 is not None:
            query = query.where(evidence_purge.c.sha256 == sha256)
        if limit is not None:
            query = query.limit(limit)
        return [
            Purged(
                r["sha256"],
                r["kind"],
                r["name"],
                r["size"],
                r["rule_days"],
                utc(r["purged_at"]),
                r["purged_by"],
            )
            for r in self._conn.execute(query).mappings()
        ]


def _hold(row: RowMapping) -> LegalHold:
    return LegalHold(
        id=row["id"],
        scope=HoldScope(row["scope"]),
        target=row["target"],
        reason=row["reason"],
        placed_by=row["placed_by"],
        placed_at=utc(row["placed_at"]),
        released_by=row["released_by"],
        released_at=utc(row["released_at"]),
        release_reason=row["release_reason"],
    )


def _file(row: RowMapping) -> EvidenceFile:
    fields: dict[str, Any] = {
        "sha256": row["sha256"],
        "kind": row["kind"],
        "name": row["name"],
        "size": row["size"],
        "recorded_at": utc(row["recorded_at"]),
        "device_id": row["device_id"],
        "job_id": row["job_id"],
        "consignment_id": row["consignment_id"],
        "case_closed_at": utc(row["closed_at"]),
    }
    return EvidenceFile(**fields)
