"""Issue 20 (B): the fake repository of DUIS requests out (8.4, 8.3, 8.14.3, 8.14.4)
(uow.duis_requests)."""

from __future__ import annotations

from tests.unit.fakes import FakeDatabase, FakeTables, area


@area("duis_requests")
class FakeDuisRequestRepository(FakeTables):
    """``DuisRequestRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
