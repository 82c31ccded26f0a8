"""Issue 19 (A): asset owners (parties) and the owner scope of reads, read from the projections
(uow.asset_owners).
"""

from __future__ import annotations

from sqlalchemy import Connection


class SqlAssetOwnerRepository:
    """``AssetOwnerRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
