"""A device's security log as the API and ``--json`` show it: what was recorded, and its
entries with names, classes and the device's own times."""

from __future__ import annotations

from pydantic import BaseModel, Field

from triage.domain.security_log_reading import SecurityLogRecord
from triage.entrypoints.schemas.common import Time
from triage.services.security_log import JobSecurityLog


class SecurityLogRecordOut(BaseModel):
    job_id: str
    seq: int = Field(description="The log's number among the job's recorded logs, from 1.")
    device_id: str
    sha256: str = Field(description="SHA-256 of the raw GBCS bytes (the evidence file).")
    size: int
    use_case: str = Field(description="GBCS use case, e.g. ECS35b.")
    outcome: str = Field(description="success, error or not_found (the device's answer).")
    status: str | None
    entries: int = Field(description="How many entries the log holds.")
    source: str = Field(description="tool (read at the bench) or supplier (uploaded).")
    source_detail: dict[str, str]
    recorded_by: str
    recorded_at: Time

    @classmethod
    def of(cls, record: SecurityLogRecord) -> SecurityLogRecordOut:
        return cls(
            job_id=record.job_id,
            seq=record.seq,
            device_id=record.device_id,
            sha256=record.sha256,
            size=record.size,
            use_case=record.use_case,
            outcome=record.outcome,
            status=record.status,
            entries=len(record.entries),
            source=record.source.value,
            source_detail=dict(record.source_detail),
            recorded_by=record.recorded_by,
            recorded_at=record.recorded_at,
        )


class LogEntryOut(BaseModel):
    code: str = Field(description='The GBCS code, e.g. "0x8F3F".')
    name: str | None
    alert_class: str | None = Field(description="tamper, explaining, integrity, or null.")
    at: Time = Field(description="The device's own time of the entry.")


class JobSecurityLogOut(BaseModel):
    job_id: str
    device_id: str
    sha256: str
    size: int
    use_case: str
    source: str
    source_detail: dict[str, str]
    outcome: str
    status: str | None
    usable: bool = Field(description="True when the device answered with its log.")
    recorded_by: str
    recorded_at: Time
    entries: list[LogEntryOut]

    @classmethod
    def of(cls, log: JobSecurityLog) -> JobSecurityLogOut:
        return cls(
            job_id=log.job_id,
            device_id=log.device_id,
            sha256=log.sha256,
            size=log.size,
            use_case=log.use_case,
            source=log.source.value,
            source_detail=dict(log.source_detail),
            outcome=log.outcome,
            status=log.status,
            usable=log.usable,
            recorded_by=log.recorded_by,
            recorded_at=log.recorded_at,
            entries=[
                LogEntryOut(code=e.code, name=e.name, alert_class=e.alert_class, at=e.at)
                for e in log.entries
            ],
        )
