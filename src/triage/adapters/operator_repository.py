"""Operators and their benches, read from the projections (uow.operators)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from triage.adapters.rows import operator_from_row
from triage.adapters.tables import operator, operator_bench
from triage.domain.people import Operator


class SqlOperatorRepository:
    """``OperatorRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, operator_id: str) -> Operator | None:
        row = (
            self._conn.execute(select(operator).where(operator.c.id == operator_id))
            .mappings()
            .first()
        )
        return None if row is None else operator_from_row(row)

    def all(self) -> list[Operator]:
        rows = self._conn.execute(select(operator).order_by(operator.c.id)).mappings()
        return [operator_from_row(row) for row in rows]

    def benches(self, operator_id: str) -> frozenset[str]:
        query = select(operator_bench.c.bench).where(operator_bench.c.operator_id == operator_id)
        return frozenset(self._conn.execute(query).scalars())

    def bench_assignments(self) -> dict[str, list[str]]:
        query = select(operator_bench.c.operator_id, operator_bench.c.bench).order_by(
            operator_bench.c.operator_id, operator_bench.c.bench
        )
        assigned: dict[str, list[str]] = {}
        for operator_id, bench in self._conn.execute(query):
            assigned.setdefault(operator_id, []).append(bench)
        return assigned
