"""Where the service layer's time goes, step by step (issue 22): a table per database.

Drives devices through the service layer exactly as the triage benchmark's service run does
(``bench.triage_bench.service_bench`` and ``triage_device``: the same setup, the same steps)
and, for each use-case step (scan, read order, record_reading, inspect, authorise_reset,
record_tool_result, seal, release; the simulated tool's steps are left out, they are not the
service layer), reports:

* CPU ms per call (``time.thread_time``) and wall ms per call;
* SQL statements per call: every statement SQLAlchemy sends (its ``before_cursor_execute``
  engine event) and every statement run on the raw DB-API cursor by
  ``triage.adapters.fastsql`` (its ``observers``), and which statements they are;
* transactions per call (SQLAlchemy's ``begin`` event, and a ``BEGIN`` run on the raw cursor);
* the share of the step's CPU time (cProfile with a thread-CPU timer, one profile per step)
  spent in SQLAlchemy, the database driver, the projector, canonical JSON and hashing, signing
  and verifying, permission and threshold checks, logging, the rest of triage, and other.
  Built-in functions count in their caller's category, except the driver's, hashing's, JSON's
  and cryptography's own C functions, which count in theirs;
* the 15 functions with the most own time.

Measuring changes what is measured, so the devices are taken in blocks of twenty (one of each
type of the benchmark's mix) and each block is measured one way only: the times with nothing
else attached, the statements with only the counters attached, the profile with only the
profiler running. The first block only warms up (SQLAlchemy's statement cache, the ledger's
tiles) and is not measured. Shares are of CPU time in the profiled blocks (cProfile's own cost
included).

Run from the repository root (PostgreSQL starts a throwaway server from tests/pgserver.py)::

    .venv/bin/python -m bench.profile_steps --devices 300 [--backend postgresql] [--write FILE]

``--write`` replaces only its backend's block in FILE. Nothing is asserted about time.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import importlib
import os
import pstats
import re
import shlex
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

import triage
from bench.provenance import REPO_ROOT, describe, require_committed
from bench.triage_bench import (
    BACKEND_NAMES,
    SERVICE_STEPS,
    TOOL_STEPS,
    TYPE_MIX,
    databases,
    device_catalogue,
    import_devices,
    log,
    make_devices,
    replace_block,
    service_bench,
    source_digest,
    triage_device,
)

STEPS = tuple(s for s in SERVICE_STEPS if s not in TOOL_STEPS and s != "whole device")
MODES = ("time", "count", "profile")  # how a block of devices is measured, in turn
BLOCK = len(TYPE_MIX)  # a block holds one device of each type of the mix
TOP_FUNCTIONS = 15

# The categories of the time table, in its column order.
SQLALCHEMY = "SQLAlchemy"
DRIVER = "driver"
PROJECTOR = "projector"
CANONICAL = "canonical JSON, hashing"
SIGNING = "signing, verifying"
CHECKS = "permission, threshold checks"
LOGGING = "logging"
TRIAGE = "rest of triage"
OTHER = "other"
CATEGORIES = (SQLALCHEMY, DRIVER, PROJECTOR, CANONICAL, SIGNING, CHECKS, LOGGING, TRIAGE, OTHER)

# Functions of triage's own modules that are the signing, or the checks, of a step; a module
# given as None counts in the category whole.
_SIGNING_FUNCTIONS: Mapping[str, frozenset[str] | None] = {
    "ledger/note.py": None,
    "domain/work_order.py": frozenset({"sign", "open"}),
    "domain/security_log_reading.py": frozenset({"sign", "open"}),
    "domain/signed_document.py": None,
}
_CHECK_FUNCTIONS: Mapping[str, frozenset[str] | None] = {
    "services/anomaly.py": None,
    "services/bench_assignment.py": None,
    "domain/caller.py": frozenset({"require", "require_tool", "may", "has"}),
    "domain/roles.py": None,
    "services/assessment.py": frozenset({"check_may_triage"}),
    "services/inventory.py": frozenset({"check_may_triage", "gate_reason"}),
}
# C functions (a profile's built-ins) that belong to a category of their own, by their name.
_BUILTIN_CATEGORIES = (
    (re.compile(r"sqlite3|psycopg"), DRIVER),
    (re.compile(r"sqlalchemy"), SQLALCHEMY),
    (re.compile(r"_hashlib|hashlib|_sha|_blake2|_json|orjson"), CANONICAL),
    (re.compile(r"cryptography|_rust|_openssl"), SIGNING),
)
_PROFILER_ITSELF = re.compile(r"_lsprof")
# The DB-API calls that run a statement: every statement reaches the database through one of
# them, whoever built it (SQLAlchemy, fastsql, or code using the raw cursor itself).
_DBAPI_EXECUTE = re.compile(r"<method 'execute(many)?' of 'sqlite3\.(Cursor|Connection)' objects>")
_PSYCOPG_CURSORS = ("psycopg/cursor.py", "psycopg/server_cursor.py")

Func = tuple[str, int, str]  # a pstats key: file, line, function name
# A pstats entry: primitive calls, calls, own time, cumulative time, {caller: edge figures}.
StatsEntry = tuple[int, int, float, float, dict[Func, tuple[int, int, float, float]]]


def is_builtin(func: Func) -> bool:
    """Whether a profiled function is a C function (pstats names its file ``~``)."""
    return func[0] == "~" and func[1] == 0


def classify(func: Func, triage_root: str) -> str | None:
    """The category of a profiled function, or None for a built-in that counts in its
    caller's. ``triage_root`` is the directory of the ``triage`` package measured."""
    filename, _, name = func
    if is_builtin(func):
        for pattern, category in _BUILTIN_CATEGORIES:
            if pattern.search(name):
                return category
        return None
    path = filename.replace("\\", "/")
    root = triage_root.rstrip("/") + "/"
    if not path.startswith(root):
        return _library_category(path)
    inside = path[len(root) :]
    for table, category in ((_SIGNING_FUNCTIONS, SIGNING), (_CHECK_FUNCTIONS, CHECKS)):
        if inside in table:
            names = table[inside]
            if names is None or name in names:
                return category
    if re.fullmatch(r"adapters/projector[^/]*\.py", inside):
        return PROJECTOR
    if inside.startswith("ledger/"):
        return CANONICAL
    return TRIAGE


