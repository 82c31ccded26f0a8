"""Security logs recorded for triage jobs, read from the projections (uow.security_logs)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, bindparam, select

from triage.adapters.fastsql import Statement
from triage.adapters.rows import utc
from triage.adapters.tables import security_log
from triage.domain.evidence_codec import alerts_from_json
from triage.domain.security_log_reading import SecurityLogRecord
from triage.domain.tamper_policy import LogSource

# Read by the steps of a job after its log was recorded (compiled once: fastsql).
_FOR_JOB = Statement(
    select(security_log)
    .where(security_log.c.job_id == bindparam("job_id"))
    .order_by(security_log.c.seq)
)


class SqlSecurityLogRepository:
    """``SecurityLogRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def for_job(self, job_id: str) -> list[SecurityLogRecord]:
        return [record_from_row(row) for row in _FOR_JOB.mappings(self._conn, job_id=job_id)]


def record_from_row(row: Mapping[Any, Any]) -> SecurityLogRecord:
    """A recorded security log from its ``security_log`` row."""
    return SecurityLogRecord(
        job_id=row["job_id"],
        seq=row["seq"],
        device_id=row["device_id"],
        sha256=row["sha256"],
        size=row["size"],
        use_case=row["use_case"],
        outcome=row["outcome"],
        status=row["status"],
        entries=alerts_from_json(json.loads(row["entries"]), "entries"),
        source=LogSource(row["source"]),
        source_detail=json.loads(row["source_detail"]),
        recorded_by=row["recorded_by"],
        recorded_at=utc(row["recorded_at"]),
    )
