"""Seal management: receive batches, issue and take back seals, void and lose them, find them
broken, count them at a stocktake, reconcile, and resolve what does not add up.

Every step is a ledger entry about the seal (or its batch, store or device), recorded in the
same transaction as the change it describes. Fitting is a step of the triage job
(``bench.seal``), which accepts only a seal issued to the operator at the bench.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from triage.domain.caller import Caller
from triage.domain.device import Device
from triage.domain.job import TriageJob
from triage.domain.lifecycle import Action, JobState
from triage.domain.reason import Reason
from triage.domain.roles import Permission, permissions
from triage.domain.seal_register import (
    FittedCount,
    SealBatch,
    SealEvent,
    Stocktake,
    StoredReconciliation,
)
from triage.domain.seals import (
    DEFAULT_UNUSED_DAYS,
    MAX_LIST,
    Discrepancy,
    Move,
    Reconciliation,
    Scope,
    ScopeKind,
    Seal,
    SealStatus,
    choose_serials,
    compare_stocktake,
    move,
    normalise_serial,
    normalise_store,
    reconcile,
    seal_class,
)
from triage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from triage.ledger.entry import Entry, Ref
from triage.services import incidents
from triage.services.common import (
    check_recorded,
    device_ref,
    get_job,
    job_step,
    make_entry,
    record_and_reload,
)
from triage.services.history import parse_device_id
from triage.services.ports import UnitOfWork, UnitOfWorkFactory

MAX_STOCKTAKE = 100_000
MAX_REPORT_DAYS = 366
_EVERYTHING = 10**9


def _text(value: str, field: str, longest: int) -> str:
    cleaned = " ".join(value.split())
    if not cleaned or len(cleaned) > longest:
        raise InvalidInput(f"{field}: 1-{longest} characters")
    return cleaned


def _some(problems: Sequence[str], shown: int = 5) -> str:
    head = "; ".join(problems[:shown])
    return head if len(problems) <= shown else f"{head}; and {len(problems) - shown} more"


def _seals_for(uow: UnitOfWork, serials: Sequence[str], step: Move) -> list[Seal]:
    """The register's seals for ``serials``, each able to take ``step``; otherwise every
    problem in one message, and nothing changes."""
    found = uow.seals.seals_by_serial(serials)
    problems = []
    for serial in serials:
        try:
            move(found.get(serial), serial, step)
        except (NotFound, Conflict) as exc:
            problems.append(str(exc))
    if problems:
        raise Conflict(f"{len(problems)} of {len(serials)} seals: {_some(problems)}")
    return [found[s] for s in serials]


# -- receiving -------------------------------------------------------------------------------


def receive_batch(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    *,
    supplier: str,
    delivery_reference: str,
    iso_class: str,
    class_description: str | None,
    store: str,
    first: str | None = None,
    last: str | None = None,
    serials: Sequence[str] | None = None,
) -> SealBatch:
    """Take a supplier's batch into stock at ``store``: a range of serials, or a list."""
    caller.require(Permission.SEAL_STOCK)
    supplier = _text(supplier, "supplier", 120)
    delivery_reference = _text(delivery_reference, "delivery_reference", 64)
    code, description = seal_class(iso_class, class_description)
    store = normalise_store(store)
    chosen, span = choose_serials(first, last, serials)
    with uow_factory(write=True) as uow:
        clashes = uow.seals.clashes(chosen, span)
        if clashes:
            named = [f"{s} (batch {clashes[s]})" for s in sorted(clashes)]
            raise Conflict(
                f"{len(clashes)} of these serials are already in the seal register: "
                f"{_some(named)}; a batch must hold only new serials"
            )
        batch_id = str(uuid.uuid4())
        data: dict[str, object] = {
            "batch_id": batch_id,
            "supplier": supplier,
            "delivery_reference": delivery_reference,
            "seal_class": code,
            "class_description": description,
            "store": store,
            "size": len(chosen),
        }
        if span is not None:
            data.update(first=span[0], last=span[1])
        else:
            data["serials"] = chosen
        entry = make_entry(uow, caller, "seal.batch_received", Ref("seal_batch", batch_id), data)
        return record_and_reload(uow, [entry], lambda: uow.seals.batch(batch_id))