def _library_category(path: str) -> str:
    """The category of a function outside triage, by its file."""
    if "/sqlalchemy/" in path:
        return SQLALCHEMY
    if "/psycopg" in path or "/sqlite3/" in path:
        return DRIVER
    if "/logging/" in path:
        return LOGGING
    if re.search(r"/(json|hashlib)(/|\.py$)", path) or "/orjson" in path:
        return CANONICAL
    if "/cryptography/" in path:
        return SIGNING
    return OTHER


def attribute(
    stats: Mapping[Func, StatsEntry], classify_func: Callable[[Func], str | None]
) -> dict[str, float]:
    """Own time (seconds) by category. A built-in without a category of its own is shared
    among its callers' categories in proportion to the time it spent for each (pstats keeps
    that per caller); one called only by built-ins goes up the chain, and a built-in whose
    callers cannot be told (none recorded, or a cycle of built-ins) counts as other. The
    profiler's own ``disable`` call is left out."""
    shares: dict[Func, dict[str, float]] = {}

    def share(func: Func, visiting: frozenset[Func]) -> dict[str, float]:
        if func in shares:
            return shares[func]
        category = classify_func(func)
        if category is not None:
            result = {category: 1.0}
        else:
            callers = stats[func][4] if func in stats else {}
            weights = {c: edge[2] for c, edge in callers.items() if c not in visiting}
            total = sum(weights.values())
            if total <= 0:
                # No caller's time to go by: share by the number of calls instead.
                weights = {c: edge[1] for c, edge in callers.items() if c not in visiting}
                total = sum(weights.values())
            result = {}
            for caller, weight in weights.items():
                if total <= 0:
                    break
                for cat, part in share(caller, visiting | {func}).items():
                    result[cat] = result.get(cat, 0.0) + part * weight / total
            if not result:
                result = {OTHER: 1.0}
        if not visiting:
            shares[func] = result
        return result

    out = dict.fromkeys(CATEGORIES, 0.0)
    for func, entry in stats.items():
        if is_builtin(func) and _PROFILER_ITSELF.search(func[2]):
            continue
        for category, part in share(func, frozenset()).items():
            out[category] = out.get(category, 0.0) + entry[2] * part
    return out


