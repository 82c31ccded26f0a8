"""Issue 19 (B): the fake repository of dispatches, their packed devices, handovers and
acknowledgements (uow.dispatches).
"""

from __future__ import annotations

from tests.unit.fakes import FakeDatabase, FakeTables, area


@area("dispatches")
class FakeDispatchRepository(FakeTables):
    """``DispatchRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
