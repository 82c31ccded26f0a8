"""Issue 19 (C): the fake repository of destruction and return evidence (uow.disposals)."""

from __future__ import annotations

from tests.unit.fakes import FakeDatabase, FakeTables, area


@area("disposals")
class FakeDisposalRepository(FakeTables):
    """``DisposalRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