def dbapi_executes(stats: Mapping[Func, StatsEntry]) -> int:
    """How many times a profile called the driver to run a statement (``execute`` or
    ``executemany`` of a sqlite3 or psycopg cursor)."""
    calls = 0
    for func, entry in stats.items():
        filename, _, name = func
        if is_builtin(func):
            if _DBAPI_EXECUTE.search(name):
                calls += entry[1]
        elif name in ("execute", "executemany") and filename.replace("\\", "/").endswith(
            _PSYCOPG_CURSORS
        ):
            calls += entry[1]
    return calls


# --- measuring -------------------------------------------------------------------------------


@dataclass
class StepFigures:
    """What was measured of one step, over the calls of each kind of block."""

    step: str
    timed: int = 0
    cpu_s: float = 0.0
    wall_s: float = 0.0
    counted: int = 0
    statements: Counter[str] = field(default_factory=Counter)
    transactions: int = 0
    profiled: int = 0
    profile: cProfile.Profile = field(default_factory=lambda: cProfile.Profile(time.thread_time))

    def stats(self) -> dict[Func, StatsEntry]:
        """The step's profile as pstats keeps it (empty when no call was profiled)."""
        if not self.profiled:
            return {}
        return dict(pstats.Stats(self.profile).stats)  # type: ignore[attr-defined]


class StepProfiler:
    """The step wrapper handed to ``triage_device``: measures each use-case step in the way
    the current block's mode says, and leaves the simulated tool's steps alone."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.figures = {step: StepFigures(step) for step in STEPS}
        self.devices = dict.fromkeys(MODES, 0)
        self.mode = MODES[0]
        self._counting: StepFigures | None = None
        self._fastsql = _fastsql_observers()

    # Counting: listeners attached for the counted blocks only --------------------------------
    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if self._counting is not None:
            self._counting.statements[statement] += 1

    def _begin(self, _conn: Any) -> None:
        if self._counting is not None:
            self._counting.transactions += 1

    def _raw_statement(self, statement: str) -> None:
        if self._counting is not None:
            self._counting.statements[statement] += 1
            if statement.lstrip().upper().startswith("BEGIN"):
                self._counting.transactions += 1

    @contextlib.contextmanager
    def block(self, mode: str) -> Iterator[None]:
        """Measure the devices triaged inside as ``mode`` says: the counters are attached only
        while a ``count`` block runs, and removed after it."""
        self.mode = mode
        if mode != "count":
            yield
            return
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "begin", self._begin)
        if self._fastsql is not None:
            self._fastsql.append(self._raw_statement)
        try:
            yield
        finally:
            event.remove(self.engine, "before_cursor_execute", self._statement)
            event.remove(self.engine, "begin", self._begin)
            if self._fastsql is not None:
                self._fastsql.remove(self._raw_statement)

    @contextlib.contextmanager
    def __call__(self, step: str, _index: int) -> Iterator[None]:
        if step in TOOL_STEPS:
            yield
            return
        figures = self.figures[step]
        if self.mode == "profile":
            figures.profiled += 1
            figures.profile.enable()
            try:
                yield
            finally:
                figures.profile.disable()
        elif self.mode == "count":
            figures.counted += 1
            self._counting = figures
            try:
                yield
            finally:
                self._counting = None
        else:
            cpu, wall = time.thread_time(), time.perf_counter()
            yield
            figures.wall_s += time.perf_counter() - wall
            figures.cpu_s += time.thread_time() - cpu
            figures.timed += 1


def _fastsql_observers() -> list[Callable[[str], None]] | None:
    """``triage.adapters.fastsql.observers`` (called with every statement run on the raw DB-API
    cursor), or None for code that runs every statement through SQLAlchemy (before issue 22)."""
    try:
        module = importlib.import_module("triage.adapters.fastsql")
    except ModuleNotFoundError as exc:
        if exc.name != "triage.adapters.fastsql":
            raise
        return None
    observers: list[Callable[[str], None]] = module.observers
    return observers


def mode_of(index: int) -> str | None:
    """How device ``index`` is measured: after a first block that warms the caches up (None:
    not measured), each block of twenty takes the modes in turn."""
    block = index // BLOCK
    return None if block == 0 else MODES[(block - 1) % len(MODES)]


@contextlib.contextmanager
def _unmeasured(_step: str, _index: int) -> Iterator[None]:
    """The step wrapper of the warm-up block: nothing measured."""
    yield


@dataclass
class Profiled:
    """One backend's figures."""

    backend: str
    devices: int
    figures: dict[str, StepFigures]
    measured_devices: dict[str, int]
    raw_sql: bool  # whether fastsql's raw statements were counted too
    seconds: float
    info: dict[str, str]


