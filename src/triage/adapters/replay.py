"""`triage ledger replay --check`: rebuild every projection from the entries and compare."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, create_engine, select
from sqlalchemy.pool import StaticPool

from triage.adapters import projector
from triage.adapters.database import Database
from triage.adapters.ledger_store import SqlLogStorage
from triage.adapters.tables import PROJECTIONS, facility, metadata
from triage.ledger.entry import Entry

MAX_DIFFERENCES = 50


@dataclass(frozen=True)
class Difference:
    """One way the live tables differ from the replayed ones."""

    table: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.table} {self.key}: {self.message}"


@dataclass(frozen=True)
class ReplayReport:
    """How many entries were replayed, how many rows compared, and every difference."""

    entries: int
    rows: int
    differences: list[Difference]


def replay_check(
    database: Database, facility_id: str, progress: Callable[[int], None] | None = None
) -> ReplayReport:
    """Apply every entry to an empty in-memory database and compare it with the live tables."""
    scratch = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    metadata.create_all(scratch)
    replayed = 0
    with database.read() as live, scratch.begin() as rebuilt:
        for batch in SqlLogStorage(live, facility_id).read_entries(0, 2**63 - 1):
            projector.apply(rebuilt, [Entry.from_bytes(data) for _, data in batch])
            replayed += len(batch)
            if progress is not None:
                progress(replayed)
        differences: list[Difference] = []
        rows = 0
        for table in (facility, *PROJECTIONS):
            live_rows = _rows(live.execute(select(table)).mappings(), table)
            rebuilt_rows = _rows(rebuilt.execute(select(table)).mappings(), table)
            rows += len(live_rows)
            differences.extend(_compare(table, live_rows, rebuilt_rows))
    scratch.dispose()
    return ReplayReport(replayed, rows, differences[:MAX_DIFFERENCES])


def _rows(result: Any, table: Table) -> dict[str, dict[str, Any]]:
    keys = [c.name for c in table.primary_key.columns]
    out = {}
    for row in result:
        normal = {name: _normal(value) for name, value in row.items()}
        out["/".join(str(normal[k]) for k in keys)] = normal
    return out


def _normal(value: Any) -> Any:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


def _compare(
    table: Table, live: dict[str, dict[str, Any]], rebuilt: dict[str, dict[str, Any]]
) -> list[Difference]:
    found = []
    for key in sorted(live.keys() - rebuilt.keys()):
        found.append(Difference(table.name, key, "row exists but no entry creates it"))
    for key in sorted(rebuilt.keys() - live.keys()):
        found.append(Difference(table.name, key, "the entries create this row but it is missing"))
    for key in sorted(live.keys() & rebuilt.keys()):
        for column, value in live[key].items():
            if rebuilt[key].get(column) != value:
                found.append(
                    Difference(
                        table.name,
                        key,
                        f"{column} is {value!r} but the entries give {rebuilt[key].get(column)!r}",
                    )
                )
    return found
