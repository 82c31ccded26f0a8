"""Device search, list and dashboard at scale (issue 18, item 8).

Makes a facility of ``--devices`` devices (default 1,000,000) and ``--entries`` ledger entries
(default 10,000,000) on SQLite and on PostgreSQL, then times the device list's searches (by
whole id, by the start of an id, by state, consignment, asset owner and a week of days; the
first page and a page deep in the list by cursor), the unfiltered list, and the home page's
dashboard: p50 and p95 over ``--repeat`` runs of each, through the service functions the API
and the web call. Goal: p95 under 100 ms for search and list, under 300 ms for the dashboard.

The rows are SYNTHETIC, made for read timing only: they are bulk-inserted straight into the
tables, not recorded through the use cases, so they are well-formed rows (each device has a
consignment, a triage job in a realistic state, its decision, its reset and seal where its
state has them, and about ``entries / devices`` ledger entries about it in the subject index),
but the ledger's head and Merkle tiles are not extended over the synthetic entries: the
database reads as a busy facility's, and `triage ledger verify` or a replay of it means
nothing. Nothing is timed while rows are being made.

Run from the repository root (PostgreSQL comes from ``tests/pgserver.py``)::

    # the full size (several minutes and a few GB of temporary disk on each database)
    .venv/bin/python -m bench.device_search
    # a check that it works, in seconds
    .venv/bin/python -m bench.device_search --devices 20000 --entries 200000 --repeat 20
    .venv/bin/python -m bench.device_search --no-postgres --write docs/performance.md
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, insert

from bench.triage_bench import _rank, log
from triage import bootstrap
from triage.adapters import tables as t
from triage.bootstrap import App
from triage.config import Settings
from triage.domain.caller import Caller
from triage.domain.device_list import Position
from triage.domain.lifecycle import JobState
from triage.domain.roles import Role
from triage.ledger.bundle import BUNDLE_SIZE, pack_bundle
from triage.ledger.entry import Entry, Ref
from triage.services.views import dashboard, device_list
from triage.services.views.device_list import Filters

REPO_ROOT = Path(__file__).resolve().parents[1]
DEVICES = 1_000_000
ENTRIES = 10_000_000
REPEAT = 200
GOALS_MS = {"search": 100.0, "dashboard": 300.0}
PER_CONSIGNMENT = 1000
OWNERS = tuple(f"OWNER-{n}" for n in range(1, 9))
SPAN = timedelta(days=730)  # received over the last two years
RECENT = 0.02  # the newest devices, still at the bench in every state of the lifecycle
TIE = 10  # devices received at the same instant (a tie in the list's sort key)
BATCH = 10_000
TOOL_ID = "BENCH-1"
FINAL = ("released",) * 90 + ("destroyed",) * 4 + ("returned_to_manufacturer",) * 3
OPEN = [s.value for s in JobState if not s.is_final]
DECIDED = {"eligible", "quarantine", "reverify_metrology"}
RESET = {"reset_done", "reset_failed", "verified", "verification_failed", "sealed", "seal_broken"}
READER = Caller.operator("bench-reader", frozenset(Role))
ENTRY_TYPES = (
    "device.received",
    "security_log.recorded",
    "device.inspected",
    "device.decided",
    "reset.authorised",
    "reset.completed",
    "reset.verified",
    "seal.fitted",
    "device.released",
    "receipt.issued",
)


# --- the synthetic facility ------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Where each synthetic device stands: its id, job, consignment, state and times."""

    devices: int
    entries: int
    end: datetime

    def device_id(self, i: int) -> str:
        digits = f"{0x0011_2233_0000_0000 + i:016X}"
        return "-".join(digits[k : k + 2] for k in range(0, 16, 2))

    @staticmethod
    def job_id(i: int) -> str:
        return f"{i:08x}-0000-4000-8000-{i:012x}"

    @staticmethod
    def consignment(i: int) -> int:
        return i // PER_CONSIGNMENT

    def received_at(self, i: int) -> datetime:
        step = SPAN / max(1, self.devices // TIE)
        return self.end - SPAN + step * (i // TIE)

    def state(self, i: int) -> str:
        if i >= self.devices * (1 - RECENT):
            return OPEN[i % len(OPEN)]
        return FINAL[i % len(FINAL)]


def _chunks(rows: Iterator[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _insert(conn: Connection, table: Table, rows: Iterator[dict[str, Any]]) -> int:
    count = 0
    for chunk in _chunks(rows):
        conn.execute(insert(table), chunk)
        count += len(chunk)
    return count


def _consignments(at: Layout) -> Iterator[dict[str, Any]]:
    for c in range(math.ceil(at.devices / PER_CONSIGNMENT)):
        opened = at.received_at(c * PER_CONSIGNMENT) - timedelta(days=1)
        yield {
            "id": f"CONS-{c:06d}",
            "reference": f"CN-{c:06d}",
            "asset_owner": OWNERS[c % len(OWNERS)],
            "status": "closed",
            "created_at": opened,
            "closed_at": opened + timedelta(days=3),
        }


def _device_fields(at: Layout, i: int) -> dict[str, Any]:
    return {
        "device_type": i % 6,
        "manufacturer": "Acme Meters",
        "model": f"AM-{i % 7}",
        "firmware_version": "1.0.4",
        "inventory_status": "Decommissioned",
        "asset_owner": OWNERS[at.consignment(i) % len(OWNERS)],
        "smets_version": "SMETS2",
        "chf_id": None,
    }


def _devices(at: Layout) -> Iterator[dict[str, Any]]:
    for i in range(at.devices):
        received = at.received_at(i)
        yield {"id": at.device_id(i), **_device_fields(at, i), "first_seen_at": received,
               "updated_at": received}  # fmt: skip


def _manifest(at: Layout) -> Iterator[dict[str, Any]]:
    for i in range(at.devices):
        yield {"consignment_id": f"CONS-{at.consignment(i):06d}", "device_id": at.device_id(i),
               **_device_fields(at, i), "arrived": True}  # fmt: skip


def _jobs(at: Layout) -> Iterator[dict[str, Any]]:
    for i in range(at.devices):
        received, state = at.received_at(i), at.state(i)
        final = JobState(state).is_final
        yield {
            "id": at.job_id(i),
            "device_id": at.device_id(i),
            "consignment_id": f"CONS-{at.consignment(i):06d}",
            "state": state,
            "inspector_id": "op-1",
            "outcome": "eligible" if state not in ("received", "inspected") else None,
            "reset_attempts": 1 if final or state in RESET else 0,
            "seal_serial": f"SL-{i:09d}" if _sealed(state) else None,
            "opened_at": received,
            "updated_at": received + timedelta(hours=2),
            "closed_at": received + timedelta(hours=2) if final else None,
        }


def _sealed(state: str) -> bool:
    return state in ("sealed", "released")


def _was_reset(state: str) -> bool:
    return state in RESET or state == "released"


def _decisions(at: Layout) -> Iterator[dict[str, Any]]:
    for i in range(at.devices):
        if at.state(i) in ("received", "inspected"):
            continue
        yield {"job_id": at.job_id(i), "seq": 1, "outcome": "eligible", "reasons": "[]",
               "policy_hash": "0" * 64, "decided_by": "triage",  "justification": None,
               "at": at.received_at(i) + timedelta(minutes=20)}  # fmt: skip


def _orders(at: Layout) -> Iterator[dict[str, Any]]:
    for i in range(at.devices):
        if _was_reset(at.state(i)):
            issued = at.received_at(i) + timedelta(minutes=30)
            yield {"id": at.job_id(i), "job_id": at.job_id(i), "tool_id": TOOL_ID,
                   "device_id": at.device_id(i), "operator_id": "op-1", "nonce": f"{i:032x}",
                   "profile": "esme-standard", "status": "done", "issued_at": issued,
                   "expires_at": issued + timedelta(minutes=30), "signed": "synthetic",
                   "action": "factory_reset"}  # fmt: skip


def _results(at: Layout) -> Iterator[dict[str, Any]]:
    for i in range(at.devices):
        state = at.state(i)
        if _was_reset(state):
            verified = None if state == "reset_done" else state != "verification_failed"
            yield {"work_order_id": at.job_id(i), "job_id": at.job_id(i), "outcome": "completed",
                   "verified": verified, "failures": "[]", "before": "{}", "after": "{}",
                   "detail": "done", "signed": "synthetic",
                   "at": at.received_at(i) + timedelta(minutes=40)}  # fmt: skip


def _seals(at: Layout) -> Iterator[dict[str, Any]]:
    for i in range(at.devices):
        if _sealed(at.state(i)):
            fitted = at.received_at(i) + timedelta(minutes=50)
            yield {"serial": f"SL-{i:09d}", "batch_id": f"BATCH-{i // PER_CONSIGNMENT:06d}",
                   "status": "fitted", "store": None, "holder": None,
                   "device_id": at.device_id(i), "job_id": at.job_id(i),
                   "issued_at": fitted - timedelta(days=1), "status_at": fitted}  # fmt: skip


def _seal_batches(at: Layout) -> Iterator[dict[str, Any]]:
    for b in range(math.ceil(at.devices / PER_CONSIGNMENT)):
        yield {"id": f"BATCH-{b:06d}", "supplier": "Acme Seals", "delivery_reference": f"DN-{b}",
               "seal_class": "H", "class_description": None, "store": "STORE-A",
               "size": PER_CONSIGNMENT, "first_serial": None, "last_serial": None,
               "received_by": "stores-1",
               "received_at": at.received_at(b * PER_CONSIGNMENT) - timedelta(days=2)}  # fmt: skip


def _seal_events(at: Layout) -> Iterator[dict[str, Any]]:
    number = 0
    for i in range(at.devices):
        if not _sealed(at.state(i)):
            continue
        fitted = at.received_at(i) + timedelta(minutes=50)
        serial, batch = f"SL-{i:09d}", f"BATCH-{i // PER_CONSIGNMENT:06d}"
        steps = (("received", "STORE-A", None, None, fitted - timedelta(days=2)),
                 ("issued", "STORE-A", "op-1", None, fitted - timedelta(days=1)),
                 ("fitted", None, "op-1", at.device_id(i), fitted))  # fmt: skip
        for kind, store, operator_id, device_id, when in steps:
            number += 1
            yield {"id": number, "serial": serial, "batch_id": batch, "kind": kind,
                   "store": store, "operator_id": operator_id, "device_id": device_id,
                   "actor": operator_id or "stores-1", "at": when, "detail": None}  # fmt: skip


def _fittings(at: Layout) -> Iterator[dict[str, Any]]:
    for i in range(at.devices):
        if _sealed(at.state(i)):
            yield {"serial": f"SL-{i:09d}", "device_id": at.device_id(i), "job_id": at.job_id(i),
                   "fitted_by": "op-1",
                   "at": at.received_at(i) + timedelta(minutes=50)}  # fmt: skip


def _seal_tally(at: Layout) -> Iterator[dict[str, Any]]:
    """The running figures the projector keeps for the seals above: each fitted seal was
    received, issued and fitted, and is fitted now."""
    sealed = sum(1 for i in range(at.devices) if _sealed(at.state(i)))
    if sealed:
        for figure in ("received", "issued", "fitted", "fitted_now"):
            yield {"figure": figure, "count": sealed}


def _first_index(app: App) -> int:
    """The first index past the real entries, at a bundle's start: the synthetic entries go in
    whole bundles after it, beyond the head (which they do not move)."""
    with app.uow(write=False) as uow:
        size = uow.ledger.log.head().size
    return math.ceil((size + 1) / BUNDLE_SIZE) * BUNDLE_SIZE


def _entry_template(at: Layout, facility: str) -> list[bytes]:
    """A bundle's worth of well-formed entries (parsed by ``Entry.from_bytes``), repeated."""
    made = []
    for k in range(BUNDLE_SIZE):
        entry = Entry(
            type=ENTRY_TYPES[k % len(ENTRY_TYPES)],
            at=at.end,
            actor=Caller.system("bench").ref,
            facility=facility,
            subject=Ref("device", at.device_id(k % max(1, at.devices))),
            data={"job_id": at.job_id(k), "synthetic": True, "note": "x" * 120},
        )
        made.append(entry.to_bytes())
    return made


def _bundles(at: Layout, facility: str, first: int) -> Iterator[dict[str, Any]]:
    data = pack_bundle(_entry_template(at, facility))
    for b in range(at.entries // BUNDLE_SIZE):
        yield {"idx": first // BUNDLE_SIZE + b, "log_id": facility, "data": data}


def _subjects(at: Layout, facility: str, first: int) -> Iterator[dict[str, Any]]:
    each = max(1, (at.entries // BUNDLE_SIZE * BUNDLE_SIZE) // max(1, at.devices))
    for n in range(at.entries // BUNDLE_SIZE * BUNDLE_SIZE):
        i = min(n // each, at.devices - 1)
        yield {"idx": first + n, "log_id": facility, "entry_type": ENTRY_TYPES[n % each % 10],
               "subject_kind": "device", "subject_id": at.device_id(i)}  # fmt: skip


def populate(app: App, at: Layout) -> dict[str, int]:
    """Bulk-insert the synthetic facility; rows made per table."""
    made: dict[str, int] = {}
    with app.uow(write=False) as uow:
        facility = uow.facility_id
    first = _first_index(app)
    plan: list[tuple[Table, Callable[[], Iterator[dict[str, Any]]]]] = [
        (t.consignment, lambda: _consignments(at)),
        (t.device, lambda: _devices(at)),
        (t.consignment_device, lambda: _manifest(at)),
        (t.triage_job, lambda: _jobs(at)),
        (t.decision, lambda: _decisions(at)),
        (t.work_order, lambda: _orders(at)),
        (t.reset_result, lambda: _results(at)),
        (t.seal_batch, lambda: _seal_batches(at)),
        (t.seal, lambda: _seals(at)),
        (t.seal_event, lambda: _seal_events(at)),
        (t.seal_tally, lambda: _seal_tally(at)),
        (t.seal_fitting, lambda: _fittings(at)),
        (t.ledger_bundle, lambda: _bundles(at, facility, first)),
        (t.ledger_subject, lambda: _subjects(at, facility, first)),
    ]
    with app.database.engine.begin() as conn:
        conn.execute(
            insert(t.tool).values(
                id=TOOL_ID,
                bench="B1",
                verifier_key="synthetic",
                status="active",
                enrolled_at=at.end - SPAN,
            )
        )
        for table, rows in plan:
            started = time.perf_counter()
            made[table.name] = _insert(conn, table, rows())
            took = time.perf_counter() - started
            log(f"  {table.name}: {made[table.name]:,} rows in {took:.0f} s")
    with app.database.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        # The steady state of a database that grew to this size over two years: PostgreSQL's
        # autovacuum has long since run (its visibility map lets counts read the index alone);
        # a bulk load leaves it to do. Both have their statistics.
        postgres = app.database.engine.dialect.name == "postgresql"
        conn.exec_driver_sql("VACUUM ANALYZE" if postgres else "ANALYZE")
    return made


# --- timing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timed:
    name: str
    kind: str  # search or dashboard: which goal applies
    p50: float
    p95: float
    rows: int  # rows of the last answer (a check that the search found something)


def measure(name: str, kind: str, repeat: int, call: Callable[[int], int]) -> Timed:
    call(0)  # warm-up
    seconds = []
    rows = 0
    for n in range(repeat):
        started = time.perf_counter()
        rows = call(n)
        seconds.append(time.perf_counter() - started)
    ms = [s * 1000 for s in seconds]
    return Timed(name, kind, _rank(ms, 50), _rank(ms, 95), rows)


def timings(app: App, at: Layout, repeat: int, seed: int = 18) -> list[Timed]:
    uow = app.uow
    pick = random.Random(seed)
    any_device = [pick.randrange(at.devices) for _ in range(repeat + 1)]
    deep = [pick.randrange(at.devices // 4, at.devices // 2) for _ in range(repeat + 1)]
    states = ["released", "verified", "quarantined", "sealed", "awaiting_review"]
    consignments = math.ceil(at.devices / PER_CONSIGNMENT)
    zone = app.settings.zone

    def found(filters: Filters, cursor: str = "") -> int:
        return len(device_list.search(uow, READER, filters, cursor).items)

    def day(i: int) -> str:
        return at.received_at(i).astimezone(zone).date().isoformat()

    def cursor(i: int) -> str:
        return device_list.encode_cursor(Position(at.received_at(i), at.job_id(i), at.device_id(i)))

    def week(n: int) -> Filters:
        i = any_device[n]
        last = (at.received_at(i) + timedelta(days=6)).astimezone(zone).date().isoformat()
        return Filters(received_from=day(i), received_to=last)

    cases: list[tuple[str, str, Callable[[int], int]]] = [
        ("by whole id", "search", lambda n: found(Filters(device_id=at.device_id(any_device[n])))),
        ("by the start of an id (12 digits)", "search",
         lambda n: found(Filters(device_id=at.device_id(any_device[n])[:17]))),
        ("by state (one of five, first page)", "search",
         lambda n: found(Filters(state=states[n % len(states)]))),
        ("by state released, a deep page by cursor", "search",
         lambda n: found(Filters(state="released"), cursor(deep[n]))),
        ("by consignment", "search",
         lambda n: found(Filters(consignment=f"CN-{any_device[n] % consignments:06d}"))),
        ("by asset owner", "search", lambda n: found(Filters(asset_owner=OWNERS[n % 8]))),
        ("by a week received", "search", lambda n: found(week(n))),
        ("by asset owner and a week received", "search",
         lambda n: found(Filters(asset_owner=OWNERS[n % 8], received_from=week(n).received_from,
                                 received_to=week(n).received_to))),
        ("list, first page", "search", lambda n: found(Filters())),
        ("list, a deep page by cursor", "search", lambda n: found(Filters(), cursor(deep[n]))),
        ("dashboard (home page, every part)", "dashboard",
         lambda n: len(dashboard.dashboard(uow, READER).counts)),
    ]  # fmt: skip
    results = []
    for name, kind, call in cases:
        results.append(measure(name, kind, repeat, call))
        log(f"  {name}: p50 {results[-1].p50:.1f} ms, p95 {results[-1].p95:.1f} ms")
    return results


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Run:
    database: str
    version: str
    build_s: float
    made: dict[str, int]
    results: list[Timed]


def run_on(database: str, workdir: Path, url: str | None, at: Layout, repeat: int) -> Run:
    log(f"{database}: making {at.devices:,} devices and {at.entries:,} ledger entries")
    data_dir = workdir / database.lower()
    data_dir.mkdir()
    settings = Settings(data_dir=data_dir, database_url=url or f"sqlite:///{data_dir}/triage.db")
    app = bootstrap.initialise(settings).app
    try:
        with app.database.engine.connect() as conn:
            version = str(
                conn.exec_driver_sql(
                    "SHOW server_version" if database == "PostgreSQL" else "SELECT sqlite_version()"
                ).scalar()
            )
        started = time.perf_counter()
        made = populate(app, at)
        build_s = time.perf_counter() - started
        log(f"{database}: made in {build_s:.0f} s; timing {repeat} runs of each")
        return Run(database, version, build_s, made, timings(app, at, repeat))
    finally:
        app.close()


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def commit() -> str:
    try:
        found = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return found.stdout.strip()


def report(runs: Sequence[Run], at: Layout, repeat: int, command: str) -> str:
    lines = [
        f"Command: `{command}`. Machine: {machine()}. Commit: {commit()}. "
        f"Load average at the end: {os.getloadavg()[0]:.2f}.",
        "",
        f"{at.devices:,} synthetic devices (one triage job each, {RECENT:.0%} still at the bench), "
        f"{at.entries:,} synthetic ledger entries; each figure over {repeat} runs after a "
        "warm-up, through the service functions the API and the web call. Goals: p95 under "
        f"{GOALS_MS['search']:.0f} ms for search and list, under "
        f"{GOALS_MS['dashboard']:.0f} ms for the dashboard.",
        "",
        "| Query | " + " | ".join(f"{r.database} p50 / p95 (ms)" for r in runs) + " | Goal met |",
        "|---|" + "---|" * len(runs) + "---|",
    ]
    for k, first in enumerate(runs[0].results if runs else []):
        cells = [f"{r.results[k].p50:.1f} / {r.results[k].p95:.1f}" for r in runs]
        met = all(r.results[k].p95 < GOALS_MS[r.results[k].kind] for r in runs)
        lines.append(f"| {first.name} | " + " | ".join(cells) + f" | {'yes' if met else 'NO'} |")
    lines.append("")
    for r in runs:
        lines.append(f"- {r.database} {r.version}: rows made in {r.build_s:.0f} s.")
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> None:
    """Replace (or add) the section between this benchmark's markers in ``path``."""
    begin, end = "<!-- device-search-bench:begin -->", "<!-- device-search-bench:end -->"
    current = path.read_text() if path.exists() else ""
    block = f"{begin}\n{text}{end}\n"
    if begin in current and end in current:
        before, _, rest = current.partition(begin)
        _, _, after = rest.partition(end + "\n")
        path.write_text(before + block + after)
    else:
        heading = "\n## Device search, list and dashboard at scale (issue 18)\n\n"
        path.write_text(current.rstrip("\n") + "\n" + heading + block)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=DEVICES)
    parser.add_argument("--entries", type=int, default=ENTRIES)
    parser.add_argument("--repeat", type=int, default=REPEAT, help="timed runs of each query")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--write", type=Path, help="put the figures into this Markdown file")
    args = parser.parse_args(argv)
    if args.devices < TIE or args.entries < 0 or args.repeat < 1:
        parser.error(f"--devices at least {TIE}, --entries at least 0, --repeat at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    command = "python -m bench.device_search " + " ".join(argv or sys.argv[1:])
    at = Layout(args.devices, args.entries, datetime.now(UTC) - timedelta(hours=1))
    workdir = Path(tempfile.mkdtemp(prefix="device-search-"))
    runs = []
    try:
        if not args.no_sqlite:
            runs.append(run_on("SQLite", workdir, None, at, args.repeat))
        if not args.no_postgres:
            sys.path.insert(0, str(REPO_ROOT))
            from tests.pgserver import running_cluster

            with running_cluster() as cluster:
                url = cluster.create_database("device_search")
                runs.append(run_on("PostgreSQL", workdir, url, at, args.repeat))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    text = report(runs, at, args.repeat, command.strip())
    print(text)
    if args.write:
        write(args.write, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