def profile_backend(backend: str, count: int) -> Profiled:
    """Set up a fresh installation on ``backend``, import ``count`` devices and triage them
    all, each block measured its way."""
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="triage-profile-"))
    info: dict[str, str] = {}
    try:
        devices = make_devices(count)
        catalogue = device_catalogue(devices, workdir)
        with (
            databases(backend, info) as (service_url, _),
            service_bench(devices, catalogue, workdir, service_url) as bench,
        ):
            import_devices(bench, devices)
            profiler = StepProfiler(bench.app.database.engine)
            log(f"{backend}: triaging {count:,} devices, measured by blocks of {BLOCK}")
            for first in range(0, count, BLOCK):
                mode = mode_of(first)
                block = devices[first : first + BLOCK]
                if mode is None:  # warming up: SQLAlchemy's statement cache, the tiles
                    for d in block:
                        triage_device(bench, d, _unmeasured)
                    continue
                with profiler.block(mode):
                    for d in block:
                        triage_device(bench, d, profiler)
                profiler.devices[mode] += len(block)
        return Profiled(
            backend,
            count,
            profiler.figures,
            profiler.devices,
            profiler._fastsql is not None,
            time.perf_counter() - started,
            info,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# --- the report ------------------------------------------------------------------------------

_VERB = re.compile(r"^\s*(SELECT|INSERT INTO|UPDATE|DELETE FROM|BEGIN\w*|\w+)", re.I)
_FROM = re.compile(r"\bFROM\s+([\w.\"]+)", re.I)
_TABLE = re.compile(r"^\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+([\w.\"]+)", re.I)
_WHERE = re.compile(r"\bWHERE\b(.*)", re.I | re.S)
_CONDITION = re.compile(r"([\w.\"]+)\s*(?:=|IN\b|>=|<=|>|<|IS\b)", re.I)


def statement_label(statement: str) -> str:
    """A short name for a SQL statement: what it does, to which table, and by which columns
    (``SELECT triage_job by triage_job.id``)."""
    text = " ".join(statement.split())
    verb_match = _VERB.match(text)
    verb = verb_match.group(1).upper() if verb_match else text[:20]
    table_match = _FROM.search(text) if verb == "SELECT" else _TABLE.match(text)
    if verb.startswith("BEGIN") or table_match is None:
        return text[:60]
    label = f"{verb.split()[0]} {table_match.group(1).strip(chr(34))}"
    where = _WHERE.search(text)
    if where:
        columns = []
        for column in _CONDITION.findall(where.group(1).split(" ORDER BY ")[0]):
            name = column.strip('"').split(".")[-1]
            if name.upper() not in ("AND", "OR", "NOT") and name not in columns:
                columns.append(name)
        if columns:
            label += " by " + ", ".join(columns[:4])
    return label


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f} %" if whole > 0 else "–"


