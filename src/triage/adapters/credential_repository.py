"""SQL implementation of ``CredentialRepository`` (credential tables, sessions, locks)."""

from __future__ import annotations

from sqlalchemy import Connection


class SqlCredentialRepository:
    """Reads and writes of the credential tables within the unit of work's transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