# -- issuing and taking back -----------------------------------------------------------------


def issue(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    operator_id: str,
    *,
    first: str | None = None,
    last: str | None = None,
    serials: Sequence[str] | None = None,
) -> list[Seal]:
    """Hand seals from stock to a named operator who fits seals."""
    caller.require(Permission.SEAL_STOCK)
    chosen, _ = choose_serials(first, last, serials)
    if operator_id == caller.id:
        raise PermissionDenied(
            "separation of duties: seals are issued by stores to someone else, not to yourself"
        )
    with uow_factory(write=True) as uow:
        person = uow.operators.get(operator_id)
        if person is None:
            raise NotFound(f"no operator {operator_id!r}")
        if not person.may_act:
            raise Conflict(f"operator {operator_id} is not active; seals go to active operators")
        if Permission.DEVICE_SEAL not in permissions(person.roles):
            raise Conflict(
                f"operator {operator_id} does not fit seals (a bench operator or supervisor does)"
            )
        found = _seals_for(uow, chosen, Move.ISSUED)
        at = uow.clock.now()
        uow.ledger.record(
            [
                make_entry(
                    uow,
                    caller,
                    "seal.issued",
                    Ref("seal", s.serial),
                    {"serial": s.serial, "operator_id": operator_id, "store": s.store},
                    at,
                )
                for s in found
            ]
        )
        issued = uow.seals.seals_by_serial(chosen)
        uow.commit()
    return [issued[s] for s in chosen]


def return_to_stock(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    *,
    store: str | None = None,
    first: str | None = None,
    last: str | None = None,
    serials: Sequence[str] | None = None,
) -> list[Seal]:
    """Take unused seals back from whoever holds them, into ``store`` (default: where they
    were issued from)."""
    caller.require(Permission.SEAL_STOCK)
    chosen, _ = choose_serials(first, last, serials)
    into = None if store is None else normalise_store(store)
    with uow_factory(write=True) as uow:
        found = _seals_for(uow, chosen, Move.RETURNED)
        at = uow.clock.now()
        uow.ledger.record(
            [
                make_entry(
                    uow,
                    caller,
                    "seal.returned",
                    Ref("seal", s.serial),
                    {"serial": s.serial, "operator_id": s.holder, "store": into or s.store},
                    at,
                )
                for s in found
            ]
        )
        returned = uow.seals.seals_by_serial(chosen)
        uow.commit()
    return [returned[s] for s in chosen]


# -- void, lost, broken ----------------------------------------------------------------------


def _reportable(uow: UnitOfWork, caller: Caller, serial: str, step: Move) -> Seal:
    """A seal ``caller`` may report void or lost: stores any seal, others only their own."""
    caller.require(Permission.SEAL_REPORT)
    found = uow.seals.seal(serial)
    move(found, serial, step)
    assert found is not None
    if not caller.can(Permission.SEAL_STOCK) and not (
        found.status is SealStatus.ISSUED and found.holder == caller.id
    ):
        raise PermissionDenied(
            f"seal {serial} is {found.describe()}: you may report only seals issued to you; "
            "stores reports the others"
        )
    return found


def void(uow_factory: UnitOfWorkFactory, caller: Caller, serial: str, reason: str) -> Seal:
    """A damaged seal is taken out of use for good, with the reason."""
    serial = normalise_serial(serial)
    reason = Reason.parse(reason).text
    with uow_factory(write=True) as uow:
        found = _reportable(uow, caller, serial, Move.VOIDED)
        entry = _out_of_use(uow, caller, "seal.voided", found, reason)
        return record_and_reload(uow, [entry], lambda: uow.seals.seal(serial))


def lose(uow_factory: UnitOfWorkFactory, caller: Caller, serial: str, reason: str) -> Seal:
    """A seal nobody can find: recorded as lost, an incident that stays open until resolved."""
    serial = normalise_serial(serial)
    reason = Reason.parse(reason).text
    with uow_factory(write=True) as uow:
        found = _reportable(uow, caller, serial, Move.LOST)
        entry = _out_of_use(
            uow, caller, "seal.lost", found, reason, discrepancy_id=str(uuid.uuid4())
        )
        return record_and_reload(uow, [entry], lambda: uow.seals.seal(serial))


