"""Issue 21: witnesses' cosignatures on the facility's checkpoints and the last attempt per
witness (uow.cosignatures), beside ``ledger_checkpoint``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, RowMapping, select

from triage.adapters.fastsql import dialect_insert
from triage.adapters.rows import utc
from triage.adapters.tables import ledger_checkpoint, ledger_cosignature, witness_attempt
from triage.services.ports import StoredCosignature, WitnessAttempt

_C = ledger_cosignature
_A = witness_attempt


def _cosignature(r: RowMapping) -> StoredCosignature:
    return StoredCosignature(
        size=int(r["size"]),
        key_name=r["key_name"],
        key_hash=int(r["key_hash"]),
        cosigner_key=r["cosigner_key"],
        timestamp=int(r["timestamp"]),
        line=r["line"],
        gathered_at=utc(r["gathered_at"]),
    )


class SqlCosignatureRepository:
    """``CosignatureRepository`` on the unit of work's connection, for one facility's log."""

    def __init__(self, conn: Connection, log_id: str) -> None:
        self._conn = conn
        self._log_id = log_id

    def add(self, cosignature: StoredCosignature) -> bool:
        added = self._conn.execute(
            dialect_insert(self._conn.dialect.name, _C)
            .values(
                log_id=self._log_id,
                size=cosignature.size,
                key_name=cosignature.key_name,
                key_hash=cosignature.key_hash,
                cosigner_key=cosignature.cosigner_key,
                timestamp=cosignature.timestamp,
                line=cosignature.line,
                gathered_at=cosignature.gathered_at,
            )
            .on_conflict_do_nothing()
            .returning(_C.c.size)
        )
        return added.first() is not None

    def for_size(self, size: int) -> list[StoredCosignature]:
        query = (
            select(_C)
            .where(_C.c.log_id == self._log_id, _C.c.size == size)
            .order_by(_C.c.gathered_at, _C.c.key_name, _C.c.key_hash)
        )
        return [_cosignature(r) for r in self._conn.execute(query).mappings()]

    def cosigned_sizes(self, at_least: int = 0) -> list[int]:
        query = (
            select(_C.c.size)
            .where(_C.c.log_id == self._log_id, _C.c.size >= at_least)
            .group_by(_C.c.size)
            .order_by(_C.c.size.desc())
        )
        return [int(size) for size in self._conn.execute(query).scalars()]

    def latest_by(self, key_name: str, key_hash: int) -> StoredCosignature | None:
        query = (
            select(_C)
            .where(
                _C.c.log_id == self._log_id, _C.c.key_name == key_name, _C.c.key_hash == key_hash
            )
            .order_by(_C.c.size.desc())
            .limit(1)
        )
        row = self._conn.execute(query).mappings().first()
        return None if row is None else _cosignature(row)

    def record_attempt(self, attempt: WitnessAttempt) -> None:
        values = {
            "attempted_at": attempt.at,
            "size": attempt.size,
            "outcome": attempt.outcome,
            "detail": attempt.detail,
            "witness_size": attempt.witness_size,
        }
        statement = dialect_insert(self._conn.dialect.name, _A).values(
            log_id=self._log_id, key_name=attempt.key_name, key_hash=attempt.key_hash, **values
        )
        self._conn.execute(
            statement.on_conflict_do_update(
                index_elements=["log_id", "key_name", "key_hash"], set_=values
            )
        )

    def attempts(self) -> list[WitnessAttempt]:
        query = select(_A).where(_A.c.log_id == self._log_id).order_by(_A.c.key_name, _A.c.key_hash)
        return [
            WitnessAttempt(
                key_name=r["key_name"],
                key_hash=int(r["key_hash"]),
                at=utc(r["attempted_at"]),
                size=int(r["size"]),
                outcome=r["outcome"],
                detail=r["detail"],
                witness_size=None if r["witness_size"] is None else int(r["witness_size"]),
            )
            for r in self._conn.execute(query).mappings()
        ]

    def checkpoint_issued_at(self, sizes: Sequence[int]) -> dict[int, datetime]:
        if not sizes:
            return {}
        query = select(ledger_checkpoint.c.size, ledger_checkpoint.c.issued_at).where(
            ledger_checkpoint.c.log_id == self._log_id,
            ledger_checkpoint.c.size.in_(sorted(set(sizes))),
        )
        return {int(size): utc(at) for size, at in self._conn.execute(query)}
