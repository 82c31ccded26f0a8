"""Destruction methods and disposals (destroyed or returned devices), read from the projections
(uow.disposals)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Connection, RowMapping, Select, select

from triage.adapters.rows import utc
from triage.adapters.tables import destruction_method, disposal
from triage.domain.disposal import DESTROY, DestructionMethod, DisposalRecord, EvidenceFile


class SqlDisposalRepository:
    """``DisposalRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def for_job(self, job_id: str) -> DisposalRecord | None:
        row = self._conn.execute(select(disposal).where(disposal.c.job_id == job_id))
        found = row.mappings().first()
        return None if found is None else _record(found)

    def for_device(self, device_id: str) -> list[DisposalRecord]:
        query = (
            select(disposal)
            .where(disposal.c.device_id == device_id)
            .order_by(disposal.c.recorded_at.desc(), disposal.c.job_id)
        )
        return self._records(query)

    def destroyed(
        self,
        owner: str | None,
        *,
        device_ids: Sequence[str] | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> list[DisposalRecord]:
        query = _owned(select(disposal).where(disposal.c.kind == DESTROY), owner)
        if device_ids is not None:
            query = query.where(disposal.c.device_id.in_(list(device_ids)))
        if since is not None:
            query = query.where(disposal.c.destroyed_on >= since)
        if until is not None:
            query = query.where(disposal.c.destroyed_on <= until)
        return self._records(
            query.order_by(disposal.c.destroyed_on, disposal.c.device_id, disposal.c.job_id)
        )

    def awaiting_witness(self, owner: str | None) -> list[DisposalRecord]:
        query = select(disposal).where(
            (disposal.c.kind == DESTROY) & disposal.c.witness_id.is_(None)
        )
        return self._records(
            _owned(query, owner).order_by(disposal.c.recorded_at, disposal.c.job_id)
        )

    def method(self, code: str) -> DestructionMethod | None:
        query = select(destruction_method).where(destruction_method.c.code == code)
        row = self._conn.execute(query).mappings().first()
        return None if row is None else DestructionMethod.from_data(dict(row))

    def methods(self) -> list[DestructionMethod]:
        rows = self._conn.execute(select(destruction_method).order_by(destruction_method.c.code))
        return [DestructionMethod.from_data(dict(row)) for row in rows.mappings()]

    def _records(self, query: Select[tuple[object, ...]]) -> list[DisposalRecord]:
        return [_record(row) for row in self._conn.execute(query).mappings()]


def _owned(query: Select[tuple[object, ...]], owner: str | None) -> Select[tuple[object, ...]]:
    return query if owner is None else query.where(disposal.c.asset_owner == owner)


def _record(row: RowMapping) -> DisposalRecord:
    method = row["method"]
    return DisposalRecord(
        job_id=row["job_id"],
        device_id=row["device_id"],
        kind=row["kind"],
        reference=row["reference"],
        recorded_by=row["recorded_by"],
        recorded_at=utc(row["recorded_at"]),
        role=row["role"],
        manufacturer=row["manufacturer"],
        model=row["model"],
        device_type=row["device_type"],
        asset_owner=row["asset_owner"],
        method=None if method is None else DestructionMethod.from_data(json.loads(method)),
        site=row["site"],
        contact=row["contact"],
        destroyed_on=row["destroyed_on"],
        evidence=tuple(EvidenceFile(**e) for e in json.loads(row["evidence"])),
        witness_id=row["witness_id"],
        witness_statement=row["witness_statement"],
        witnessed_at=utc(row["witnessed_at"]),
    )
