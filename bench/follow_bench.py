"""Monitor benchmark (issue 21): the cost of following a facility's log from scratch with
``triage witness follow``, through the tile read API of a real running server.

One run:

* builds a facility with ``--entries`` ledger entries (generated ``device.received`` entries,
  appended in durable transactions of 10,000) and signs a checkpoint of it;
* starts ``triage serve`` on it with the tile read API public (``TRIAGE_TLOG_PUBLIC=1``);
* runs ``triage witness follow URL --key VKEY --state DIR --json`` from an empty state, as its
  own process, and measures its wall time, its CPU time (user and system, from ``wait4``),
  its peak resident memory, and the server's CPU time meanwhile (from ``/proc``);
* then a round with nothing new (the fixed cost of a round), and a round after ``--grow`` more
  entries (the cost of keeping up);
* extrapolates the from-scratch figures to 10,000,000 entries: the work per entry is linear
  (every entry is fetched, parsed and hashed once; the state stays O(log n) hashes and the
  monitor holds at most a window of bundles), so the figures scale by the entry count. They
  are labelled as extrapolated, not measured.

Run from the repository root::

    .venv/bin/python -m bench.follow_bench [--entries 1000000] [--grow 10000] [--parallel 4]
        [--write bench/results/follow.md]

Timings are measured and reported, never asserted. Correctness is checked along the way: each
round must exit 0 and end at the checkpoint's size and root.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import httpx

from bench.ledger_bench import iter_entries
from bench.provenance import describe, require_committed
from bench.serving import TRIAGE, served
from triage import bootstrap
from triage.bootstrap import App
from triage.config import Settings
from triage.ledger.checkpoint import parse_checkpoint
from triage.services import ledger as ledger_service

REPO_ROOT = Path(__file__).resolve().parent.parent
BATCH = 10_000
EXTRAPOLATE_TO = 10_000_000
PREFIX = "/api/v1/ledger/tlog"


@dataclass(frozen=True)
class Round:
    """One ``triage witness follow`` process: what it verified and what it cost."""

    label: str
    from_size: int
    to_size: int
    wall_s: float
    cpu_user_s: float
    cpu_system_s: float
    peak_rss_bytes: int
    server_cpu_s: float
    others_cpu_s: float  # every other process on the machine meanwhile: contention

    @property
    def entries(self) -> int:
        return self.to_size - self.from_size

    @property
    def cpu_s(self) -> float:
        return self.cpu_user_s + self.cpu_system_s

    def per_million(self, seconds: float) -> float:
        return seconds / self.entries * 1_000_000 if self.entries else 0.0


# --- the facility ------------------------------------------------------------------------------


def build_facility(data_dir: Path, entries: int) -> tuple[str, float, float]:
    """A facility with ``entries`` more entries and a checkpoint; (vkey, append s, sign s)."""
    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'triage.db'}")
    app = bootstrap.initialise(settings).app
    try:
        append_s = append(app, iter_entries(entries))
        sign_s = sign(app)
        return app.verifier_key(), append_s, sign_s
    finally:
        app.close()


def append(app: App, entries: Iterator[bytes]) -> float:
    """Append in durable transactions of ``BATCH``; seconds taken."""
    started = time.perf_counter()
    while batch := list(islice(entries, BATCH)):
        with app.uow(write=True) as uow:
            uow.ledger.log.append(batch)
            uow.commit()
    return time.perf_counter() - started


def sign(app: App) -> float:
    """Vouch for the ledger and sign a checkpoint of it (as the server does); seconds taken."""
    started = time.perf_counter()
    ledger_service.issue_checkpoint(
        app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
    )
    return time.perf_counter() - started


def grow_facility(data_dir: Path, entries: int, seed: int) -> None:
    """``entries`` more entries and a new checkpoint, while the server runs."""
    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'triage.db'}")
    app = bootstrap.bootstrap(settings)
    try:
        append(app, iter_entries(entries, seed=seed))
        sign(app)
    finally:
        app.close()


# --- the server and the monitor ---------------------------------------------------------------


@contextmanager
def server(data_dir: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``triage serve`` with the tile API public; yields the process and the tile prefix URL."""
    with served(data_dir, tlog_public=True) as (proc, base):
        yield proc, base + PREFIX


