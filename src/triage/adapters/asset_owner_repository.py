"""Asset owners, read from the projections (uow.asset_owners)."""

from __future__ import annotations

from sqlalchemy import Connection, RowMapping, select

from triage.adapters.rows import utc
from triage.adapters.tables import asset_owner
from triage.domain.asset_owner import AssetOwner


class SqlAssetOwnerRepository:
    """``AssetOwnerRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, owner_id: str) -> AssetOwner | None:
        row = (
            self._conn.execute(select(asset_owner).where(asset_owner.c.id == owner_id))
            .mappings()
            .first()
        )
        return None if row is None else _owner(row)

    def all(self) -> list[AssetOwner]:
        rows = self._conn.execute(select(asset_owner).order_by(asset_owner.c.id)).mappings()
        return [_owner(row) for row in rows]


def _owner(row: RowMapping) -> AssetOwner:
    return AssetOwner(
        id=row["id"],
        name=row["name"],
        contact=row["contact"],
        verifier_key=row["verifier_key"],
        registered_at=utc(row["registered_at"]),
        active=row["active"],
    )
