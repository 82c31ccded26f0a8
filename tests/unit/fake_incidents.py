"""Issue 20 (D): the fake repository of the incident and vulnerability register (uow.incidents)."""

from __future__ import annotations

from tests.unit.fakes import FakeDatabase, FakeTables, area


@area("incidents")
class FakeIncidentRepository(FakeTables):
    """``IncidentRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
