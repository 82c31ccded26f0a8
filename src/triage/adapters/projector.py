"""Turns ledger entries into the current-state tables: the only writer of the projections.

Services never write these tables: they append entries, and the same transaction applies them
here. ``triage ledger replay --check`` applies every entry again to an empty database and
compares; because both paths run this code on the entry alone, a difference means a table was
changed behind the ledger's back.

Every entry about a triage job carries ``job_id`` and the job's new ``state``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import (
    BindParameter,
    Column,
    Connection,
    RootTransaction,
    Table,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BooleanClauseList, ClauseElement

from triage.adapters import fastsql
from triage.adapters.tables import (
    consignment,
    consignment_device,
    decision,
    device,
    device_exception,
    facility,
    facility_settings,
    inspection,
    operator,
    reset_result,
    seal_fitting,
    tamper_policy,
    tool,
    triage_job,
    work_order,
)
from triage.domain.facility import DEFAULT_MAX_RESET_ATTEMPTS, DEFAULT_WORK_ORDER_MINUTES
from triage.domain.lifecycle import FINAL_STATES, JobState
from triage.domain.work_order import FACTORY_RESET
from triage.ledger.entry import Entry


@dataclass(frozen=True)
class _Insert:
    table: Table
    row: dict[str, Any]


@dataclass(frozen=True)
class _Run:
    run: Callable[[Connection], None]


@dataclass(frozen=True)
class _Update:
    """``UPDATE table SET values`` where each column of ``keys`` equals its value (plain values,
    no SQL expressions): the commonest write of the projections. Keyed by the table's primary
    key, ``apply`` may run it later than its place, or fold it into its row's insert."""

    table: Table
    keys: dict[str, Any]
    values: dict[str, Any]

    def run(self, conn: Connection) -> None:
        fastsql.update_where(conn, self.table, self.keys, self.values)


_Op = _Insert | _Run | _Update
_Handler = Callable[[Entry], list[_Op]]
# Several handlers may project one entry type (each area keeps its own tables), in the order
# they were registered.
_HANDLERS: dict[str, list[_Handler]] = {}


def _handles(*types: str) -> Callable[[_Handler], _Handler]:
    def register(handler: _Handler) -> _Handler:
        for entry_type in types:
            _HANDLERS.setdefault(entry_type, []).append(handler)
        return handler

    return register


def apply(conn: Connection, entries: Sequence[Entry], only: str | None = None) -> None:
    """Apply entries in order; with ``only``, a module's name, only the handlers that module
    registered. The writes are those of the entries one by one, in fewer statements (see
    ``_Writes``)."""
    writes = _Writes(conn)
    for entry in entries:
        # Entries with no handler change no table: refusals, checkpoints...
        for handler in _HANDLERS.get(entry.type, ()):
            if only is None or handler.__module__ == only:
                for op in handler(entry):
                    writes.add(op)
    writes.flush()


