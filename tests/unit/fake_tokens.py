"""The tokens' fake repository (uow.tokens): what the real one keeps beside the ledger (token
secrets' hashes, revocations); no entry type changes it."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from tests.unit.fake_operators import FakeOperatorRepository
from tests.unit.fakes import FakeDatabase, FakeTables, area
from triage.domain.digests import token_hash
from triage.domain.token import StoredToken
from triage.errors import Conflict


@area("tokens")
class FakeTokenRepository(FakeTables):
    """``TokenRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.tokens: dict[str, StoredToken] = {}
        self.token_ids: dict[bytes, str] = {}  # secret's hash -> token id

    def add(self, token: StoredToken, secret: str) -> None:
        digest = token_hash(secret)
        if token.id in self.tokens or digest in self.token_ids:
            raise Conflict(f"token {token.id!r} already exists")
        operators = self._database.repository("operators", FakeOperatorRepository)
        if operators.get(token.operator_id) is None:  # the table's foreign key
            raise Conflict(f"no operator {token.operator_id!r} for a token")
        # As stored: the scopes' text keeps no order and an empty set reads back as None.
        self.tokens[token.id] = dataclasses.replace(
            token, scopes=token.scopes or None, revoked_at=None
        )
        self.token_ids[digest] = token.id

    def by_secret(self, secret: str) -> StoredToken | None:
        token_id = self.token_ids.get(token_hash(secret))
        return None if token_id is None else self.tokens[token_id]

    def get(self, token_id: str) -> StoredToken | None:
        return self.tokens.get(token_id)

    def all(self, operator_id: str | None = None) -> list[StoredToken]:
        found = [
            t for t in self.tokens.values() if operator_id is None or t.operator_id == operator_id
        ]
        return sorted(found, key=lambda t: (t.operator_id, t.created_at))

    def revoke(self, token_id: str, at: datetime) -> None:
        found = self.tokens.get(token_id)
        if found is not None and found.revoked_at is None:
            self.tokens[token_id] = dataclasses.replace(found, revoked_at=at)