def machine_busy_s() -> float:
    """CPU-seconds all processes have used since boot (user, nice, system, irq, softirq)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    user, nice, system, _idle, _iowait, irq, softirq = fields
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """User and system CPU seconds a running process has used (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# Runs a command and reports its resource usage. The monitor is started by this small process,
# not by the benchmark itself: Linux carries a process's peak RSS over fork and exec, so a
# monitor forked from the benchmark (which holds a facility's worth of memory) would report
# the benchmark's peak as its own.
LAUNCHER = """
import json, os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump({"exit": os.waitstatus_to_exitcode(status), "user": usage.ru_utime,
               "system": usage.ru_stime, "maxrss_kib": usage.ru_maxrss}, out)
"""


def follow(label: str, url: str, vkey: str, state: Path, server_pid: int, parallel: int) -> Round:
    """One ``triage witness follow`` process, measured."""
    command = [*TRIAGE, "witness", "follow", url, "--key", vkey, "--state", str(state)]
    command += ["--parallel", str(parallel), "--json"]
    with tempfile.TemporaryDirectory() as scratch:
        usage_file = Path(scratch) / "usage.json"
        server_before = process_cpu_s(server_pid)
        busy_before = machine_busy_s()
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", LAUNCHER, str(usage_file), *command],
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        server_cpu = process_cpu_s(server_pid) - server_before
        busy = machine_busy_s() - busy_before
        usage = json.loads(usage_file.read_text())
    if usage["exit"] != 0:
        raise SystemExit(f"{label}: the monitor exited {usage['exit']}: {done.stderr}")
    report = json.loads(done.stdout)
    return Round(
        label=label,
        from_size=int(report["from_size"]),
        to_size=int(report["to_size"]),
        wall_s=wall,
        cpu_user_s=float(usage["user"]),
        cpu_system_s=float(usage["system"]),
        peak_rss_bytes=int(usage["maxrss_kib"]) * 1024,
        server_cpu_s=server_cpu,
        others_cpu_s=max(0.0, busy - server_cpu - usage["user"] - usage["system"]),
    )


def served_checkpoint(url: str) -> tuple[int, str]:
    body = httpx.get(f"{url}/checkpoint", timeout=30).text.split("\n\n", 1)[0] + "\n"
    checkpoint = parse_checkpoint(body)
    return checkpoint.size, base64.b64encode(checkpoint.root_hash).decode()


def kept_root(state: Path) -> tuple[int, str]:
    [path] = state.glob("*/state.json")
    kept = json.loads(path.read_text())
    return int(kept["size"]), str(kept["root"])


# --- the report -------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        platform.processor() or "unknown",
    )
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kib = next((int(line.split()[1]) for line in meminfo if line.startswith("MemTotal")), 0)
    return {
        "CPU": model,
        "Cores": str(os.cpu_count()),
        "RAM": f"{mem_kib / 2**20:.1f} GiB",
        "OS": platform.platform(),
        "Python": platform.python_version(),
    }


