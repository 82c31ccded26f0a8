"""The security logs' fake repository (uow.security_logs)."""

from __future__ import annotations

from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
from triage.domain.evidence_codec import alerts_from_json
from triage.domain.security_log_reading import SecurityLogRecord
from triage.domain.tamper_policy import LogSource
from triage.ledger.entry import Entry


@area("security_logs")
class FakeSecurityLogRepository(FakeTables):
    """``SecurityLogRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.records: list[SecurityLogRecord] = []

    # -- the port ------------------------------------------------------------------------------
    def for_job(self, job_id: str) -> list[SecurityLogRecord]:
        return sorted((r for r in self.records if r.job_id == job_id), key=lambda r: r.seq)

    # -- projections ---------------------------------------------------------------------------
    @projects("device.security_log_recorded")
    def _recorded(self, entry: Entry, index: int) -> None:
        data = entry.data
        source = dict(data["source"])
        kind = source.pop("kind")
        self.records.append(
            SecurityLogRecord(
                job_id=data["job_id"],
                seq=data["seq"],
                device_id=entry.subject.id,
                sha256=data["sha256"],
                size=data["bytes"],
                use_case=data["use_case"],
                outcome=data["outcome"],
                status=data.get("status"),
                entries=alerts_from_json(data["log"], "log"),
                source=LogSource(kind),
                source_detail=source,
                recorded_by=entry.actor.id,
                recorded_at=entry.at,
            )
        )
