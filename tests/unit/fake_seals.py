"""The seal register's fake repository (uow.seals).

It keeps what the seal tables keep: batches, seals as they are now, every step of every seal
(numbered 1, 2, ... as the ``seal_event`` table numbers them), discrepancies, stocktakes and
stored reconciliations. Each ``seal.*`` entry changes them as ``adapters/projector_seals.py``
changes the tables; a step of a seal the register does not hold (a seal fitted before the
register existed) changes nothing here.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from tests.unit.fakes import FakeDatabase, FakeTables, area, projects
from triage.domain.seal_register import (
    FittedCount,
    SealBatch,
    SealEvent,
    Stocktake,
    StoredReconciliation,
    UnexpectedSeal,
)
from triage.domain.seals import (
    Discrepancy,
    DiscrepancyKind,
    Move,
    Movement,
    Scope,
    ScopeKind,
    Seal,
    SealStatus,
    StocktakeResult,
    expand_range,
    tally,
)
from triage.ledger.entry import Entry

T = TypeVar("T")


def _page(rows: list[T], offset: int, limit: int) -> tuple[list[T], int]:
    return rows[offset : offset + limit], len(rows)


@area("seals")
class FakeSealRepository(FakeTables):
    """``SealRepository``, in memory."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self._batches: dict[str, SealBatch] = {}
        self._seals: dict[str, Seal] = {}
        self._events: list[SealEvent] = []
        self._discrepancies: dict[str, Discrepancy] = {}
        self._stocktakes: dict[str, Stocktake] = {}
        self._reconciliations: dict[str, StoredReconciliation] = {}

    # -- reads (SealRepository) -----------------------------------------------------------------

    def batch(self, batch_id: str) -> SealBatch | None:
        return self._batches.get(batch_id)

    def batches(self, offset: int, limit: int) -> tuple[list[SealBatch], int]:
        ordered = sorted(self._batches.values(), key=lambda b: (b.received_at, b.id))
        return _page(ordered, offset, limit)

    def clashes(self, serials: Sequence[str], span: tuple[str, str] | None) -> dict[str, str]:
        # ``span`` only narrows the SQL search; the answer is the same without it.
        return {s: self._seals[s].batch_id for s in set(serials) if s in self._seals}

    def seal(self, serial: str) -> Seal | None:
        return self._seals.get(serial)

    def seals_by_serial(self, serials: Sequence[str]) -> dict[str, Seal]:
        return {s: self._seals[s] for s in set(serials) if s in self._seals}

    def seals(
        self,
        status: SealStatus | None,
        store: str | None,
        holder: str | None,
        batch_id: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[Seal], int]:
        chosen = [
            s
            for _, s in sorted(self._seals.items())
            if (status is None or s.status is status)
            and (store is None or s.store == store)
            and (holder is None or s.holder == holder)
            and (batch_id is None or s.batch_id == batch_id)
        ]
        return _page(chosen, offset, limit)

    def in_stock(self, store: str) -> list[str]:
        return sorted(
            s.serial
            for s in self._seals.values()
            if s.status is SealStatus.IN_STOCK and s.store == store
        )

    def events(self, serial: str) -> list[SealEvent]:
        return [e for e in self._events if e.serial == serial]

    def figures(self, scope: Scope) -> dict[str, int]:
        # The domain's reference count over the same steps and seals the SQL groups.
        movements = [
            Movement(e.serial, e.batch_id, Move(e.kind), e.store, e.operator_id)
            for e in self._events
        ]
        return tally(movements, self._seals.values(), scope)

    def running_figures(self) -> dict[str, int]:
        # What the tally the projector keeps would hold: the same count, kept as it goes.
        return self.figures(Scope(ScopeKind.FACILITY))

    def discrepancy(self, discrepancy_id: str) -> Discrepancy | None:
        return self._discrepancies.get(discrepancy_id)

    def discrepancies(
        self, status: str | None, offset: int, limit: int
    ) -> tuple[list[Discrepancy], int]:
        chosen = sorted(
            (d for d in self._discrepancies.values() if status is None or d.status == status),
            key=lambda d: (d.raised_at, d.serial),
        )
        return _page(chosen, offset, limit)

    def stocktake(self, stocktake_id: str) -> Stocktake | None:
        return self._stocktakes.get(stocktake_id)

    def stocktakes(self, offset: int, limit: int) -> tuple[list[Stocktake], int]:
        ordered = sorted(self._stocktakes.values(), key=lambda s: (s.at, s.id))
        return _page(ordered, offset, limit)

    def reconciliation(self, reconciliation_id: str) -> StoredReconciliation | None:
        return self._reconciliations.get(reconciliation_id)

    def reconciliations(self, offset: int, limit: int) -> tuple[list[StoredReconciliation], int]:
        ordered = sorted(self._reconciliations.values(), key=lambda r: (r.at, r.id))
        return _page(ordered, offset, limit)

    def fitted_per_day(self, since: datetime, until: datetime) -> list[FittedCount]:
        counts: dict[tuple[str, str], int] = {}
        for e in self._events:
            if e.kind == Move.FITTED.value and since <= e.at < until:
                key = (e.at.astimezone(UTC).date().isoformat(), e.operator_id or "")
                counts[key] = counts.get(key, 0) + 1
        return [FittedCount(day, who, n) for (day, who), n in sorted(counts.items())]

    def issued_before(self, before: datetime) -> list[Seal]:
        held = [
            s
            for s in self._seals.values()
            if s.status is SealStatus.ISSUED and s.issued_at is not None and s.issued_at < before
        ]
        return sorted(held, key=lambda s: (s.issued_at or before, s.serial))

    # -- projections ----------------------------------------------------------------------------

    def _add_event(
        self,
        entry: Entry,
        serial: str,
        batch_id: str,
        step: Move,
        *,
        store: str | None = None,
        operator_id: str | None = None,
        device_id: str | None = None,
        detail: str | None = None,
    ) -> None:
        self._events.append(
            SealEvent(
                id=len(self._events) + 1,
                serial=serial,
                batch_id=batch_id,
                kind=step.value,
                store=store,
                operator_id=operator_id,
                device_id=device_id,
                actor=entry.actor.id,
                at=entry.at,
                detail=detail,
            )
        )

    def _raise(
        self,
        entry: Entry,
        discrepancy_id: str,
        kind: DiscrepancyKind,
        serial: str,
        batch_id: str | None,
        detail: str,
        *,
        store: str | None = None,
        operator_id: str | None = None,
        device_id: str | None = None,
    ) -> None:
        self._discrepancies[discrepancy_id] = Discrepancy(
            id=discrepancy_id,
            kind=kind,
            serial=serial,
            batch_id=batch_id,
            store=store,
            operator_id=operator_id,
            device_id=device_id,
            detail=detail,
            status="open",
            raised_by=entry.actor.id,
            raised_at=entry.at,
        )

    @projects("seal.batch_received")
    def _batch_received(self, entry: Entry, index: int) -> None:
        data = entry.data
        serials = expand_range(data["first"], data["last"]) if "first" in data else data["serials"]
        batch_id, store = data["batch_id"], data["store"]
        self._batches[batch_id] = SealBatch(
            id=batch_id,
            supplier=data["supplier"],
            delivery_reference=data["delivery_reference"],
            seal_class=data["seal_class"],
            class_description=data.get("class_description"),
            store=store,
            size=len(serials),
            first_serial=data.get("first"),
            last_serial=data.get("last"),
            received_by=entry.actor.id,
            received_at=entry.at,
        )
        for serial in serials:
            self._seals[serial] = Seal(
                serial=serial,
                batch_id=batch_id,
                status=SealStatus.IN_STOCK,
                store=store,
                holder=None,
                device_id=None,
                job_id=None,
                issued_at=None,
                status_at=entry.at,
            )
            self._add_event(entry, serial, batch_id, Move.RECEIVED, store=store)

    def _move(
        self,
        entry: Entry,
        step: Move,
        status: SealStatus,
        changes: dict[str, Any],
        *,
        store: str | None = None,
        operator_id: str | None = None,
        device_id: str | None = None,
        detail: str | None = None,
        discrepancy: tuple[str, DiscrepancyKind] | None = None,
    ) -> None:
        """One step of the seal the entry names: its event, its new state, and the
        discrepancy it opens, if any. A seal not in the register takes no step."""
        serial = entry.data["serial"]
        found = self._seals.get(serial)
        if found is None:
            return
        where = {"store": store, "operator_id": operator_id, "device_id": device_id}
        self._add_event(entry, serial, found.batch_id, step, detail=detail, **where)
        self._seals[serial] = dataclasses.replace(
            found, status=status, status_at=entry.at, **changes
        )
        if discrepancy is not None:
            discrepancy_id, kind = discrepancy
            self._raise(entry, discrepancy_id, kind, serial, found.batch_id, detail or "", **where)

    @projects("seal.issued")
    def _issued(self, entry: Entry, index: int) -> None:
        operator_id = entry.data["operator_id"]
        self._move(
            entry,
            Move.ISSUED,
            SealStatus.ISSUED,
            {"holder": operator_id, "issued_at": entry.at},
            store=entry.data["store"],
            operator_id=operator_id,
        )

    @projects("seal.returned")
    def _returned(self, entry: Entry, index: int) -> None:
        # The holder stays as it was: the seal is "in stock", last issued to them.
        store = entry.data["store"]
        self._move(
            entry,
            Move.RETURNED,
            SealStatus.IN_STOCK,
            {"store": store},
            store=store,
            operator_id=entry.data["operator_id"],
        )

    @projects("seal.fitted")
    def _fitted(self, entry: Entry, index: int) -> None:
        # The job's part of fitting (its seal serial) is the workflow tables' projection.
        device_id = entry.subject.id
        self._move(
            entry,
            Move.FITTED,
            SealStatus.FITTED,
            {"device_id": device_id, "job_id": entry.data["job_id"]},
            operator_id=entry.actor.id,
            device_id=device_id,
        )

    @projects("seal.voided", "seal.lost")
    def _voided_or_lost(self, entry: Entry, index: int) -> None:
        data = entry.data
        lost = entry.type == "seal.lost"
        self._move(
            entry,
            Move.LOST if lost else Move.VOIDED,
            SealStatus.LOST if lost else SealStatus.VOID,
            {},
            store=data.get("store"),
            operator_id=data.get("operator_id"),
            detail=data["reason"],
            discrepancy=(data["discrepancy_id"], DiscrepancyKind.LOST) if lost else None,
        )

    @projects("seal.broken")
    def _broken(self, entry: Entry, index: int) -> None:
        # Found broken before dispatch, the job goes back too: the workflow tables' part.
        self._move(
            entry,
            Move.BROKEN,
            SealStatus.BROKEN,
            {},
            device_id=entry.subject.id,
            detail=entry.data["detail"],
            discrepancy=(entry.data["discrepancy_id"], DiscrepancyKind.BROKEN),
        )

    @projects("seal.stocktake")
    def _stocktake(self, entry: Entry, index: int) -> None:
        data = entry.data
        stocktake_id, store = data["stocktake_id"], data["store"]
        result = StocktakeResult(
            store,
            data["expected"],
            data["counted"],
            list(data["missing"]),
            [(s, known) for s, known in data["unexpected"]],
        )
        self._stocktakes[stocktake_id] = Stocktake(
            id=stocktake_id,
            store=store,
            counted_by=entry.actor.id,
            at=entry.at,
            expected=result.expected,
            counted=result.counted,
            missing=tuple(result.missing),
            unexpected=tuple(UnexpectedSeal(s, known) for s, known in result.unexpected),
        )
        ids = result.discrepancy_ids(stocktake_id)

        def batch_of(serial: str) -> str | None:
            found = self._seals.get(serial)
            return None if found is None else found.batch_id

        for serial in result.missing:
            self._raise(
                entry,
                ids[f"{DiscrepancyKind.MISSING}:{serial}"],
                DiscrepancyKind.MISSING,
                serial,
                batch_of(serial),
                f"in stock at {store} but not found at the stocktake",
                store=store,
            )
        for serial, known in result.unexpected:
            self._raise(
                entry,
                ids[f"{DiscrepancyKind.UNEXPECTED}:{serial}"],
                DiscrepancyKind.UNEXPECTED,
                serial,
                batch_of(serial),
                f"found at the stocktake of {store}; the register says: {known}",
                store=store,
            )

    @projects("seal.discrepancy_resolved")
    def _resolved(self, entry: Entry, index: int) -> None:
        discrepancy_id = entry.data["discrepancy_id"]
        found = self._discrepancies.get(discrepancy_id)
        if found is None:
            return
        self._discrepancies[discrepancy_id] = dataclasses.replace(
            found,
            status="resolved",
            resolved_by=entry.actor.id,
            resolution=entry.data["resolution"],
            resolved_at=entry.at,
        )

    @projects("seal.reconciled")
    def _reconciled(self, entry: Entry, index: int) -> None:
        reconciliation_id = entry.data["reconciliation_id"]
        # Kept as the table keeps it: JSON text read back, so a caller gets its own copy.
        result = json.loads(json.dumps(entry.data["result"]))
        self._reconciliations[reconciliation_id] = StoredReconciliation(
            id=reconciliation_id,
            scope=result["scope"]["kind"],
            scope_id=result["scope"]["id"],
            balanced=result["balanced"],
            open_discrepancies=len(result["discrepancies"]),
            result=result,
            recorded_by=entry.actor.id,
            at=entry.at,
        )
