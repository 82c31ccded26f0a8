"""The intake exceptions' fake repository (uow.exceptions)."""

from __future__ import annotations

import dataclasses

from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
from triage.domain.intake_exception import IntakeException
from triage.ledger.entry import Entry


@area("exceptions")
class FakeExceptionRepository(FakeTables):
    """``ExceptionRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.exceptions: dict[str, IntakeException] = {}

    def get(self, exception_id: str) -> IntakeException | None:
        return self.exceptions.get(exception_id)

    def page(
        self, status: str | None, offset: int, limit: int
    ) -> tuple[list[IntakeException], int]:
        found = sorted(
            (e for e in self.exceptions.values() if status is None or e.status == status),
            key=lambda e: e.raised_at,
        )
        return found[offset : offset + limit], len(found)

    @projects("exception.raised")
    def _raised(self, entry: Entry, index: int) -> None:
        exception_id = entry.data["exception_id"]
        self.exceptions[exception_id] = IntakeException(
            id=exception_id,
            kind=entry.data["kind"],
            device_id=entry.subject.id,
            detail=entry.data["detail"],
            status="open",
            raised_by=entry.actor.id,
            raised_at=entry.at,
        )

    @projects("exception.resolved")
    def _resolved(self, entry: Entry, index: int) -> None:
        exception_id = entry.data["exception_id"]
        found = self.exceptions.get(exception_id)
        if found is not None:
            self.exceptions[exception_id] = dataclasses.replace(
                found,
                status="resolved",
                resolved_by=entry.actor.id,
                resolution=entry.data["resolution"],
                resolved_at=entry.at,
            )