def render(
    args: argparse.Namespace,
    command: str,
    build: tuple[float, float],
    rounds: Sequence[Round],
) -> str:
    scratch = rounds[0]
    factor = EXTRAPOLATE_TO / scratch.entries
    mib = 2**20
    lines = [
        "## Following a log (`bench/follow_bench.py`, issue 21)",
        "",
        f"Command (from the repository root): `{command}`",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at {describe()}.",
        "",
        "| Machine | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in machine().items()),
        "",
        f"The facility: {args.entries:,} generated `device.received` entries (plus its own) on "
        f"SQLite, appended in {build[0]:.1f} s and vouched for and signed in {build[1]:.1f} s; "
        "`triage serve` with `TRIAGE_TLOG_PUBLIC=1` on the same machine. The monitor is "
        f"`triage witness follow --json` in its own process, fetching {args.parallel} entry "
        "bundles (with their level-0 tiles) at a time, gzip-compressed by the server. The "
        "server and the monitor share the machine's cores; the last column is the CPU time "
        "every other process on the machine used meanwhile (the launcher included), a "
        "measure of contention.",
        "",
        "| Round | Entries verified | Wall | Monitor CPU (user + system) | Monitor peak RSS "
        "| Server CPU | Other processes' CPU |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rounds:
        lines.append(
            f"| {r.label} | {r.entries:,} | {r.wall_s:.1f} s | {r.cpu_s:.1f} s "
            f"({r.cpu_user_s:.1f} + {r.cpu_system_s:.1f}) | {r.peak_rss_bytes / mib:.0f} MiB "
            f"| {r.server_cpu_s:.1f} s | {r.others_cpu_s:.1f} s |"
        )
    cores = os.cpu_count() or 1
    contention = scratch.others_cpu_s / (scratch.wall_s * cores)
    lines += [
        "",
        "Per million entries, from scratch (measured): "
        f"{scratch.per_million(scratch.wall_s):.1f} s wall, "
        f"{scratch.per_million(scratch.cpu_s):.1f} CPU-seconds in the monitor, "
        f"{scratch.per_million(scratch.server_cpu_s):.1f} CPU-seconds in the server. Other "
        f"processes took {contention:.0%} of the machine's CPU time during that round, so the "
        "wall time is an upper bound: the CPU times are the figures to compare.",
        "",
        f"**Extrapolated, not measured**: following a {EXTRAPOLATE_TO:,}-entry log from scratch "
        f"would take about {scratch.wall_s * factor / 60:.0f} minutes wall "
        f"({scratch.cpu_s * factor / 60:.1f} CPU-minutes in the monitor, "
        f"{scratch.server_cpu_s * factor / 60:.1f} in the server) on this machine: the "
        f"measured figures times {factor:.2f} ({EXTRAPOLATE_TO:,} / {scratch.entries:,}), "
        "since every entry is fetched, parsed and hashed once and nothing else grows with the "
        "log. Peak memory does not grow with it: the monitor keeps O(log n) hashes (the compact "
        "range) and a bounded window of bundles, so about "
        f"{scratch.peak_rss_bytes / mib:.0f} MiB is expected at {EXTRAPOLATE_TO:,} too.",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--grow", type=int, default=10_000)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--write", type=Path, help="write the Markdown report to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    if args.write:  # before anything is measured
        require_committed(args.write)
    command = "python -m bench.follow_bench " + " ".join(sys.argv[1:] if argv is None else argv)

    workdir = Path(tempfile.mkdtemp(prefix="follow-bench-"))
    data_dir, state = workdir / "var", workdir / "monitor"
    try:
        print(f"building a facility of {args.entries:,} entries in {workdir}", file=sys.stderr)
        vkey, append_s, sign_s = build_facility(data_dir, args.entries)
        rounds = []
        with server(data_dir) as (proc, url):
            size, root = served_checkpoint(url)
            print(f"following {size:,} entries from scratch", file=sys.stderr)
            rounds.append(follow("From scratch", url, vkey, state, proc.pid, args.parallel))
            assert kept_root(state) == (size, root), "the monitor did not end at the checkpoint"
            rounds.append(follow("Nothing new", url, vkey, state, proc.pid, args.parallel))
            if args.grow:
                grow_facility(data_dir, args.grow, seed=args.entries)
                size, root = served_checkpoint(url)
                rounds.append(
                    follow(f"{args.grow:,} new", url, vkey, state, proc.pid, args.parallel)
                )
                assert kept_root(state) == (size, root), "the monitor did not keep up"
        report = render(args, command, (append_s, sign_s), rounds)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(report)
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(report)


if __name__ == "__main__":
    main()