def _out_of_use(
    uow: UnitOfWork, caller: Caller, entry_type: str, found: Seal, reason: str, **extra: str
) -> Entry:
    held = found.status is SealStatus.ISSUED
    data = {
        "serial": found.serial,
        "reason": reason,
        "operator_id": found.holder if held else None,
        "store": None if held else found.store,
        **extra,
    }
    return make_entry(uow, caller, entry_type, Ref("seal", found.serial), data)


def report_broken(uow_factory: UnitOfWorkFactory, caller: Caller, serial: str, detail: str) -> Seal:
    """A fitted seal found broken, recorded against its device.

    Before dispatch (the job is sealed, not yet released) the device goes back to be reset and
    verified again, or quarantined; after release it is recorded against the device's history.
    Either way it is a discrepancy until a security manager resolves it.
    """
    caller.require(Permission.SEAL_REPORT)
    serial = normalise_serial(serial)
    detail = Reason.parse(detail, "detail").text
    with uow_factory(write=True) as uow:
        found = uow.seals.seal(serial)
        move(found, serial, Move.BROKEN)
        assert found is not None
        assert found.job_id is not None
        assert found.device_id is not None
        job: TriageJob | None = uow.jobs.get(found.job_id)
        data = {"serial": serial, "detail": detail, "discrepancy_id": str(uuid.uuid4())}
        if job is not None and job.state is JobState.SEALED:
            check_recorded(uow, job)
            entry = job_step(uow, caller, job, Action.BREAK_SEAL, data)
        else:
            data["job_id"] = found.job_id
            entry = make_entry(uow, caller, "seal.broken", device_ref(found.device_id), data)
        return record_and_reload(uow, [entry], lambda: uow.seals.seal(serial))


# -- stocktake, reconciliation, discrepancies ------------------------------------------------


def stocktake(
    uow_factory: UnitOfWorkFactory, caller: Caller, store: str, scanned: Sequence[str]
) -> Stocktake:
    """Compare the seals stores scanned in ``store`` with the register; every seal missing or
    unexpected becomes a discrepancy. A seal scanned twice counts once."""
    caller.require(Permission.SEAL_STOCK)
    store = normalise_store(store)
    if len(scanned) > MAX_STOCKTAKE:
        raise InvalidInput(f"serials: at most {MAX_STOCKTAKE} scans in one stocktake")
    counted = sorted({normalise_serial(s, "serials") for s in scanned})
    with uow_factory(write=True) as uow:
        in_stock = uow.seals.in_stock(store)
        extra = sorted(set(counted) - set(in_stock))
        result = compare_stocktake(store, in_stock, counted, uow.seals.seals_by_serial(extra))
        stocktake_id = str(uuid.uuid4())
        data = {
            "stocktake_id": stocktake_id,
            "store": store,
            "expected": result.expected,
            "counted": result.counted,
            "missing": result.missing,
            "unexpected": [[s, known] for s, known in result.unexpected],
        }
        entry = make_entry(uow, caller, "seal.stocktake", Ref("seal_store", store), data)
        recorded = record_and_reload(uow, [entry], lambda: uow.seals.stocktake(stocktake_id))
    ids = result.discrepancy_ids(stocktake_id)
    return dataclasses.replace(recorded, discrepancy_ids=tuple(sorted(ids.values())))


def _check_scope(uow: UnitOfWork, scope: Scope) -> None:
    if scope.kind is ScopeKind.OPERATOR and uow.operators.get(scope.id or "") is None:
        raise NotFound(f"no operator {scope.id!r}")
    if scope.kind is ScopeKind.BATCH and uow.seals.batch(scope.id or "") is None:
        raise NotFound(f"no seal batch {scope.id!r}")


def _reconcile(uow: UnitOfWork, scope: Scope) -> Reconciliation:
    _check_scope(uow, scope)
    open_ones, _ = uow.seals.discrepancies("open", 0, _EVERYTHING)
    return reconcile(scope, uow.clock.now(), uow.seals.figures(scope), open_ones)


