"""Issue 20 (C): the fake repository of communications hubs back to the DCC (uow.hub_returns)."""

from __future__ import annotations

from tests.unit.fakes import FakeDatabase, FakeTables, area


@area("hub_returns")
class FakeHubReturnRepository(FakeTables):
    """``HubReturnRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