class _Writes:
    """The writes of a run of entries, made in fewer statements than one per write, with the
    same outcome as each in its place:

    * consecutive inserts into one table go in one statement;
    * an update of one row by its primary key waits, and later updates of that row join it
      (an inspection and its decision move the job once, not twice), until its table is
      written otherwise (an insert, an update of rows picked by other columns) or a handler's
      own code runs (``_Run``: it may read anything);
    * an update of a row whose insert is still waiting is made part of that insert (a reset
      result is inserted already verified, not inserted and then updated).

    A waiting write changes no row but its own, and no key, so the writes it lets go first
    (other rows, other tables) come out the same. Replay applies the same entries through the
    same code, so it agrees row by row.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._inserts: list[_Insert] = []
        # (table, primary key values) -> the values to set, in the order they were first set.
        self._updates: dict[tuple[Table, tuple[Any, ...]], _Update] = {}

    def add(self, op: _Op) -> None:
        if isinstance(op, _Insert):
            if any(table is op.table for table, _ in self._updates):
                self.flush()
            elif self._inserts and self._inserts[0].table is not op.table:
                self._flush_inserts()
            self._inserts.append(op)
        elif isinstance(op, _Update) and _by_primary_key(op):
            self._update(op)
        elif isinstance(op, _Update):
            # Rows picked otherwise may be any of the table's: what waits for it goes first.
            if self._waiting(op.table):
                self.flush()
            op.run(self._conn)
        else:
            self.flush()
            op.run(self._conn)

    def _waiting(self, table: Table) -> bool:
        """Whether a write of ``table`` is waiting."""
        inserting = bool(self._inserts) and self._inserts[0].table is table
        return inserting or any(waiting is table for waiting, _ in self._updates)

    def _update(self, op: _Update) -> None:
        key = tuple(op.keys[name] for name in _primary_key(op.table))
        waiting = self._updates.get((op.table, key))
        if waiting is not None:
            self._updates[(op.table, key)] = _Update(
                op.table, op.keys, {**waiting.values, **op.values}
            )
            return
        if self._inserts and self._inserts[0].table is op.table:
            for i, waiting_insert in enumerate(self._inserts):
                row = waiting_insert.row
                if op.values.keys() <= row.keys() and all(
                    k in row and row[k] == v for k, v in op.keys.items()
                ):
                    self._inserts[i] = _Insert(op.table, {**row, **op.values})
                    return
        self._updates[(op.table, key)] = op

    def _flush_inserts(self) -> None:
        if self._inserts:
            rows = [op.row for op in self._inserts]
            names = rows[0].keys()
            if all(row.keys() == names for row in rows):
                fastsql.insert_rows(self._conn, self._inserts[0].table, rows)
            else:
                self._conn.execute(insert(self._inserts[0].table), rows)
            self._inserts.clear()

    def flush(self) -> None:
        """Make every waiting write: the inserts, then the updates (of other rows)."""
        self._flush_inserts()
        updates = list(self._updates.values())
        self._updates.clear()
        for update_op in updates:
            update_op.run(self._conn)


def _by_primary_key(op: _Update) -> bool:
    """Whether ``op`` picks one row by its table's whole primary key and leaves the key as it
    is (so that the row it changes cannot change under it)."""
    names = _primary_key(op.table)
    return bool(names) and op.keys.keys() == set(names) and op.values.keys().isdisjoint(names)


_PRIMARY_KEYS: dict[Table, tuple[str, ...]] = {}


def _primary_key(table: Table) -> tuple[str, ...]:
    """The names of the table's primary key columns, in their order."""
    names = _PRIMARY_KEYS.get(table)
    if names is None:
        names = _PRIMARY_KEYS[table] = tuple(c.key for c in table.primary_key.columns)
    return names


def project_recorded(conn: Connection, module: str) -> int:
    """Apply the entries already in the ledger, oldest first, to the handlers ``module``
    registered only; how many entries that was. A revision that adds an area's tables fills
    them so, as a replay would: after a downgrade and an upgrade, the entries that newer code
    recorded are projected again instead of leaving their rows missing."""
    # Imported here: the ledger store imports this module.
    from triage.adapters.ledger_store import stored_entry
    from triage.adapters.tables import ledger_subject

    types = [t for t, found in _HANDLERS.items() if any(h.__module__ == module for h in found)]
    indexes = conn.execute(
        select(ledger_subject.c.idx)
        .where(ledger_subject.c.entry_type.in_(types))
        .order_by(ledger_subject.c.idx)
    ).scalars()
    applied = 0
    for index in indexes.all():
        data = stored_entry(conn, index)
        if data is not None:
            apply(conn, [Entry.from_bytes(data)], only=module)
            applied += 1
    return applied


_NEXT_IDS: dict[Any, fastsql.Statement] = {}


def next_id(conn: Connection, column: Any) -> int:
    """The next number of a table numbered from itself (one more than its largest). Unlike a
    database sequence, a rollback leaves no gap that a replay would not make too."""
    statement = _NEXT_IDS.get(column)
    if statement is None:
        statement = _NEXT_IDS[column] = fastsql.Statement(
            select(func.coalesce(func.max(column), 0) + 1)
        )
    return int(statement.scalar(conn))


# The statements below, made once per table, dialect and names of the values given (fastsql).
_MADE: dict[tuple[Any, ...], fastsql.Statement] = {}


def insert_numbered(conn: Connection, table: Table, row: dict[str, Any]) -> None:
    """Insert ``row`` with the next number of its table (``next_id``) as its ``id``, in one
    statement."""
    names = tuple(row)
    key = ("numbered", table, names)
    statement = _MADE.get(key)
    if statement is None:
        number = select(func.coalesce(func.max(table.c.id), 0) + 1).scalar_subquery()
        values = {"id": number, **{name: bindparam(name) for name in names}}
        statement = _MADE[key] = fastsql.Statement(insert(table).values(values))
    statement.run(conn, **row)