def _per(total: float, calls: int, scale: float = 1.0, digits: int = 2) -> str:
    return f"{scale * total / calls:.{digits}f}" if calls else "–"


def _short(func: Func, triage_root: str) -> str:
    """A profiled function's name, with its file relative to triage or its package."""
    filename, line, name = func
    if is_builtin(func):
        return f"`{name}`"
    path = filename.replace("\\", "/")
    root = str(Path(triage_root).parent).rstrip("/") + "/"
    if path.startswith(root):
        path = path[len(root) :]
    elif "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    elif "/lib/python" in path:
        path = "stdlib/" + path.split("/lib/python", 1)[1].split("/", 1)[1]
    return f"`{name}` ({path}:{line})"


def render(result: Profiled, command: str) -> str:
    """The Markdown section of one backend."""
    triage_root = str(Path(triage.__file__).resolve().parent)
    figures = [result.figures[s] for s in STEPS]
    timed_devices = result.measured_devices["time"]
    counted_devices = result.measured_devices["count"]
    profiled_devices = result.measured_devices["profile"]
    name = BACKEND_NAMES[result.backend]
    out = [
        f"## Where the service layer's time goes, step by step: {name}, {result.devices:,} devices",
        "",
        f"Command (from the repository root): `{command}`",
        "",
        f"Code measured: `{source_digest()}` (sha256 of src/triage); {describe()}; "
        f"triage imported from `{triage_root}`. "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}; load average at the end "
        f"{' / '.join(f'{x:.2f}' for x in os.getloadavg())}; {result.seconds:.0f} s in all"
        + (f"; PostgreSQL {result.info['PostgreSQL']}" if "PostgreSQL" in result.info else "")
        + ".",
        "",
        f"Devices measured: {timed_devices} for the times, {counted_devices} for the "
        f"statements, {profiled_devices} for the profile (blocks of {BLOCK} in turn, after "
        f"{BLOCK} to warm up). SQL "
        "statements: SQLAlchemy's and "
        + (
            "those `triage.adapters.fastsql` runs on the raw cursor"
            if result.raw_sql
            else "(this code has no `triage.adapters.fastsql`) no others"
        )
        + "; DB-API executes: the driver's `execute` and `executemany` calls in the profiled "
        "blocks, whoever made them (the ledger store runs its own on the raw cursor)"
        + ". Shares: of the step's CPU time under cProfile (own time; a built-in counts in "
        "its caller's category, the driver's, hashing's, JSON's and cryptography's C functions "
        "in theirs).",
        "",
        "| Step | CPU ms/call | wall ms/call | SQL/call | DB-API executes/call | tx/call | "
        + " | ".join(CATEGORIES)
        + " |",
        "|---|" + "---:|" * (5 + len(CATEGORIES)),
    ]
    every: dict[str, float] = dict.fromkeys(CATEGORIES, 0.0)
    merged: pstats.Stats | None = None
    for f in figures:
        stats = f.stats()
        by_category = attribute(stats, lambda func: classify(func, triage_root))
        for category, seconds in by_category.items():
            every[category] += seconds
        total = sum(by_category.values())
        if f.profiled:
            if merged is None:
                merged = pstats.Stats(f.profile)
            else:
                merged.add(f.profile)
        statements = sum(f.statements.values())
        out.append(
            f"| {f.step} | {_per(f.cpu_s, f.timed, 1000)} | {_per(f.wall_s, f.timed, 1000)} | "
            f"{_per(statements, f.counted, digits=1)} | "
            f"{_per(dbapi_executes(stats), f.profiled, digits=1)} | "
            f"{_per(f.transactions, f.counted)} | "
            + " | ".join(_pct(by_category[c], total) for c in CATEGORIES)
            + " |"
        )
    cpu = sum(f.cpu_s for f in figures)
    wall = sum(f.wall_s for f in figures)
    statements = sum(sum(f.statements.values()) for f in figures)
    executes = sum(dbapi_executes(f.stats()) for f in figures)
    transactions = sum(f.transactions for f in figures)
    total = sum(every.values())
    out += [
        f"| **every step, per device** | **{_per(cpu, timed_devices, 1000)}** | "
        f"**{_per(wall, timed_devices, 1000)}** | **{_per(statements, counted_devices, digits=1)}"
        f"** | **{_per(executes, profiled_devices, digits=1)}** | "
        f"**{_per(transactions, counted_devices)}** | "
        + " | ".join(f"**{_pct(every[c], total)}**" for c in CATEGORIES)
        + " |",
        "",
        "Statements per call, by step (a statement run more than once per call in **bold**):",
        "",
        "| Step | Statements (per call) |",
        "|---|---|",
    ]
    for f in figures:
        labels: Counter[str] = Counter()
        for statement, n in f.statements.items():
            labels[statement_label(statement)] += n
        parts = []
        for label, n in labels.most_common():
            per_call = n / f.counted if f.counted else 0.0
            text = f"{label} ×{per_call:.3g}".replace("|", "\\|")
            parts.append(f"**{text}**" if per_call >= 1.5 else text)
        out.append(f"| {f.step} | {'; '.join(parts) or '–'} |")
    if merged is not None:
        raw: dict[Func, StatsEntry] = merged.stats  # type: ignore[attr-defined]
        own = sorted(raw.items(), key=lambda kv: -kv[1][2])
        own = [kv for kv in own if not _PROFILER_ITSELF.search(kv[0][2])][:TOP_FUNCTIONS]
        out += [
            "",
            f"The {TOP_FUNCTIONS} functions with the most own CPU time, every step together "
            "(the profiled devices):",
            "",
            "| Function | Category | Calls per device | Own ms per device | Share |",
            "|---|---|---:|---:|---:|",
        ]
        for func, entry in own:
            category = classify(func, triage_root) or "(its caller's)"
            out.append(
                f"| {_short(func, triage_root)} | {category} | "
                f"{entry[1] / profiled_devices:.1f} | "
                f"{1000 * entry[2] / profiled_devices:.3f} | {_pct(entry[2], total)} |"
            )
    return "\n".join(out) + "\n"


