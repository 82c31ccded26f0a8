"""Changing stored entries behind the ledger's back, as a forger with the database would:
wherever an entry lives (its own row, or its tile's bundle)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, delete, insert, select, update

from triage import bootstrap
from triage.adapters.ledger_store import stored_entry
from triage.adapters.tables import ledger_bundle, ledger_entry
from triage.ledger.bundle import BUNDLE_SIZE, pack_bundle, unpack_bundle
from triage.ledger.entry import Entry, Ref


def entry_data(conn: Connection, index: int) -> bytes:
    found = stored_entry(conn, index)
    assert found is not None, f"entry {index} is not stored"
    return found


def _bundle(conn: Connection, index: int) -> list[bytes] | None:
    data = conn.execute(
        select(ledger_bundle.c.data).where(ledger_bundle.c.idx == index // BUNDLE_SIZE)
    ).scalar()
    return None if data is None else unpack_bundle(bytes(data))


def set_entry(conn: Connection, index: int, data: bytes) -> None:
    """Replace entry ``index``'s bytes."""
    entries = _bundle(conn, index)
    if entries is None:
        changed = conn.execute(
            update(ledger_entry).where(ledger_entry.c.idx == index).values(data=data)
        )
        assert changed.rowcount == 1, f"entry {index} is not stored"
        return
    entries[index % BUNDLE_SIZE] = data
    conn.execute(
        update(ledger_bundle)
        .where(ledger_bundle.c.idx == index // BUNDLE_SIZE)
        .values(data=pack_bundle(entries))
    )


def truncate(conn: Connection, size: int, log_id: str = "demo") -> None:
    """Remove every entry from ``size`` on, leaving the ones before it stored as they would be."""
    straddling = _bundle(conn, size) if size % BUNDLE_SIZE else None
    conn.execute(delete(ledger_entry).where(ledger_entry.c.idx >= size))
    conn.execute(delete(ledger_bundle).where(ledger_bundle.c.idx >= size // BUNDLE_SIZE))
    if straddling is not None:
        first = size - size % BUNDLE_SIZE
        conn.execute(
            insert(ledger_entry),
            [
                {"idx": first + n, "log_id": log_id, "data": data}
                for n, data in enumerate(straddling[: size % BUNDLE_SIZE])
            ],
        )


def all_entries(conn: Connection, below: int) -> list[bytes]:
    return [entry_data(conn, index) for index in range(below)]


def append_test_entries(app: bootstrap.App, count: int) -> None:
    """``count`` more entries, each as a state change records them (through the ledger)."""
    with app.uow(write=True) as uow:
        size = uow.ledger.log.head().size
        uow.ledger.record(
            [
                Entry(
                    type="test.appended",
                    at=datetime.now(UTC),
                    actor=Ref("system", "test"),
                    facility=uow.facility_id,
                    subject=Ref("test", f"t-{size + n}"),
                    data={"n": size + n},
                )
                for n in range(count)
            ]
        )
        uow.commit()
