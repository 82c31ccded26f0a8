"""Triage jobs, their decisions and reset results, read from the projections (uow.jobs)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from triage.adapters.fastsql import Statement
from triage.adapters.rows import utc
from triage.adapters.tables import decision, device, reset_result, triage_job
from triage.domain.job import TriageJob
from triage.domain.lifecycle import JobState
from triage.domain.work_order_record import ResetResult

# The reads of the device path, compiled once (fastsql): each step reads its job, and a scan
# the open job of its device.
_JOB = Statement(select(triage_job).where(triage_job.c.id == bindparam("job_id")))
_OPEN_FOR_DEVICE = Statement(
    select(triage_job).where(
        triage_job.c.device_id == bindparam("device_id"), triage_job.c.closed_at.is_(None)
    )
)
_FOR_DEVICE = Statement(
    select(triage_job)
    .where(triage_job.c.device_id == bindparam("device_id"))
    .order_by(triage_job.c.opened_at, triage_job.c.id)
)
_DECISION_COUNT = Statement(
    select(func.count()).select_from(decision).where(decision.c.job_id == bindparam("job_id"))
)
# A job's reset results: the API's job detail, which a bench polls while a reset runs.
_RESET_RESULTS = Statement(
    select(reset_result)
    .where(reset_result.c.job_id == bindparam("job_id"))
    .order_by(reset_result.c.at)
)


def job_from_row(row: Mapping[Any, Any]) -> TriageJob:
    """A job from its table row."""
    return TriageJob(
        id=row["id"],
        device_id=row["device_id"],
        consignment_id=row["consignment_id"],
        state=JobState(row["state"]),
        inspector_id=row["inspector_id"],
        outcome=row["outcome"],
        reset_attempts=row["reset_attempts"],
        seal_serial=row["seal_serial"],
        opened_at=utc(row["opened_at"]),
        closed_at=utc(row["closed_at"]),
    )


class SqlJobRepository:
    """``JobRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, job_id: str) -> TriageJob | None:
        row = _JOB.first_mapping(self._conn, job_id=job_id)
        return None if row is None else job_from_row(row)

    def open_for_device(self, device_id: str) -> TriageJob | None:
        row = _OPEN_FOR_DEVICE.first_mapping(self._conn, device_id=device_id)
        return None if row is None else job_from_row(row)

    def open_for_devices(self, device_ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(device_ids), 500):
            rows = self._conn.execute(
                select(triage_job.c.device_id, triage_job.c.id).where(
                    triage_job.c.closed_at.is_(None),
                    triage_job.c.device_id.in_(device_ids[start : start + 500]),
                )
            )
            found.update({d: j for d, j in rows})
        return found

    def for_device(self, device_id: str) -> list[TriageJob]:
        return [job_from_row(row) for row in _FOR_DEVICE.mappings(self._conn, device_id=device_id)]

    def page(
        self, state: JobState | None, offset: int, limit: int, owner: str | None = None
    ) -> tuple[list[TriageJob], int]:
        query = select(triage_job)
        count = select(func.count()).select_from(triage_job)
        if state is not None:
            query = query.where(triage_job.c.state == state.value)
            count = count.where(triage_job.c.state == state.value)
        if owner is not None:
            owned = select(device.c.id).where(device.c.asset_owner == owner)
            query = query.where(triage_job.c.device_id.in_(owned))
            count = count.where(triage_job.c.device_id.in_(owned))
        rows = self._conn.execute(
            query.order_by(triage_job.c.opened_at, triage_job.c.id).offset(offset).limit(limit)
        ).mappings()
        return [job_from_row(row) for row in rows], int(self._conn.execute(count).scalar_one())

    def count_by_state(self) -> dict[JobState, int]:
        rows = self._conn.execute(
            select(triage_job.c.state, func.count()).group_by(triage_job.c.state)
        )
        return {JobState(state): int(n) for state, n in rows}

    def decision_count(self, job_id: str) -> int:
        return int(_DECISION_COUNT.scalar(self._conn, job_id=job_id))

    def latest_reasons(self, job_ids: Sequence[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for start in range(0, len(job_ids), 500):
            rows = self._conn.execute(
                select(decision.c.job_id, decision.c.reasons)
                .where(decision.c.job_id.in_(job_ids[start : start + 500]))
                .order_by(decision.c.job_id, decision.c.seq)
            )
            # The latest decision of each job comes last.
            found.update({j: [r["text"] for r in json.loads(reasons)] for j, reasons in rows})
        return found

    def reset_results(self, job_id: str) -> list[ResetResult]:
        rows = _RESET_RESULTS.mappings(self._conn, job_id=job_id)
        return [
            ResetResult(
                work_order_id=row["work_order_id"],
                job_id=row["job_id"],
                outcome=row["outcome"],
                verified=row["verified"],
                failures=tuple(json.loads(row["failures"])),
                before=row["before"],
                after=row["after"],
                detail=row["detail"],
                signed=row["signed"],
                at=utc(row["at"]),
            )
            for row in rows
        ]
