"""Tile read API benchmark (issue 21): requests per second from a real `triage serve`.

A fresh SQLite installation whose ledger holds ``--entries`` generated ``device.received``
entries (appended in bulk as ``bench/ledger_bench.py`` does) and one checkpoint of them all,
served by `triage serve` on a free loopback port. Then, for ``--seconds`` each, ``--clients``
client processes (one keep-alive connection each, a request as soon as the last was answered)
ask for:

* full tiles: a full hash tile at random (level 0, and level 1 where it has full ones);
* partial tiles: the partial tiles the checkpoint's size requires, at random;
* bundles: a full entry bundle at random, accepting gzip (compressed once, then kept);
* checkpoint: the published checkpoint (read from the database every time).

once with an auditor's token (each request authenticated against the database) and once with
``TRIAGE_TLOG_PUBLIC=1`` (no token). Reported: requests per second, p50/p95 latency, and the
CPU the server process used (in cores) beside the clients' own, since they share the machine.

Run from the repository root::

    .venv/bin/python -m bench.tlog_bench [--entries 100000] [--seconds 20] [--clients 4]
        [--write bench/results/tlog.md]

Correctness guards, not timing assertions: every answer must be 200 with the size the request
implies (8,192 bytes for a full tile, W hashes for a partial one, a bundle of 256 entries), and
the root rebuilt from the level-0 tiles must be the checkpoint's; any other answer is counted
and reported. Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import random
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.ledger_bench import iter_entries
from bench.provenance import require_committed
from bench.serving import served
from bench.triage_bench import own_token
from triage.bootstrap import App, initialise
from triage.config import Settings
from triage.domain.caller import Caller
from triage.domain.roles import Role
from triage.ledger.bundle import parse_entry_bundle
from triage.ledger.checkpoint import open_checkpoint
from triage.ledger.rfc6962 import root_hash
from triage.ledger.tiles import TILE_WIDTH, encode_tile_index, split_hashes
from triage.services import ledger as ledger_service
from triage.services import operators

REPO_ROOT = Path(__file__).resolve().parent.parent
PREFIX = "/api/v1/ledger/tlog"
BATCH = 10_000
WORKLOADS = ("full tiles", "partial tiles", "bundles", "checkpoint")


def log(message: str) -> None:
    """Progress on stderr, so that stdout holds only the results."""
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the facility ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Facility:
    data_dir: Path
    token: str
    vkey: str
    size: int
    build_s: float


def build(workdir: Path, entries: int) -> Facility:
    """An installation with an auditor and a ledger of about ``entries`` entries, checkpointed."""
    started = time.perf_counter()
    data_dir = workdir / "var"
    app = initialise(
        Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'triage.db'}")
    ).app
    try:
        token = _auditor_token(app)
        generated = list(iter_entries(entries))
        for start in range(0, len(generated), BATCH):
            with app.uow(write=True) as uow:
                uow.ledger.log.append(generated[start : start + BATCH])
                uow.commit()
        system = Caller.system("tile-bench")
        stored = ledger_service.issue_checkpoint(app.uow, system, app.origin, app.signer_key())
        return Facility(
            data_dir, token, app.verifier_key(), stored.size, time.perf_counter() - started
        )
    finally:
        app.close()


def _auditor_token(app: App) -> str:
    first = Caller.system("first-administrator")
    admin_roles = frozenset({Role.ADMINISTRATOR})
    operators.create_operator(app.uow, first, "admin", "Admin", admin_roles)
    admin = Caller.operator("admin", admin_roles)
    operators.create_operator(app.uow, admin, "aud", "Auditor", frozenset({Role.AUDITOR}))
    return own_token(app, admin, "aud", "tile bench")


@contextmanager
def serving(facility: Facility, public: bool) -> Iterator[tuple[str, int]]:
    """`triage serve` of the facility (public or not): its base URL and process id."""
    with served(facility.data_dir, tlog_public=public) as (server, base):
        time.sleep(2)  # its tile cache warms in the background at start: not measured
        yield base, server.pid


# --- requests ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    path: str
    expect: int  # bytes of a tile; entries of a bundle; 0: a checkpoint
    gzip: bool = False


def requests_for(workload: str, size: int) -> list[Request]:
    """Every request a workload picks from, for a tree of ``size`` leaves."""
    found: list[Request] = []
    level = 0
    while size >> (8 * level):
        hashes = size >> (8 * level)  # hashes at this level
        full, width = divmod(hashes, TILE_WIDTH)
        path = f"tile/{level}/"
        if workload == "full tiles":
            found += [Request(path + encode_tile_index(n), TILE_WIDTH * 32) for n in range(full)]
        elif workload == "partial tiles" and width:
            found.append(Request(f"{path}{encode_tile_index(full)}.p/{width}", width * 32))
        elif workload == "bundles" and level == 0:
            found += [
                Request(f"tile/entries/{encode_tile_index(n)}", TILE_WIDTH, gzip=True)
                for n in range(full)
            ]
        level += 1
    if workload == "checkpoint":
        found.append(Request("checkpoint", 0))
    return found


def _check(request: Request, response: httpx.Response) -> bool:
    if response.status_code != 200:
        return False
    if request.path == "checkpoint":
        return response.text.count("\n") >= 5
    if request.gzip:
        return (
            response.headers.get("content-encoding") == "gzip"
            and len(parse_entry_bundle(response.content)) == request.expect
        )
    return len(response.content) == request.expect


@dataclass
class Outcome:
    latencies: list[float]
    failures: int
    cpu_s: float


def client(
    base: str, token: str | None, requests: Sequence[Request], seconds: float, seed: int
) -> Outcome:
    """One client: requests at random, one after another on one connection, for ``seconds``."""
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    latencies: list[float] = []
    failures = 0
    started_cpu = time.process_time()
    with httpx.Client(base_url=f"{base}{PREFIX}/", headers=headers, timeout=30) as http:
        deadline = time.perf_counter() + seconds
        while (now := time.perf_counter()) < deadline:
            request = rng.choice(requests)
            encoding = "gzip" if request.gzip else "identity"
            response = http.get(request.path, headers={"Accept-Encoding": encoding})
            latencies.append(time.perf_counter() - now)
            failures += not _check(request, response)
    return Outcome(latencies, failures, time.process_time() - started_cpu)


def _client_main(args: tuple[str, str | None, list[Request], float, int]) -> Outcome:
    return client(*args)


@dataclass(frozen=True)
class Result:
    mode: str
    workload: str
    clients: int
    requests: int
    failures: int
    seconds: float
    p50_ms: float
    p95_ms: float
    server_cores: float
    client_cores: float
    other_cores: float  # what other processes on the machine used meanwhile

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def _rank(ordered: Sequence[float], q: float) -> float:
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)] * 1000


def _cpu_s(pid: int) -> float:
    """CPU-seconds (user and system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy_s() -> float:
    """CPU-seconds all processes have used since boot (user, nice, system, irq, softirq)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    user, nice, system, _idle, _iowait, irq, softirq = fields
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def measure(
    base: str,
    pid: int,
    token: str | None,
    mode: str,
    workload: str,
    size: int,
    clients: int,
    seconds: float,
) -> Result:
    requests = requests_for(workload, size)
    jobs = [(base, token, requests, seconds, seed) for seed in range(clients)]
    before, busy, started = _cpu_s(pid), _machine_busy_s(), time.perf_counter()
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        outcomes = pool.map(_client_main, jobs)
    wall = time.perf_counter() - started
    server = _cpu_s(pid) - before
    others = _machine_busy_s() - busy - server - sum(o.cpu_s for o in outcomes)
    latencies = sorted(t for o in outcomes for t in o.latencies)
    return Result(
        mode,
        workload,
        clients,
        len(latencies),
        sum(o.failures for o in outcomes),
        seconds,
        _rank(latencies, 50),
        _rank(latencies, 95),
        server / wall,
        sum(o.cpu_s for o in outcomes) / wall,
        max(0.0, others) / wall,
    )


def check_tree(base: str, token: str, facility: Facility) -> None:
    """The served level-0 tiles rebuild the checkpoint's root (outside the timing)."""
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"{base}{PREFIX}/", headers=auth, timeout=60) as http:
        checkpoint = open_checkpoint(http.get("checkpoint").text, [facility.vkey])
        full, width = divmod(checkpoint.size, TILE_WIDTH)
        leaves: list[bytes] = []
        for n in range(full + (1 if width else 0)):
            suffix = "" if n < full else f".p/{width}"
            leaves += split_hashes(http.get(f"tile/0/{encode_tile_index(n)}{suffix}").content)
        if root_hash(leaves) != checkpoint.root_hash:
            raise RuntimeError("the served tiles do not rebuild the checkpoint's root")
        bundle = http.get("tile/entries/000", headers={"Accept-Encoding": "gzip"})
        if bundle.headers.get("content-encoding") != "gzip":
            raise RuntimeError("bundle 0 is not gzip-compressed though the client accepts it")
        parse_entry_bundle(bundle.content, TILE_WIDTH)


