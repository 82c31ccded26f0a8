"""Issue 21: the fake repository of witnesses' cosignatures (uow.cosignatures).

Nothing here is projected from entries: like the SQL tables, it holds what the facility keeps
beside its checkpoints (cosignatures, each witness's last attempt)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tests.unit.fakes import ClockedLogStorage, FakeDatabase, FakeTables, area
from triage.services.ports import StoredCosignature, WitnessAttempt


@area("cosignatures")
class FakeCosignatureRepository(FakeTables):
    """``CosignatureRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        # (size, key name, key hash) -> cosignature, in the order stored
        self.stored: dict[tuple[int, str, int], StoredCosignature] = {}
        self.last_attempts: dict[tuple[str, int], WitnessAttempt] = {}

    def add(self, cosignature: StoredCosignature) -> bool:
        key = (cosignature.size, cosignature.key_name, cosignature.key_hash)
        if key in self.stored:
            return False
        self.stored[key] = cosignature
        return True

    def for_size(self, size: int) -> list[StoredCosignature]:
        return [c for c in self.stored.values() if c.size == size]

    def cosigned_sizes(self, at_least: int = 0) -> list[int]:
        return sorted({c.size for c in self.stored.values() if c.size >= at_least}, reverse=True)

    def latest_by(self, key_name: str, key_hash: int) -> StoredCosignature | None:
        mine = [c for c in self.stored.values() if (c.key_name, c.key_hash) == (key_name, key_hash)]
        return max(mine, key=lambda c: c.size, default=None)

    def record_attempt(self, attempt: WitnessAttempt) -> None:
        self.last_attempts[(attempt.key_name, attempt.key_hash)] = attempt

    def attempts(self) -> list[WitnessAttempt]:
        return [self.last_attempts[key] for key in sorted(self.last_attempts)]

    def checkpoint_issued_at(self, sizes: Sequence[int]) -> dict[int, datetime]:
        storage = self._database.storage
        issued = storage.issued_at if isinstance(storage, ClockedLogStorage) else {}
        return {size: issued[size] for size in sizes if size in issued}