HEADER = """# Where the service layer's time goes

Generated by `bench/profile_steps.py` (`.venv/bin/python -m bench.profile_steps --help`); a run
with `--write` replaces only its own backend's section.
"""


def write(path: Path, backend: str, text: str) -> None:
    """Replace this backend's section of ``path``, keeping everything else."""
    begin = f"<!-- profile-steps:{backend}:begin: generated by bench/profile_steps.py -->"
    end = f"<!-- profile-steps:{backend}:end -->"
    replace_block(path, begin, end, text, HEADER)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.profile_steps",
        description="Per step of the service layer: CPU, SQL statements, transactions, and "
        "where the CPU goes (cProfile by category).",
    )
    p.add_argument("--devices", type=int, default=300)
    p.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--write", type=Path, help="also write the Markdown to FILE (its section)")
    args = p.parse_args(argv)
    if args.devices < (1 + len(MODES)) * BLOCK:
        p.error(
            f"--devices must be at least {(1 + len(MODES)) * BLOCK}: a block to warm up, "
            "then a block of each kind"
        )
    return args


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(raw)
    if args.write and args.write.resolve().is_relative_to(REPO_ROOT):
        require_committed(args.write)  # figures in the repository name committed code
    command = shlex.join([".venv/bin/python", "-m", "bench.profile_steps", *raw])
    text = render(profile_backend(args.backend, args.devices), command)
    print(text)
    if args.write:
        write(args.write, args.backend, text)
        log(f"written to {args.write} (the {args.backend} section)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
