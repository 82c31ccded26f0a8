"""The asset owners' fake repository (uow.asset_owners)."""

from __future__ import annotations

import dataclasses

from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
from triage.domain.asset_owner import AssetOwner
from triage.ledger.entry import Entry


@area("asset_owners")
class FakeAssetOwnerRepository(FakeTables):
    """``AssetOwnerRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.owners: dict[str, AssetOwner] = {}

    # -- the port ------------------------------------------------------------------------------
    def get(self, owner_id: str) -> AssetOwner | None:
        return self.owners.get(owner_id)

    def all(self) -> list[AssetOwner]:
        return [self.owners[k] for k in sorted(self.owners)]

    # -- projections ---------------------------------------------------------------------------
    @projects("asset_owner.registered")
    def _registered(self, entry: Entry, index: int) -> None:
        data = entry.data
        self.owners[entry.subject.id] = AssetOwner(
            entry.subject.id, data["name"], data["contact"], data.get("verifier_key"), entry.at
        )

    @projects("asset_owner.updated")
    def _updated(self, entry: Entry, index: int) -> None:
        changed = {
            k: entry.data[k]
            for k in ("name", "contact", "verifier_key", "active")
            if k in entry.data
        }
        owner = self.owners[entry.subject.id]
        self.owners[entry.subject.id] = dataclasses.replace(owner, **changed)