# --- report ------------------------------------------------------------------------------------


def _run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO_ROOT)
    return done.stdout.strip()


def machine() -> list[tuple[str, str]]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        "unknown",
    )
    commit = _run("git", "rev-parse", "--short", "HEAD")
    dirty = " dirty" if _run("git", "status", "--porcelain") else ""
    return [
        ("CPU", model),
        ("`nproc`", _run("nproc")),
        ("`free -h` (Mem)", " ".join(_run("free", "-h").splitlines()[1].split()[1:4])),
        ("Python", sys.version.split()[0]),
        ("Commit", f"`{commit}`{dirty}"),
        ("Load average at start (1/5/15 min)", " / ".join(f"{x:.2f}" for x in os.getloadavg())),
        ("Date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
    ]


def render(
    command: str, facts: list[tuple[str, str]], facility: Facility, results: list[Result]
) -> str:
    lines = [
        "# Tile read API benchmark (issue 21)",
        "",
        "Generated by `bench/tlog_bench.py`; benchmarks are run by hand and no test asserts",
        "anything about timing.",
        "",
        f"Command (from the repository root): `{command}`",
        "",
        "| Machine | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in facts),
        "",
        f"Ledger: {facility.size:,} entries (generated `device.received` entries, about 250 "
        f"bytes each) and one checkpoint of them, built in {facility.build_s:.1f} s; SQLite; one "
        "`triage serve` process (uvicorn, one worker). Clients: separate processes on the same "
        "machine, one keep-alive connection each, the next request as soon as an answer arrives.",
        "",
        "| Mode | Workload | Clients | Requests | Failed | Requests/s | p50 ms | p95 ms "
        "| Server CPU (cores) | Clients' CPU (cores) | Others' CPU (cores) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.mode} | {r.workload} | {r.clients} | {r.requests:,} | {r.failures} "
            f"| {r.rate:,.0f} | {r.p50_ms:.1f} | {r.p95_ms:.1f} | {r.server_cores:.2f} "
            f"| {r.client_cores:.2f} | {r.other_cores:.2f} |"
        )
    lines += [
        "",
        "What each workload asks for: *full tiles*, a full hash tile at random (8,192 bytes; "
        "from memory once served, as they never change); *partial tiles*, one of the partial "
        "tiles the checkpoint's size requires (read from the database each time); *bundles*, a "
        "full entry bundle at random with `Accept-Encoding: gzip` (compressed once, then kept); "
        "*checkpoint*, the published checkpoint (read from the database each time). With a "
        "token, every request is also authenticated against the database; in public mode "
        "(`TRIAGE_TLOG_PUBLIC=1`) no token is read. Server CPU is the `triage serve` process's "
        "user and system time over the wall time; the clients' is theirs: the two share the "
        "machine's cores, so the clients' share is CPU the server could not use. *Others'* is "
        "what every other process on the machine used meanwhile (from `/proc/stat`): a figure "
        "taken while it is high is slower than the machine can do.",
        "",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000, help="ledger size")
    parser.add_argument("--seconds", type=float, default=20.0, help="per workload and mode")
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--write", type=Path, help="also write the report to this file")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    command = shlex.join([".venv/bin/python", "-m", "bench.tlog_bench", *sys.argv[1:]])
    if args.write:  # before anything is measured
        require_committed(args.write)
    facts = machine()
    with tempfile.TemporaryDirectory(prefix="tlog-bench-") as tmp:
        log(f"building a ledger of {args.entries:,} entries")
        facility = build(Path(tmp), args.entries)
        log(f"built: {facility.size:,} entries in {facility.build_s:.1f} s")
        results: list[Result] = []
        for mode, public in (("token", False), ("public", True)):
            with serving(facility, public) as (base, pid):
                check_tree(base, facility.token, facility)
                token = None if public else facility.token
                for workload in WORKLOADS:
                    log(f"{mode}: {workload} for {args.seconds:.0f} s")
                    result = measure(
                        base,
                        pid,
                        token,
                        mode,
                        workload,
                        facility.size,
                        args.clients,
                        args.seconds,
                    )
                    log(f"  {result.rate:,.0f} requests/s, {result.failures} failed")
                    results.append(result)
    report = render(command, facts, facility, results)
    print(report)
    if args.write:
        args.write.write_text(report)
    return 1 if any(r.failures for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
