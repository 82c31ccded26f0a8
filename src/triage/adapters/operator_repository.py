"""Operators and their benches, read from the projections (uow.operators)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Connection, RowMapping, bindparam, select

from triage.adapters.fastsql import Statement
from triage.adapters.rows import operator_from_row
from triage.adapters.tables import operator, operator_bench
from triage.domain.people import Operator

# Read on every authenticated request and every step of the device path (compiled once).
_OPERATOR = Statement(select(operator).where(operator.c.id == bindparam("operator_id")))
_BENCHES = Statement(
    select(operator_bench.c.bench).where(operator_bench.c.operator_id == bindparam("operator_id"))
)


class SqlOperatorRepository:
    """``OperatorRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, operator_id: str) -> Operator | None:
        row = _OPERATOR.first_mapping(self._conn, operator_id=operator_id)
        # A dict by column name: all that operator_from_row reads of a row.
        return None if row is None else operator_from_row(cast(RowMapping, row))

    def all(self) -> list[Operator]:
        rows = self._conn.execute(select(operator).order_by(operator.c.id)).mappings()
        return [operator_from_row(row) for row in rows]

    def benches(self, operator_id: str) -> frozenset[str]:
        return frozenset(bench for (bench,) in _BENCHES.rows(self._conn, operator_id=operator_id))

    def bench_assignments(self) -> dict[str, list[str]]:
        query = select(operator_bench.c.operator_id, operator_bench.c.bench).order_by(
            operator_bench.c.operator_id, operator_bench.c.bench
        )
        assigned: dict[str, list[str]] = {}
        for operator_id, bench in self._conn.execute(query):
            assigned.setdefault(operator_id, []).append(bench)
        return assigned