def reconciliation(
    uow_factory: UnitOfWorkFactory, caller: Caller, scope: str, scope_id: str | None = None
) -> Reconciliation:
    """The seal count of the facility, or of one operator, store or batch, now."""
    caller.require(Permission.SEAL_READ)
    chosen = Scope.parse(scope, scope_id)
    with uow_factory(write=False) as uow:
        return _reconcile(uow, chosen)


def running_count(uow_factory: UnitOfWorkFactory, caller: Caller) -> Reconciliation:
    """The facility's seal figures at a glance, as kept step by step while seals move: the
    same figures as the facility's ``reconciliation`` while the tables are what the entries
    made them, read from a handful of rows. The reconciliation counts the seals themselves and
    so finds a seal changed behind the ledger's back; this does not (nor is it recorded)."""
    caller.require(Permission.SEAL_READ)
    with uow_factory(write=False) as uow:
        open_ones, _ = uow.seals.discrepancies("open", 0, _EVERYTHING)
        facility = Scope(ScopeKind.FACILITY)
        return reconcile(facility, uow.clock.now(), uow.seals.running_figures(), open_ones)


def record_reconciliation(
    uow_factory: UnitOfWorkFactory, caller: Caller, scope: str, scope_id: str | None = None
) -> StoredReconciliation:
    """Reconcile now and keep the result in the ledger, as assurance evidence. A result that
    does not balance or lists open discrepancies raises an incident in the register (source
    "seal_discrepancy", one per scope while it is open) in the same transaction."""
    caller.require(Permission.SEAL_RECONCILE)
    chosen = Scope.parse(scope, scope_id)
    with uow_factory(write=True) as uow:
        found = _reconcile(uow, chosen)
        result = found.to_json()
        reconciliation_id = str(uuid.uuid4())
        entry = make_entry(
            uow,
            caller,
            "seal.reconciled",
            Ref("seal_reconciliation", reconciliation_id),
            {"reconciliation_id": reconciliation_id, "result": result},
        )
        uow.ledger.record([entry])
        if not found.clean:
            label = chosen.kind.value if chosen.id is None else f"{chosen.kind.value}:{chosen.id}"
            serials = ", ".join(sorted({d.serial for d in found.discrepancies})[:10])
            incidents.raise_automatic(
                uow,
                "seal_discrepancy",
                Ref("seal_scope", label),
                f"Seal reconciliation of the {label}: "
                + ("balanced" if found.balanced else "the figures do not balance")
                + f", {len(found.discrepancies)} open discrepancies"
                + (f" ({serials})" if serials else ""),
                {
                    "reconciliation_id": reconciliation_id,
                    "balanced": found.balanced,
                    "discrepancy_ids": [d.id for d in found.discrepancies],
                },
            )
        stored = uow.seals.reconciliation(reconciliation_id)
        assert stored is not None, "the projection of seal.reconciled is missing"
        uow.commit()
    return stored


def discrepancies(
    uow_factory: UnitOfWorkFactory, caller: Caller, status: str | None, offset: int, limit: int
) -> tuple[list[Discrepancy], int]:
    """Discrepancies, oldest first: open, resolved, or all (status None)."""
    caller.require(Permission.SEAL_READ)
    if status not in (None, "open", "resolved"):
        raise InvalidInput("status: open, resolved or all")
    with uow_factory(write=False) as uow:
        return uow.seals.discrepancies(status, offset, limit)


def resolve_discrepancy(
    uow_factory: UnitOfWorkFactory, caller: Caller, discrepancy_id: str, resolution: str
) -> Discrepancy:
    """Close a discrepancy with what was found or done (a security manager who is neither
    the person who raised it nor the operator it concerns)."""
    caller.require(Permission.SEAL_DISCREPANCY_RESOLVE)
    text = Reason.parse(resolution, "resolution").text
    with uow_factory(write=True) as uow:
        found = uow.seals.discrepancy(discrepancy_id)
        if found is None:
            raise NotFound(f"no seal discrepancy {discrepancy_id!r}")
        if found.status != "open":
            raise Conflict(f"discrepancy {discrepancy_id} is already resolved")
        if caller.id in (found.raised_by, found.operator_id):
            raise PermissionDenied(
                "separation of duties: a discrepancy is resolved by someone other than the "
                "person who raised it or the operator it concerns"
            )
        entry = make_entry(
            uow,
            caller,
            "seal.discrepancy_resolved",
            Ref("seal", found.serial),
            {"discrepancy_id": discrepancy_id, "resolution": text},
        )
        return record_and_reload(uow, [entry], lambda: uow.seals.discrepancy(discrepancy_id))


