"""SQL implementation of ``SealRepository``: the seal register and its counts."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, Table, and_, bindparam, case, func, select

from triage.adapters import projector
from triage.adapters.days import utc_day
from triage.adapters.fastsql import Statement
from triage.adapters.rows import utc
from triage.adapters.tables import (
    seal,
    seal_batch,
    seal_discrepancy,
    seal_event,
    seal_reconciliation,
    seal_stocktake,
    seal_tally,
)
from triage.domain.seal_register import (
    FittedCount,
    SealBatch,
    SealEvent,
    Stocktake,
    StoredReconciliation,
    UnexpectedSeal,
)
from triage.domain.seals import (
    HOLDING_FIGURES,
    MOVEMENT_FIGURES,
    Discrepancy,
    DiscrepancyKind,
    Move,
    Scope,
    ScopeKind,
    Seal,
    SealStatus,
    holding_figure,
    movement_figure,
)

_CHUNK = 500

# Read when a device is sealed (compiled once: fastsql).
_SEAL = Statement(select(seal).where(seal.c.serial == bindparam("serial")))


def seal_from_row(row: Mapping[Any, Any]) -> Seal:
    return Seal(
        serial=row["serial"],
        batch_id=row["batch_id"],
        status=SealStatus(row["status"]),
        store=row["store"],
        holder=row["holder"],
        device_id=row["device_id"],
        job_id=row["job_id"],
        issued_at=utc(row["issued_at"]),
        status_at=utc(row["status_at"]),
    )


def _discrepancy(row: RowMapping) -> Discrepancy:
    return Discrepancy(
        id=row["id"],
        kind=DiscrepancyKind(row["kind"]),
        serial=row["serial"],
        batch_id=row["batch_id"],
        store=row["store"],
        operator_id=row["operator_id"],
        device_id=row["device_id"],
        detail=row["detail"],
        status=row["status"],
        raised_by=row["raised_by"],
        raised_at=utc(row["raised_at"]),
        resolved_by=row["resolved_by"],
        resolution=row["resolution"],
        resolved_at=utc(row["resolved_at"]),
    )


def _batch(row: RowMapping) -> SealBatch:
    return SealBatch(
        id=row["id"],
        supplier=row["supplier"],
        delivery_reference=row["delivery_reference"],
        seal_class=row["seal_class"],
        class_description=row["class_description"],
        store=row["store"],
        size=row["size"],
        first_serial=row["first_serial"],
        last_serial=row["last_serial"],
        received_by=row["received_by"],
        received_at=utc(row["received_at"]),
    )


def _event(row: RowMapping) -> SealEvent:
    return SealEvent(
        id=row["id"],
        serial=row["serial"],
        batch_id=row["batch_id"],
        kind=row["kind"],
        store=row["store"],
        operator_id=row["operator_id"],
        device_id=row["device_id"],
        actor=row["actor"],
        at=utc(row["at"]),
        detail=row["detail"],
    )


class SqlSealRepository:
    """Reads of the seal tables within the unit of work's transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def _page(self, query: Select[Any], offset: int, limit: int) -> tuple[list[RowMapping], int]:
        total = self._conn.execute(
            select(func.count()).select_from(query.order_by(None).subquery())
        ).scalar_one()
        rows = self._conn.execute(query.offset(offset).limit(limit)).mappings().all()
        return list(rows), int(total)

    def batch(self, batch_id: str) -> SealBatch | None:
        row = self._by_id(seal_batch, batch_id)
        return None if row is None else _batch(row)

    def batches(self, offset: int, limit: int) -> tuple[list[SealBatch], int]:
        rows, total = self._page(
            select(seal_batch).order_by(seal_batch.c.received_at, seal_batch.c.id),
            offset,
            limit,
        )
        return [_batch(row) for row in rows], total

    def clashes(self, serials: Sequence[str], span: tuple[str, str] | None) -> dict[str, str]:
        wanted = set(serials)
        found: dict[str, str] = {}
        if span is not None:
            # A range shares its prefix and width: the serials between its ends, as text of the
            # same length, are the candidates.
            query = select(seal.c.serial, seal.c.batch_id).where(
                seal.c.serial.between(span[0], span[1]),
                func.length(seal.c.serial) == len(span[0]),
            )
            found.update((s, b) for s, b in self._conn.execute(query) if s in wanted)
            return found
        ordered = sorted(wanted)
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            query = select(seal.c.serial, seal.c.batch_id).where(seal.c.serial.in_(chunk))
            found.update((s, b) for s, b in self._conn.execute(query))
        return found

    def seal(self, serial: str) -> Seal | None:
        row = _SEAL.first_mapping(self._conn, serial=serial)
        if row is None:
            return None
        # A step that checks a seal moves it next: its handler need not read it again.
        projector.give(self._conn, seal, serial, (row["batch_id"], row["status"]))
        return seal_from_row(row)

    def seals_by_serial(self, serials: Sequence[str]) -> dict[str, Seal]:
        ordered = sorted(set(serials))
        found: dict[str, Seal] = {}
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            rows = self._conn.execute(select(seal).where(seal.c.serial.in_(chunk))).mappings()
            found.update((row["serial"], seal_from_row(row)) for row in rows)
        return found

    def seals(
        self,
        status: SealStatus | None,
        store: str | None,
        holder: str | None,
        batch_id: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[Seal], int]:
        where = []
        if status is not None:
            where.append(seal.c.status == status.value)
        if store is not None:
            where.append(seal.c.store == store)
        if holder is not None:
            where.append(seal.c.holder == holder)
        if batch_id is not None:
            where.append(seal.c.batch_id == batch_id)
        rows, total = self._page(select(seal).where(*where).order_by(seal.c.serial), offset, limit)
        return [seal_from_row(row) for row in rows], total

    def in_stock(self, store: str) -> list[str]:
        query = select(seal.c.serial).where(
            seal.c.status == SealStatus.IN_STOCK.value, seal.c.store == store
        )
        return sorted(self._conn.execute(query).scalars())

    def events(self, serial: str) -> list[SealEvent]:
        rows = self._conn.execute(
            select(seal_event).where(seal_event.c.serial == serial).order_by(seal_event.c.id)
        ).mappings()
        return [_event(row) for row in rows]

    def figures(self, scope: Scope) -> dict[str, int]:
        figures = dict.fromkeys(MOVEMENT_FIGURES + HOLDING_FIGURES, 0)
        held = seal_event.c.operator_id.is_not(None)
        moves = select(
            seal_event.c.kind, case((held, True), else_=False).label("held"), func.count()
        ).group_by(seal_event.c.kind, "held")
        holdings = select(seal.c.status, func.count()).group_by(seal.c.status)
        match scope.kind:
            case ScopeKind.OPERATOR:
                moves = moves.where(seal_event.c.operator_id == scope.id)
                holdings = holdings.where(
                    and_(seal.c.holder == scope.id, seal.c.status == SealStatus.ISSUED.value)
                )
            case ScopeKind.STORE:
                moves = moves.where(seal_event.c.store == scope.id)
                holdings = holdings.where(
                    and_(seal.c.store == scope.id, seal.c.status == SealStatus.IN_STOCK.value)
                )
            case ScopeKind.BATCH:
                moves = moves.where(seal_event.c.batch_id == scope.id)
                holdings = holdings.where(seal.c.batch_id == scope.id)
        for kind, was_held, count in self._conn.execute(moves):
            figures[movement_figure(Move(kind), bool(was_held))] += int(count)
        for status, count in self._conn.execute(holdings):
            figures[holding_figure(SealStatus(status))] += int(count)
        return figures

    def running_figures(self) -> dict[str, int]:
        figures = dict.fromkeys(MOVEMENT_FIGURES + HOLDING_FIGURES, 0)
        for figure, count in self._conn.execute(select(seal_tally.c.figure, seal_tally.c.count)):
            figures[figure] = int(count)
        return figures

    def discrepancy(self, discrepancy_id: str) -> Discrepancy | None:
        row = self._by_id(seal_discrepancy, discrepancy_id)
        return None if row is None else _discrepancy(row)

    def discrepancies(
        self, status: str | None, offset: int, limit: int
    ) -> tuple[list[Discrepancy], int]:
        where = [] if status is None else [seal_discrepancy.c.status == status]
        rows, total = self._page(
            select(seal_discrepancy)
            .where(*where)
            .order_by(seal_discrepancy.c.raised_at, seal_discrepancy.c.serial),
            offset,
            limit,
        )
        return [_discrepancy(row) for row in rows], total

    def _by_id(self, table: Table, row_id: str) -> RowMapping | None:
        return self._conn.execute(select(table).where(table.c.id == row_id)).mappings().first()

    def stocktake(self, stocktake_id: str) -> Stocktake | None:
        row = self._by_id(seal_stocktake, stocktake_id)
        return None if row is None else _stocktake(row)

    def stocktakes(self, offset: int, limit: int) -> tuple[list[Stocktake], int]:
        rows, total = self._page(
            select(seal_stocktake).order_by(seal_stocktake.c.at, seal_stocktake.c.id),
            offset,
            limit,
        )
        return [_stocktake(row) for row in rows], total

    def reconciliation(self, reconciliation_id: str) -> StoredReconciliation | None:
        row = self._by_id(seal_reconciliation, reconciliation_id)
        return None if row is None else _reconciliation(row)

    def reconciliations(self, offset: int, limit: int) -> tuple[list[StoredReconciliation], int]:
        rows, total = self._page(
            select(seal_reconciliation).order_by(
                seal_reconciliation.c.at, seal_reconciliation.c.id
            ),
            offset,
            limit,
        )
        return [_reconciliation(row) for row in rows], total

    def fitted_per_day(self, since: datetime, until: datetime) -> list[FittedCount]:
        day = utc_day(seal_event.c.at, since, until).label("day")
        fitted = (
            select(day, seal_event.c.operator_id)
            .where(
                seal_event.c.kind == Move.FITTED.value,
                seal_event.c.at >= since,
                seal_event.c.at < until,
            )
            .subquery()
        )
        rows = self._conn.execute(
            select(fitted.c.day, fitted.c.operator_id, func.count()).group_by(
                fitted.c.day, fitted.c.operator_id
            )
        )
        counts = sorted((d, operator_id or "", int(n)) for d, operator_id, n in rows)
        return [FittedCount(d, operator_id, n) for d, operator_id, n in counts]

    def issued_before(self, before: datetime) -> list[Seal]:
        rows = self._conn.execute(
            select(seal)
            .where(seal.c.status == SealStatus.ISSUED.value, seal.c.issued_at < before)
            .order_by(seal.c.issued_at, seal.c.serial)
        ).mappings()
        return [seal_from_row(row) for row in rows]


def _stocktake(row: RowMapping) -> Stocktake:
    return Stocktake(
        id=row["id"],
        store=row["store"],
        counted_by=row["counted_by"],
        at=utc(row["at"]),
        expected=row["expected"],
        counted=row["counted"],
        missing=tuple(json.loads(row["missing"])),
        unexpected=tuple(UnexpectedSeal(s, known) for s, known in json.loads(row["unexpected"])),
    )


def _reconciliation(row: RowMapping) -> StoredReconciliation:
    return StoredReconciliation(
        id=row["id"],
        scope=row["scope"],
        scope_id=row["scope_id"],
        balanced=bool(row["balanced"]),
        open_discrepancies=row["open_discrepancies"],
        result=json.loads(row["result"]),
        recorded_by=row["recorded_by"],
        at=utc(row["at"]),
    )