def put_row(conn: Connection, table: Table, row: dict[str, Any], keep: Sequence[str] = ()) -> None:
    """Insert ``row``; where its primary key is taken, set that row's other columns (but those
    named in ``keep``) to ``row``'s values instead: one statement either way."""
    names, dialect = tuple(row), conn.dialect.name
    key = ("put", dialect, table, names, tuple(keep))
    statement = _MADE.get(key)
    if statement is None:
        primary = [c.key for c in table.primary_key.columns]
        upsert = fastsql.dialect_insert(dialect, table).values({n: bindparam(n) for n in names})
        changed = {n: upsert.excluded[n] for n in names if n not in primary and n not in keep}
        statement = _MADE[key] = fastsql.Statement(
            upsert.on_conflict_do_update(index_elements=primary, set_=changed)
        )
    statement.run(conn, **row)


def add_counts(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    """Add each row's ``count`` to the count of the row of ``table`` with the same primary key,
    inserting those not there yet, in one statement; each row's primary key and count after
    it, in no particular order."""
    if not rows:
        return []
    names, dialect = tuple(rows[0]), conn.dialect.name
    key = ("add", dialect, table, names, len(rows))
    statement = _MADE.get(key)
    if statement is None:
        primary = [c.key for c in table.primary_key.columns]
        upsert = fastsql.dialect_insert(dialect, table).values(
            [{n: bindparam(f"{n}_{i}") for n in names} for i in range(len(rows))]
        )
        statement = _MADE[key] = fastsql.Statement(
            upsert.on_conflict_do_update(
                index_elements=primary,
                set_={"count": table.c["count"] + upsert.excluded["count"]},
            ).returning(*(table.c[k] for k in primary), table.c["count"])
        )
    values = {f"{n}_{i}": row[n] for i, row in enumerate(rows) for n in names}
    return statement.rows(conn, **values)


# What a repository read in a writing transaction that a handler would otherwise read again:
# a step checks a row and records its entry, and the handler needs a column or two of that same
# row. Kept per transaction (by its object: gone with it), taken once, by (table, key).
_GIVEN: WeakKeyDictionary[RootTransaction, dict[tuple[str, Any], tuple[Any, ...]]] = (
    WeakKeyDictionary()
)


def give(conn: Connection, table: Table, key: Any, values: tuple[Any, ...]) -> None:
    """Hand the projector ``values`` of the row of ``table`` with ``key``, as they are now in
    this transaction, for the next handler that would read them (``take``)."""
    transaction = conn.get_transaction()
    if transaction is not None:
        _GIVEN.setdefault(transaction, {})[(table.name, key)] = values


def take(conn: Connection, table: Table, key: Any) -> tuple[Any, ...] | None:
    """The values ``give`` handed over for the row of ``table`` with ``key`` in this
    transaction, once (the handler then changes the row), or None: read them."""
    transaction = conn.get_transaction()
    given = None if transaction is None else _GIVEN.get(transaction)
    return None if given is None else given.pop((table.name, key), None)


def canonical(value: object) -> str:
    """JSON text as stored in projection columns: sorted keys, no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _set(table: Table, where: Any, **values: Any) -> _Run | _Update:
    """``UPDATE table SET values WHERE where``; a where of column equalities (joined by AND)
    and plain values run as a statement made once (fastsql), anything else as built."""
    keys = _equalities(where)
    if keys is not None and not any(isinstance(v, ClauseElement) for v in values.values()):
        return _set_by(table, keys, **values)
    statement = update(table).where(where).values(**values)

    def run(conn: Connection) -> None:
        conn.execute(statement)

    return _Run(run)


def _set_by(table: Table, keys: dict[str, Any], **values: Any) -> _Update:
    """``UPDATE table SET values`` where each column of ``keys`` equals its value."""
    return _Update(table, keys, values)


def _equalities(where: Any) -> dict[str, Any] | None:
    """``{column: value}`` of a where clause made only of ``column == value`` joined by AND,
    or None for anything else."""
    if isinstance(where, BooleanClauseList) and where.operator is operators.and_:
        clauses = list(where.clauses)
    else:
        clauses = [where]
    found: dict[str, Any] = {}
    for clause in clauses:
        if not (
            isinstance(clause, BinaryExpression)
            and clause.operator is operators.eq
            and isinstance(clause.left, Column)
            and isinstance(clause.right, BindParameter)
            and clause.right.callable is None
            and clause.left.key not in found
        ):
            return None
        found[clause.left.key] = clause.right.value
    return found


def _job_state(entry: Entry, **extra: Any) -> _Update:
    state = JobState(entry.data["state"])
    values: dict[str, Any] = {"state": state.value, "updated_at": entry.at, **extra}
    if state in FINAL_STATES:
        values["closed_at"] = entry.at
    return _set_by(triage_job, {"id": entry.data["job_id"]}, **values)


def _device_row(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "device_type": data["type"],
        "manufacturer": data["manufacturer"],
        "model": data["model"],
        "firmware_version": data["firmware_version"],
        "inventory_status": data["inventory_status"],
        "asset_owner": data["asset_owner"],
        "smets_version": data.get("smets_version"),
        "chf_id": data.get("chf_id"),
    }


@_handles("facility.created")
def _facility_created(entry: Entry) -> list[_Op]:
    facility_id = entry.subject.id

    def run(conn: Connection) -> None:
        # The live path inserts the facility row before its ledger can exist (the ledger's
        # head refers to it); replay starts from nothing and creates it here.
        exists = conn.execute(select(facility.c.id).where(facility.c.id == facility_id)).first()
        if exists is None:
            conn.execute(
                insert(facility).values(
                    id=facility_id,
                    name=entry.data["name"],
                    log_origin=entry.data["log_origin"],
                    created_at=entry.at,
                )
            )
        conn.execute(
            insert(facility_settings).values(
                facility_id=facility_id,
                max_reset_attempts=entry.data.get("max_reset_attempts", DEFAULT_MAX_RESET_ATTEMPTS),
                work_order_minutes=entry.data.get("work_order_minutes", DEFAULT_WORK_ORDER_MINUTES),
            )
        )

    return [_Run(run)]


# The settings this module keeps; the custody settings are projector_custody's.
_SETTINGS = ("max_reset_attempts", "work_order_minutes")


@_handles("facility.settings_changed")
def _settings_changed(entry: Entry) -> list[_Op]:
    # Each change names only the settings it sets (the first two were always both named).
    values = {k: entry.data[k] for k in _SETTINGS if k in entry.data}
    if not values:
        return []
    where = facility_settings.c.facility_id == entry.subject.id
    return [_set(facility_settings, where, **values)]


@_handles("operator.created")
def _operator_created(entry: Entry) -> list[_Op]:
    row = {
        "id": entry.subject.id,
        "name": entry.data["name"],
        "roles": ",".join(sorted(entry.data["roles"])),
        "active": True,
        "created_at": entry.at,
    }
    return [_Insert(operator, row)]


@_handles("tool.enrolled")
def _tool_enrolled(entry: Entry) -> list[_Op]:
    row = {
        "id": entry.subject.id,
        "bench": entry.data["bench"],
        "verifier_key": entry.data["verifier_key"],
        "status": "active",
        "enrolled_at": entry.at,
    }
    return [_Insert(tool, row)]


@_handles("policy.activated")
def _policy_activated(entry: Entry) -> list[_Op]:
    row = {
        "hash": entry.data["hash"],
        "policy_id": entry.data["policy_id"],
        "version": entry.data["version"],
        "source": entry.data["source"],
        "active": True,
        "activated_at": entry.at,
    }

    def put_in_force(conn: Connection) -> None:
        # One row a text (keyed by its hash): a text in force before is put back in force, and
        # its row says when it last was.
        again = conn.execute(
            update(tamper_policy)
            .where(tamper_policy.c.hash == row["hash"])
            .values(active=True, activated_at=entry.at)
        )
        if again.rowcount == 0:
            conn.execute(insert(tamper_policy).values(**row))

    return [_set(tamper_policy, tamper_policy.c.active.is_(True), active=False), _Run(put_in_force)]


@_handles("consignment.created")
def _consignment_created(entry: Entry) -> list[_Op]:
    row = {
        "id": entry.subject.id,
        "reference": entry.data["reference"],
        "asset_owner": entry.data["asset_owner"],
        "status": "open",
        "created_at": entry.at,
        "closed_at": None,
    }
    return [_Insert(consignment, row)]


@_handles("consignment.device_expected")
def _device_expected(entry: Entry) -> list[_Op]:
    row = {
        "consignment_id": entry.data["consignment_id"],
        "device_id": entry.subject.id,
        **_device_row(entry.data["device"]),
        "arrived": False,
    }
    return [_Insert(consignment_device, row)]


@_handles("consignment.closed")
def _consignment_closed(entry: Entry) -> list[_Op]:
    where = consignment.c.id == entry.subject.id
    return [_set(consignment, where, status="closed", closed_at=entry.at)]


@_handles("device.received")
def _device_received(entry: Entry) -> list[_Op]:
    data = entry.data
    device_id = entry.subject.id
    fields = _device_row(data["device"])

    def upsert_device(conn: Connection) -> None:
        # A device seen before (an earlier job) keeps when it was first seen.
        row = {"id": device_id, **fields, "first_seen_at": entry.at, "updated_at": entry.at}
        put_row(conn, device, row, keep=("first_seen_at",))

    ops: list[_Op] = [
        _Run(upsert_device),
        _Insert(
            triage_job,
            {
                "id": data["job_id"],
                "device_id": device_id,
                "consignment_id": data.get("consignment_id"),
                "state": JobState.RECEIVED.value,
                "inspector_id": None,
                "outcome": None,
                "reset_attempts": 0,
                "seal_serial": None,
                "opened_at": entry.at,
                "updated_at": entry.at,
                "closed_at": None,
            },
        ),
    ]
    if data.get("consignment_id"):
        ops.append(
            _set_by(
                consignment_device,
                {"consignment_id": data["consignment_id"], "device_id": device_id},
                arrived=True,
            )
        )
    return ops


@_handles("exception.raised")
def _exception_raised(entry: Entry) -> list[_Op]:
    row = {
        "id": entry.data["exception_id"],
        "kind": entry.data["kind"],
        "device_id": entry.subject.id,
        "detail": entry.data["detail"],
        "status": "open",
        "raised_by": entry.actor.id,
        "raised_at": entry.at,
        "resolved_by": None,
        "resolution": None,
        "resolved_at": None,
    }
    return [_Insert(device_exception, row)]


@_handles("exception.resolved")
def _exception_resolved(entry: Entry) -> list[_Op]:
    return [
        _set(
            device_exception,
            device_exception.c.id == entry.data["exception_id"],
            status="resolved",
            resolved_by=entry.actor.id,
            resolution=entry.data["resolution"],
            resolved_at=entry.at,
        )
    ]


@_handles("device.inspected")
def _inspected(entry: Entry) -> list[_Op]:
    row = {
        "job_id": entry.data["job_id"],
        "inspector_id": entry.actor.id,
        "evidence": canonical(entry.data["evidence"]),
        "at": entry.at,
    }
    return [_Insert(inspection, row), _job_state(entry, inspector_id=entry.actor.id)]


@_handles("device.decided", "decision.overridden")
def _decided(entry: Entry) -> list[_Op]:
    data = entry.data
    row = {
        "job_id": data["job_id"],
        "seq": data["seq"],
        "outcome": data["outcome"],
        "reasons": canonical(data.get("reasons", [])),
        "policy_hash": (data.get("policy") or {}).get("hash"),
        "decided_by": entry.actor.id,
        "justification": data.get("justification"),
        "at": entry.at,
    }
    return [_Insert(decision, row), _job_state(entry, outcome=data["outcome"])]


def work_order_row(entry: Entry, action: str) -> dict[str, Any]:
    """The ``work_order`` row of an order just issued, from the entry that records it (a reset
    order's ``reset.authorised``, a read order's ``security_log.read_ordered``)."""
    data = entry.data
    return {
        "id": data["work_order_id"],
        "job_id": data["job_id"],
        "tool_id": data["tool_id"],
        "device_id": entry.subject.id,
        "operator_id": data["operator_id"],
        "nonce": data["nonce"],
        "profile": data["profile"],
        "status": "issued",
        "issued_at": _time(data["issued_at"]),
        "expires_at": _time(data["expires_at"]),
        "signed": data["signed"],
        "action": action,
    }


@_handles("reset.authorised")
def _authorised(entry: Entry) -> list[_Op]:
    data = entry.data
    job_id = data["job_id"]
    row = work_order_row(entry, FACTORY_RESET)
    return [
        # A new order replaces any earlier one for the job that was never carried out.
        _set_by(work_order, {"job_id": job_id, "status": "issued"}, status="superseded"),
        _Insert(work_order, row),
        _job_state(entry, reset_attempts=data["attempt"]),
    ]


@_handles("reset.completed", "reset.failed")
def _reset_result(entry: Entry) -> list[_Op]:
    data = entry.data
    outcome = "completed" if entry.type == "reset.completed" else "failed"
    row = {
        "work_order_id": data["work_order_id"],
        "job_id": data["job_id"],
        "outcome": outcome,
        "verified": None,
        "failures": canonical([]),
        "before": canonical(data.get("before", {})),
        "after": canonical(data.get("after", {})),
        "detail": data.get("detail", ""),
        "signed": data.get("signed", ""),
        "at": entry.at,
    }
    return [
        _Insert(reset_result, row),
        _set_by(
            work_order,
            {"id": data["work_order_id"]},
            # An order the server closed because no result came before it expired.
            status="expired" if data.get("expired") else outcome,
        ),
        _job_state(entry),
    ]


@_handles("reset.verified", "reset.verification_failed")
def _verification(entry: Entry) -> list[_Op]:
    data = entry.data
    return [
        _set_by(
            reset_result,
            {"work_order_id": data["work_order_id"]},
            verified=entry.type == "reset.verified",
            failures=canonical(data.get("failures", [])),
        ),
        _job_state(entry),
    ]


@_handles("seal.fitted")
def _seal_fitted(entry: Entry) -> list[_Op]:
    data = entry.data
    row = {
        "serial": data["serial"],
        "device_id": entry.subject.id,
        "job_id": data["job_id"],
        "fitted_by": entry.actor.id,
        "at": entry.at,
    }
    return [_Insert(seal_fitting, row), _job_state(entry, seal_serial=data["serial"])]


@_handles(
    "device.released",
    "device.quarantined",
    "device.returned_to_manufacturer",
    "device.returned_to_dcc",
    "device.destroyed",
)
def _job_moved(entry: Entry) -> list[_Op]:
    # A device set aside or gone no longer has a work order: the tool must not reset it.
    withdraw = _set_by(
        work_order, {"job_id": entry.data["job_id"], "status": "issued"}, status="withdrawn"
    )
    return [withdraw, _job_state(entry)]


@_handles("work_order.withdrawn")
def _order_withdrawn(entry: Entry) -> list[_Op]:
    # Its tool or operator was taken out of service: the tool must never carry it out. A reset
    # order gives back the attempt it was never used for; the job's state does not change.
    data = entry.data
    ops: list[_Op] = [
        _set(
            work_order,
            (work_order.c.id == data["work_order_id"]) & (work_order.c.status == "issued"),
            status="withdrawn",
        )
    ]
    if "reset_attempts" in data:
        where = triage_job.c.id == data["job_id"]
        ops.append(_set(triage_job, where, reset_attempts=data["reset_attempts"]))
    return ops


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# For the handler modules of other areas (they register with ``handles`` on import).
handles = _handles
Insert = _Insert
Run = _Run
Op = _Op
set_values = _set
set_where = _set_by
job_state = _job_state

# Imported last: they use the names above.
from triage.adapters import (  # noqa: E402
    projector_access,  # noqa: F401
    projector_assessment,  # noqa: F401
    projector_assurance,  # noqa: F401
    projector_auth,  # noqa: F401
    projector_custody,  # noqa: F401
    projector_dispatch,  # noqa: F401
    projector_disposal,  # noqa: F401
    projector_duis,  # noqa: F401
    projector_hub_returns,  # noqa: F401
    projector_incidents,  # noqa: F401
    projector_inventory,  # noqa: F401
    projector_owners,  # noqa: F401
    projector_retention,  # noqa: F401
    projector_seals,  # noqa: F401
    projector_security,  # noqa: F401
    projector_security_log,  # noqa: F401
)