# -- reading and reports ---------------------------------------------------------------------


@dataclass(frozen=True)
class FittedReport:
    """Seals fitted per day (UTC) and operator in ``[since, until)``."""

    since: datetime
    until: datetime
    rows: list[FittedCount]
    total: int


@dataclass(frozen=True)
class UnusedSeal:
    """A seal issued and still neither fitted nor returned."""

    serial: str
    holder: str | None
    issued_at: datetime | None
    days: int | None
    batch_id: str


@dataclass(frozen=True)
class UnusedReport:
    """Seals issued more than ``days`` days before ``at`` and still held."""

    days: int
    at: datetime
    seals: list[UnusedSeal]


@dataclass(frozen=True)
class SealDetail:
    """One seal, its batch, and every step it has taken."""

    seal: Seal
    batch: SealBatch
    events: list[SealEvent]


def seal_detail(uow_factory: UnitOfWorkFactory, caller: Caller, serial: str) -> SealDetail:
    """One seal, its batch and every step it has taken."""
    caller.require(Permission.SEAL_READ)
    serial = normalise_serial(serial)
    with uow_factory(write=False) as uow:
        found = uow.seals.seal(serial)
        if found is None:
            raise NotFound(f"seal {serial} is not in the seal register")
        batch = uow.seals.batch(found.batch_id)
        assert batch is not None
        return SealDetail(found, batch, uow.seals.events(serial))


def list_seals(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    *,
    status: str | None = None,
    store: str | None = None,
    holder: str | None = None,
    batch_id: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Seal], int]:
    """Seals in serial order, filtered by status, store, holder or batch."""
    caller.require(Permission.SEAL_READ)
    try:
        chosen = None if status is None else SealStatus(status)
    except ValueError:
        names = ", ".join(s.value for s in SealStatus)
        raise InvalidInput(f"status: one of {names}") from None
    where = None if store is None else normalise_store(store)
    with uow_factory(write=False) as uow:
        return uow.seals.seals(chosen, where, holder, batch_id, offset, limit)


def batch_detail(
    uow_factory: UnitOfWorkFactory, caller: Caller, batch_id: str
) -> tuple[SealBatch, dict[str, int]]:
    """A batch and where its seals are now (counts by status)."""
    caller.require(Permission.SEAL_READ)
    with uow_factory(write=False) as uow:
        batch = uow.seals.batch(batch_id)
        if batch is None:
            raise NotFound(f"no seal batch {batch_id!r}")
        figures = uow.seals.figures(Scope(ScopeKind.BATCH, batch_id))
    return batch, figures


def batches(
    uow_factory: UnitOfWorkFactory, caller: Caller, offset: int, limit: int
) -> tuple[list[SealBatch], int]:
    """Seal batches, oldest first."""
    caller.require(Permission.SEAL_READ)
    with uow_factory(write=False) as uow:
        return uow.seals.batches(offset, limit)


def stocktakes(
    uow_factory: UnitOfWorkFactory, caller: Caller, offset: int, limit: int
) -> tuple[list[Stocktake], int]:
    """Stocktakes, oldest first."""
    caller.require(Permission.SEAL_READ)
    with uow_factory(write=False) as uow:
        return uow.seals.stocktakes(offset, limit)


def reconciliations(
    uow_factory: UnitOfWorkFactory, caller: Caller, offset: int, limit: int
) -> tuple[list[StoredReconciliation], int]:
    """Stored reconciliations, oldest first."""
    caller.require(Permission.SEAL_READ)
    with uow_factory(write=False) as uow:
        return uow.seals.reconciliations(offset, limit)


