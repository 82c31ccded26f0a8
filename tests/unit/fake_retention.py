"""Issue 19 (E): the fake repository of retention rules, legal holds and purged evidence files
(uow.retention).
"""

from __future__ import annotations

from tests.unit.fakes import FakeDatabase, FakeTables, area


@area("retention")
class FakeRetentionRepository(FakeTables):
    """``RetentionRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
