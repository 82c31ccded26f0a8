"""Issue 19 (A): the fake repository of asset owners (parties) and the owner scope of reads
(uow.asset_owners).
"""

from __future__ import annotations

from tests.unit.fakes import FakeDatabase, FakeTables, area


@area("asset_owners")
class FakeAssetOwnerRepository(FakeTables):
    """``AssetOwnerRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
