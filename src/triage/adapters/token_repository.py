"""API tokens, kept by their secret's hash beside the ledger (uow.tokens)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, insert, select, update

from triage.adapters.fastsql import Statement
from triage.adapters.rows import utc
from triage.adapters.tables import api_token
from triage.domain.digests import token_hash
from triage.domain.roles import Permission
from triage.domain.token import StoredToken

_BY_HASH = Statement(select(api_token).where(api_token.c.token_hash == bindparam("digest")))


class SqlTokenRepository:
    """``TokenRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, token: StoredToken, secret: str) -> None:
        """Store a token by its hash: the secret itself is shown once and never stored."""
        self._conn.execute(
            insert(api_token).values(
                id=token.id,
                operator_id=token.operator_id,
                token_hash=token_hash(secret),
                label=token.label,
                created_at=token.created_at,
                scopes=",".join(sorted(p.value for p in token.scopes or ())),
                expires_at=token.expires_at,
                bench=token.bench,
            )
        )

    def by_secret(self, secret: str) -> StoredToken | None:
        # Asked on every request with a bearer token: a statement built once (``fastsql``).
        found = _BY_HASH.first_mapping(self._conn, digest=token_hash(secret))
        return None if found is None else _token(found)

    def get(self, token_id: str) -> StoredToken | None:
        row = self._conn.execute(select(api_token).where(api_token.c.id == token_id))
        found = row.mappings().first()
        return None if found is None else _token(found)

    def all(self, operator_id: str | None = None) -> list[StoredToken]:
        query = select(api_token).order_by(api_token.c.operator_id, api_token.c.created_at)
        if operator_id is not None:
            query = query.where(api_token.c.operator_id == operator_id)
        return [_token(row) for row in self._conn.execute(query).mappings()]

    def revoke(self, token_id: str, at: datetime) -> None:
        self._conn.execute(
            update(api_token)
            .where(api_token.c.id == token_id, api_token.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )


def _token(row: Mapping[str, Any] | RowMapping) -> StoredToken:
    scopes = frozenset(Permission(p) for p in row["scopes"].split(",") if p)
    return StoredToken(
        id=row["id"],
        operator_id=row["operator_id"],
        label=row["label"],
        created_at=utc(row["created_at"]),
        scopes=scopes or None,
        expires_at=utc(row["expires_at"]),
        revoked_at=utc(row["revoked_at"]) if row["revoked_at"] else None,
        bench=row["bench"],
    )
