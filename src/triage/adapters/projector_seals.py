"""Projection handlers for the seal register: batches, seals, their steps, discrepancies,
stocktakes and stored reconciliations.

Each step of a seal updates its row and adds a ``seal_event`` row (numbered from the table, as
``activity`` is), so that the reconciliation can count movements and holdings separately. A
``seal.fitted`` entry for a serial that is not in the register (a seal fitted before the
register existed) moves nothing here; the job's own tables still record it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select

from triage.adapters import fastsql
from triage.adapters.projector import (
    Insert,
    Op,
    Run,
    add_counts,
    canonical,
    handles,
    insert_numbered,
    job_state,
    next_id,
    set_values,
    take,
)
from triage.adapters.tables import (
    seal,
    seal_batch,
    seal_discrepancy,
    seal_event,
    seal_reconciliation,
    seal_stocktake,
    seal_tally,
)
from triage.domain.seals import (
    DiscrepancyKind,
    Move,
    SealStatus,
    StocktakeResult,
    expand_range,
    holding_figure,
    movement_figure,
)
from triage.ledger.entry import Entry


def _event(
    entry: Entry,
    serial: str,
    batch_id: str,
    step: Move,
    store: str | None = None,
    operator_id: str | None = None,
    device_id: str | None = None,
    detail: str | None = None,
) -> dict[str, Any]:
    """A ``seal_event`` row but its number."""
    return {
        "serial": serial,
        "batch_id": batch_id,
        "kind": step.value,
        "store": store,
        "operator_id": operator_id,
        "device_id": device_id,
        "actor": entry.actor.id,
        "at": entry.at,
        "detail": detail,
    }


def _tally(conn: Connection, changes: Counter[str]) -> None:
    """Move the facility's running seal figures by ``changes`` (figure: how many more). A
    figure of nought has no row, however it came to be nought (a replay agrees row by row)."""
    moved = {figure: more for figure, more in sorted(changes.items()) if more != 0}
    fewer = {figure for figure, more in moved.items() if more < 0}
    rows = [{"figure": figure, "count": more} for figure, more in moved.items()]
    for figure, count in add_counts(conn, seal_tally, rows):
        if count == 0 and figure in fewer:
            _TALLY_DROP_NOUGHT.run(conn, figure=figure)


_TALLY_DROP_NOUGHT = fastsql.Statement(
    delete(seal_tally).where(seal_tally.c.figure == bindparam("figure"), seal_tally.c.count == 0)
)
_SEAL_STATE = fastsql.Statement(
    select(seal.c.batch_id, seal.c.status).where(seal.c.serial == bindparam("serial"))
)


def _discrepancy_row(
    entry: Entry,
    discrepancy_id: str,
    kind: DiscrepancyKind,
    serial: str,
    batch_id: str | None,
    detail: str,
    **where: str | None,
) -> dict[str, Any]:
    return {
        "id": discrepancy_id,
        "kind": kind.value,
        "serial": serial,
        "batch_id": batch_id,
        "store": where.get("store"),
        "operator_id": where.get("operator_id"),
        "device_id": where.get("device_id"),
        "detail": detail,
        "status": "open",
        "stocktake_id": where.get("stocktake_id"),
        "raised_by": entry.actor.id,
        "raised_at": entry.at,
        "resolved_by": None,
        "resolution": None,
        "resolved_at": None,
    }


@handles("seal.batch_received")
def _batch_received(entry: Entry) -> list[Op]:
    data = entry.data
    serials: Sequence[str] = (
        expand_range(data["first"], data["last"]) if "first" in data else data["serials"]
    )
    batch_id, store = data["batch_id"], data["store"]
    batch_row = {
        "id": batch_id,
        "supplier": data["supplier"],
        "delivery_reference": data["delivery_reference"],
        "seal_class": data["seal_class"],
        "class_description": data.get("class_description"),
        "store": store,
        "size": len(serials),
        "first_serial": data.get("first"),
        "last_serial": data.get("last"),
        "received_by": entry.actor.id,
        "received_at": entry.at,
    }

    def run(conn: Connection) -> None:
        conn.execute(insert(seal_batch).values(**batch_row))
        conn.execute(
            insert(seal),
            [
                {
                    "serial": serial,
                    "batch_id": batch_id,
                    "status": SealStatus.IN_STOCK.value,
                    "store": store,
                    "holder": None,
                    "device_id": None,
                    "job_id": None,
                    "issued_at": None,
                    "status_at": entry.at,
                }
                for serial in serials
            ],
        )
        first_id = next_id(conn, seal_event.c.id)
        conn.execute(
            insert(seal_event),
            [
                {"id": first_id + i, **_event(entry, serial, batch_id, Move.RECEIVED, store=store)}
                for i, serial in enumerate(serials)
            ],
        )
        received = Counter({movement_figure(Move.RECEIVED, False): len(serials)})
        _tally(conn, received + Counter({holding_figure(SealStatus.IN_STOCK): len(serials)}))

    return [Run(run)]


def _move(
    entry: Entry,
    serial: str,
    step: Move,
    status: SealStatus,
    seal_values: dict[str, Any],
    *,
    store: str | None = None,
    operator_id: str | None = None,
    device_id: str | None = None,
    detail: str | None = None,
    discrepancy: tuple[str, DiscrepancyKind] | None = None,
) -> Run:
    """One step of one seal: its event, its new state, and any discrepancy it opens."""

    def run(conn: Connection) -> None:
        found = take(conn, seal, serial) or _SEAL_STATE.first(conn, serial=serial)
        if found is None:
            return
        batch_id, was = found
        event = _event(entry, serial, batch_id, step, store, operator_id, device_id, detail)
        insert_numbered(conn, seal_event, event)
        fastsql.update_where(
            conn,
            seal,
            {"serial": serial},
            {"status": status.value, "status_at": entry.at, **seal_values},
        )
        moved = Counter({movement_figure(step, operator_id is not None): 1})
        moved[holding_figure(SealStatus(was))] -= 1
        moved[holding_figure(status)] += 1
        _tally(conn, moved)
        if discrepancy is not None:
            discrepancy_id, kind = discrepancy
            row = _discrepancy_row(
                entry,
                discrepancy_id,
                kind,
                serial,
                batch_id,
                detail or "",
                store=store,
                operator_id=operator_id,
                device_id=device_id,
            )
            conn.execute(insert(seal_discrepancy).values(**row))

    return Run(run)


@handles("seal.issued")
def _issued(entry: Entry) -> list[Op]:
    data = entry.data
    operator_id = data["operator_id"]
    held = {"holder": operator_id, "issued_at": entry.at}
    return [
        _move(
            entry,
            data["serial"],
            Move.ISSUED,
            SealStatus.ISSUED,
            held,
            store=data["store"],
            operator_id=operator_id,
        )
    ]


@handles("seal.returned")
def _returned(entry: Entry) -> list[Op]:
    data = entry.data
    return [
        _move(
            entry,
            data["serial"],
            Move.RETURNED,
            SealStatus.IN_STOCK,
            {"store": data["store"]},
            store=data["store"],
            operator_id=data["operator_id"],
        )
    ]


@handles("seal.fitted")
def _fitted(entry: Entry) -> list[Op]:
    data = entry.data
    device_id = entry.subject.id
    return [
        _move(
            entry,
            data["serial"],
            Move.FITTED,
            SealStatus.FITTED,
            {"device_id": device_id, "job_id": data["job_id"]},
            operator_id=entry.actor.id,
            device_id=device_id,
        )
    ]


@handles("seal.voided", "seal.lost")
def _voided_or_lost(entry: Entry) -> list[Op]:
    data = entry.data
    lost = entry.type == "seal.lost"
    return [
        _move(
            entry,
            data["serial"],
            Move.LOST if lost else Move.VOIDED,
            SealStatus.LOST if lost else SealStatus.VOID,
            {},
            store=data.get("store"),
            operator_id=data.get("operator_id"),
            detail=data["reason"],
            discrepancy=(data["discrepancy_id"], DiscrepancyKind.LOST) if lost else None,
        )
    ]


@handles("seal.broken")
def _broken(entry: Entry) -> list[Op]:
    data = entry.data
    ops: list[Op] = [
        _move(
            entry,
            data["serial"],
            Move.BROKEN,
            SealStatus.BROKEN,
            {},
            device_id=entry.subject.id,
            detail=data["detail"],
            discrepancy=(data["discrepancy_id"], DiscrepancyKind.BROKEN),
        )
    ]
    if "state" in data:
        # Found broken before dispatch: the job goes back for another reset and a new seal.
        ops.append(job_state(entry, seal_serial=None))
    return ops


@handles("seal.stocktake")
def _stocktake(entry: Entry) -> list[Op]:
    data = entry.data
    stocktake_id, store = data["stocktake_id"], data["store"]
    result = StocktakeResult(
        store,
        data["expected"],
        data["counted"],
        list(data["missing"]),
        [(s, known) for s, known in data["unexpected"]],
    )
    ids = result.discrepancy_ids(stocktake_id)
    row = {
        "id": stocktake_id,
        "store": store,
        "counted_by": entry.actor.id,
        "at": entry.at,
        "expected": result.expected,
        "counted": result.counted,
        "missing": canonical(result.missing),
        "unexpected": canonical([list(pair) for pair in result.unexpected]),
    }

    def run(conn: Connection) -> None:
        conn.execute(insert(seal_stocktake).values(**row))
        named = result.missing + [s for s, _ in result.unexpected]
        batches: dict[str, str] = {}
        for start in range(0, len(named), 500):
            chunk = named[start : start + 500]
            query = select(seal.c.serial, seal.c.batch_id).where(seal.c.serial.in_(chunk))
            batches.update((s, b) for s, b in conn.execute(query))
        rows = [
            _discrepancy_row(
                entry,
                ids[f"{DiscrepancyKind.MISSING}:{serial}"],
                DiscrepancyKind.MISSING,
                serial,
                batches.get(serial),
                f"in stock at {store} but not found at the stocktake",
                store=store,
                stocktake_id=stocktake_id,
            )
            for serial in result.missing
        ] + [
            _discrepancy_row(
                entry,
                ids[f"{DiscrepancyKind.UNEXPECTED}:{serial}"],
                DiscrepancyKind.UNEXPECTED,
                serial,
                batches.get(serial),
                f"found at the stocktake of {store}; the register says: {known}",
                store=store,
                stocktake_id=stocktake_id,
            )
            for serial, known in result.unexpected
        ]
        if rows:
            conn.execute(insert(seal_discrepancy), rows)

    return [Run(run)]


@handles("seal.discrepancy_resolved")
def _resolved(entry: Entry) -> list[Op]:
    data = entry.data
    return [
        set_values(
            seal_discrepancy,
            seal_discrepancy.c.id == data["discrepancy_id"],
            status="resolved",
            resolved_by=entry.actor.id,
            resolution=data["resolution"],
            resolved_at=entry.at,
        )
    ]


@handles("seal.reconciled")
def _reconciled(entry: Entry) -> list[Op]:
    data = entry.data
    result = data["result"]
    row = {
        "id": data["reconciliation_id"],
        "scope": result["scope"]["kind"],
        "scope_id": result["scope"]["id"],
        "balanced": result["balanced"],
        "open_discrepancies": len(result["discrepancies"]),
        "result": canonical(result),
        "recorded_by": entry.actor.id,
        "at": entry.at,
    }
    return [Insert(seal_reconciliation, row)]