def stored_reconciliation(
    uow_factory: UnitOfWorkFactory, caller: Caller, reconciliation_id: str
) -> StoredReconciliation:
    """One stored reconciliation."""
    caller.require(Permission.SEAL_READ)
    with uow_factory(write=False) as uow:
        found = uow.seals.reconciliation(reconciliation_id)
    if found is None:
        raise NotFound(f"no stored reconciliation {reconciliation_id!r}")
    return found


def fitted_report(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    since: datetime | None = None,
    until: datetime | None = None,
) -> FittedReport:
    """Seals fitted per day and per operator (default: the last 30 days)."""
    caller.require(Permission.SEAL_READ)
    end = until or uow_factory.clock.now()
    start = since or end - timedelta(days=30)
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("since/until: give times with a time zone (like 2026-11-01T00:00Z)")
    if start >= end:
        raise InvalidInput("since: must be before until")
    if end - start > timedelta(days=MAX_REPORT_DAYS):
        raise InvalidInput(f"since/until: at most {MAX_REPORT_DAYS} days in one report")
    with uow_factory(write=False) as uow:
        rows = uow.seals.fitted_per_day(start, end)
    return FittedReport(start, end, rows, sum(r.fitted for r in rows))


def unused_report(
    uow_factory: UnitOfWorkFactory, caller: Caller, days: int = DEFAULT_UNUSED_DAYS
) -> UnusedReport:
    """Seals issued more than ``days`` days ago and still neither fitted nor returned."""
    caller.require(Permission.SEAL_READ)
    if not 0 <= days <= 3650:
        raise InvalidInput("days: 0-3650")
    at = uow_factory.clock.now()
    with uow_factory(write=False) as uow:
        found = uow.seals.issued_before(at - timedelta(days=days))
    rows = [
        UnusedSeal(
            serial=s.serial,
            holder=s.holder,
            issued_at=s.issued_at,
            days=(at - s.issued_at).days if s.issued_at else None,
            batch_id=s.batch_id,
        )
        for s in found
    ]
    return UnusedReport(days, at, rows)


# -- labels ----------------------------------------------------------------------------------


def seals_for_labels(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    *,
    batch_id: str | None = None,
    first: str | None = None,
    last: str | None = None,
    serials: Sequence[str] | None = None,
) -> list[tuple[Seal, SealBatch]]:
    """The seals of a batch, or the seals named, each with its batch, for their labels."""
    caller.require(Permission.SEAL_READ)
    with uow_factory(write=False) as uow:
        if batch_id is not None:
            if first or last or serials:
                raise InvalidInput("give a batch or serials, not both")
            if uow.seals.batch(batch_id) is None:
                raise NotFound(f"no seal batch {batch_id!r}")
            found, _ = uow.seals.seals(None, None, None, batch_id, 0, MAX_LIST)
        else:
            chosen, _ = choose_serials(first, last, serials)
            by_serial = uow.seals.seals_by_serial(chosen)
            unknown = [s for s in chosen if s not in by_serial]
            if unknown:
                raise NotFound(f"not in the seal register: {', '.join(unknown[:5])}")
            found = [by_serial[s] for s in chosen]
        batch_rows = {b: uow.seals.batch(b) for b in {s.batch_id for s in found}}
    # Every seal's batch is in the register: the batch is received with its seals.
    return [(s, batch) for s in found if (batch := batch_rows[s.batch_id]) is not None]


def latest_job_id(uow_factory: UnitOfWorkFactory, caller: Caller, device: str) -> str:
    """The device's latest triage job (open or closed): the one its bag is labelled for."""
    caller.require(Permission.TRIAGE_READ)
    device_id = parse_device_id(device)
    with uow_factory(write=False) as uow:
        jobs = uow.jobs.for_device(device_id)
    if not jobs:
        raise NotFound(f"device {device_id} has never been scanned at this facility")
    return jobs[-1].id


def job_for_label(
    uow_factory: UnitOfWorkFactory, caller: Caller, job_id: str
) -> tuple[TriageJob, Device]:
    """A job and its device, for the device bag's label."""
    caller.require(Permission.TRIAGE_READ)
    with uow_factory(write=False) as uow:
        job = get_job(uow, job_id)
        device = uow.devices.get(job.device_id)
    if device is None:
        raise NotFound(f"device {job.device_id} of job {job_id} is not known")
    return job, device
