"""Issue 19 (D): the fake repository of device locations, moves and device stocktakes
(uow.custody).
"""

from __future__ import annotations

from tests.unit.fakes import FakeDatabase, FakeTables, area


@area("custody")
class FakeCustodyRepository(FakeTables):
    """``CustodyRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
