"""Load and fault runs of the triage facility through its HTTP API (issue 8).

**Load** (``make load``): on SQLite, then on PostgreSQL, a fresh installation with a real
``triage serve`` on a free loopback port and, for each of ``--benches`` benches, one bench
operator signed in at that bench, its own enrolled Triage Tool and its own ``triage agent run``
process. One bench worker thread per bench takes devices from a consignment and drives each
through the API to its end: scan, inspection (the tamper policy decides), the supervisor's
review and override where the policy asks for one, the work order, the agent's reset and the
server's verification, seal and release; or quarantine (by the policy, by a supervisor, or by
the system when resets keep failing) and disposal. Which path a device takes is drawn from
``--seed``; some simulated devices fail their reset or its verification, once or every time.

Every HTTP request of the bench workers is timed and counted by endpoint template (``POST
/api/v1/jobs/{job_id}/seal``), with its status: the report gives count, throughput, p50, p95,
p99 and max, the 5xx (there must be none) and the 4xx the workflow did not expect. The agents'
side is read from the ledger: the time from each ``reset.authorised`` entry to its
``reset.verified``.

**Faults** (``make faults``, ``--faults``): the same load, while a chaos thread SIGKILLs the
server, an agent, or both at once, at moments drawn from ``--seed`` (every ``--kill-gap`` s),
``--kills`` times, and restarts what it killed. The bench workers retry through connection
errors: a request that got no response is *not* acknowledged, and the worker reads the job
again and carries on from the state it finds; a request that got a 2xx *is* acknowledged and
goes into a client-side journal (job, step, resulting state). The work orders are valid for the
shortest time the facility allows, and the server sweeps expired ones often. After the chaos,
one last clean restart of everything, then the bench workers finish the devices in hand.

Afterwards (not timed), for both: ``triage ledger verify`` and ``triage ledger replay --check``
exit 0; every job's history in the ledger is a path of ``triage.domain.lifecycle`` and its
projected state is the last step's (``bench/checks.py``); no request got a 5xx (client side and
the server's access log); every acknowledged step is in the ledger and the projections; and no
device is silently stuck: each ends released, quarantined or disposed of, or in a state in which
the system itself asks a person to act. The exit status is 1 when any check fails.

Run from the repository root::

    .venv/bin/python -m bench.load [--backend sqlite|postgresql|both] [--devices 500]
        [--benches 10] [--duration 300] [--seed 8] [--write docs/performance.md]
    .venv/bin/python -m bench.load --faults [--kills 8] [--kill-gap 5,15]
        [--write docs/reliability.md]

Everything is bounded (``--duration``, per-device and per-request limits) and on loopback;
every process the run starts is stopped at the end, and its temporary directory removed.
Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import queue
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy

from bench.checks import (
    Ack,
    AttemptSummary,
    Endings,
    LedgerView,
    check_acknowledged,
    check_lifecycle,
    endings,
    read_ledger,
    reset_attempts,
)
from bench.triage_bench import (
    ASSET_OWNER,
    EVIDENCE,
    TRIAGE,
    UNLIMITED,
    ApiRun,
    BenchFleet,
    CheckResult,
    SimDevice,
    _duration,
    _loadavg,
    _ms,
    _rank,
    _tail,
    count_requests,
    device_catalogue,
    ledger_checks,
    log,
    machine,
    make_devices,
    manifest_csv,
    replace_block,
    triage_cli,
)
from triage.bootstrap import bootstrap
from triage.config import Settings
from triage.domain.lifecycle import TRANSITIONS, Action

BACKENDS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
MAX_ATTEMPTS = 3  # the facility's default reset attempts per job (left unchanged)
AIMED_SHARE = 0.6  # kills aimed at a reset in progress (the others come at any moment)
AIM_WINDOW = 5.0  # s an aimed kill waits for the agent's journal to show the moment
READ_RETRY = 30.0  # s a worker waits for the tool to upload a log before ordering a new read
OUTAGE_LIMIT = 120.0  # s a worker keeps retrying through connection errors before giving up
MAX_FAILED = 25  # devices; the run stops starting new ones after this many failures
JUSTIFICATION = "supervisor review at the bench: the cover was opened for a documented repair"

# Entry types the acknowledged steps must find in the ledger.
ENTRY = {a: TRANSITIONS[a].entry_type for a in Action}
DECISION_STATE = {
    "eligible": "eligible",
    "quarantine": "quarantined",
    "reverify_metrology": "reverify_metrology",
    "supervisor_review": "awaiting_review",
}
DISPOSED_STATE = {"destroy": "destroyed", "return": "returned_to_manufacturer"}


# --- the devices' paths ----------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """One path through the facility, and how often devices take it."""

    name: str
    weight: int
    description: str
    evidence: Mapping[str, Any] = field(default_factory=lambda: EVIDENCE)
    review: str | None = None  # the supervisor's override when the policy asks for a review
    set_aside: bool = False  # a supervisor quarantines the eligible device before its reset
    failures: tuple[int, int] = (0, 0)  # resets that fail outright, resets that half clear
    disposal: str = "destroy"
    ends: str = "released"  # how a device on this path ends when nothing goes wrong


COVER_OPENED = {**EVIDENCE, "outer_covers_opened": ["terminal"]}
SCENARIOS = (
    Scenario("happy", 68, "eligible, reset, verified, sealed, released"),
    Scenario(
        "review, override to eligible",
        6,
        "unexplained cover opening: supervisor review; override to eligible; then released",
        COVER_OPENED,
        review="eligible",
    ),
    Scenario(
        "review, override to quarantine",
        3,
        "unexplained cover opening: supervisor review; override to quarantine; destroyed",
        COVER_OPENED,
        review="quarantine",
        ends="destroyed",
    ),
    Scenario(
        "policy quarantine",
        3,
        "CPA boundary breached: quarantined by the policy; returned to the manufacturer",
        {**EVIDENCE, "cpa_boundary_intact": False},
        disposal="return",
        ends="returned_to_manufacturer",
    ),
    Scenario(
        "metrology",
        2,
        "metrology seal broken: re-verification; returned to the manufacturer",
        {**EVIDENCE, "metrology_seal_intact": False},
        disposal="return",
        ends="returned_to_manufacturer",
    ),
    Scenario(
        "set aside by a supervisor",
        3,
        "eligible, then quarantined by a supervisor before the reset; destroyed",
        set_aside=True,
        ends="destroyed",
    ),
    Scenario(
        "reset fails once",
        6,
        "the first reset fails: reset_failed; a second work order; released",
        failures=(1, 0),
    ),
    Scenario(
        "verification fails once",
        5,
        "the first reset half clears: verification_failed; a second work order; released",
        failures=(0, 1),
    ),
    Scenario(
        "reset always fails",
        4,
        f"every reset fails: quarantined by the system after {MAX_ATTEMPTS} attempts; destroyed",
        failures=(MAX_ATTEMPTS, 0),
        ends="destroyed",
    ),
)


def plan(devices: Sequence[SimDevice], seed: int) -> dict[str, Scenario]:
    """Each device's path, drawn from ``seed``."""
    rng = random.Random(seed)
    weights = [s.weight for s in SCENARIOS]
    return {d.device_id: rng.choices(SCENARIOS, weights)[0] for d in devices}


# --- requests --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    endpoint: str  # method and route template
    status: int | None  # None: no response (connection error)
    seconds: float
    expected: bool  # a status the workflow expects at that point (2xx, or a tolerated 4xx)


class Recorder:
    """Every bench worker request, from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: list[Request] = []

    def add(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)


@dataclass(frozen=True)
class EndpointStats:
    endpoint: str
    count: int  # responses
    per_s: float
    p50: float  # ms
    p95: float
    p99: float
    max: float
    server_errors: int
    unexpected_4xx: int
    expected_4xx: int
    no_response: int


def endpoint_stats(requests: Sequence[Request], seconds: float) -> list[EndpointStats]:
    by: dict[str, list[Request]] = {}
    for r in requests:
        by.setdefault(r.endpoint, []).append(r)
    out = []
    for endpoint, rs in by.items():
        answered = [r for r in rs if r.status is not None]
        ms = [r.seconds * 1000 for r in answered] or [0.0]
        out.append(
            EndpointStats(
                endpoint,
                len(answered),
                len(answered) / max(seconds, 1e-9),
                _rank(ms, 50),
                _rank(ms, 95),
                _rank(ms, 99),
                max(ms),
                sum(1 for r in answered if r.status is not None and r.status >= 500),
                sum(1 for r in answered if 400 <= (r.status or 0) < 500 and not r.expected),
                sum(1 for r in answered if 400 <= (r.status or 0) < 500 and r.expected),
                len(rs) - len(answered),
            )
        )
    return sorted(out, key=lambda e: -e.count)


class NoResponse(Exception):
    """A request got no response: it is not acknowledged."""


class DeviceFailed(Exception):
    """A device cannot go on: an unexpected answer, or it waited too long."""


class Client:
    """One operator's HTTP client: every request timed and recorded under its template."""

    def __init__(self, base_url: str, token: str, recorder: Recorder, timeout: float) -> None:
        self.http = httpx.Client(
            base_url=base_url, timeout=timeout, headers={"Authorization": f"Bearer {token}"}
        )
        self.recorder = recorder

    def close(self) -> None:
        self.http.close()

    def call(
        self,
        method: str,
        template: str,
        expect: Sequence[int] = (200,),
        tolerate: Sequence[int] = (),
        **kwargs: Any,
    ) -> httpx.Response:
        """The response (any status), or NoResponse. ``kwargs`` fill the path's ``{names}``
        and pass ``json`` and ``params`` on."""
        names = set(re.findall(r"{(\w+)}", template))
        path = template.format(**{k: kwargs.pop(k) for k in names})
        start = time.perf_counter()
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            self.recorder.add(
                Request(f"{method} {template}", None, time.perf_counter() - start, False)
            )
            raise NoResponse(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        self.recorder.add(
            Request(
                f"{method} {template}",
                status,
                time.perf_counter() - start,
                status in expect or status in tolerate,
            )
        )
        return response


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Kill:
    at: float  # s after the bench workers started
    target: str
    pids: list[int]
    down_s: float  # from the kill to the restart
    back_s: float  # from the restart to the process answering (the server) or running
    moment: str = ""


@dataclass
class RunResult:
    backend: str
    faults: bool
    devices: int
    benches: int
    setup_s: float = 0.0
    import_s: float = 0.0
    wall_s: float = 0.0  # the bench workers' lifecycle phase
    drain_s: float = 0.0  # faults: after the last restart until the last device
    endpoints: list[EndpointStats] = field(default_factory=list)
    server_requests: dict[str, int] = field(default_factory=dict)
    server_5xx: int = 0
    started: int = 0
    finished: int = 0
    failures: list[str] = field(default_factory=list)
    gave_up: dict[str, str] = field(default_factory=dict)  # device -> why the worker gave up
    by_path: dict[str, Counter[str]] = field(default_factory=dict)  # path -> final state
    path_mismatch: list[str] = field(default_factory=list)
    observed_reset: list[float] = field(default_factory=list)  # 201 -> poll sees verified, s
    attempts: AttemptSummary | None = None
    end: Endings | None = None
    checks: dict[str, CheckResult] = field(default_factory=dict)
    ledger_entries: int = 0
    entry_types: Counter[str] = field(default_factory=Counter)
    acks_checked: int = 0
    kills: list[Kill] = field(default_factory=list)
    unexpected_exits: list[str] = field(default_factory=list)
    retried: Counter[str] = field(default_factory=Counter)  # endpoint -> no-response retries
    reauthorised: Counter[str] = field(default_factory=Counter)  # from which state
    settings: dict[str, str] = field(default_factory=dict)
    journals: Counter[str] = field(default_factory=Counter)  # from the agents' journals
    cpu_s: dict[str, float] = field(default_factory=dict)
    stopped_early: str | None = None

    @property
    def ok(self) -> bool:
        return all(c.exit_code == 0 for c in self.checks.values())


class LoadRun:
    """One backend: setup, the bench workers (and the chaos thread), the checks."""

    def __init__(
        self,
        args: argparse.Namespace,
        backend: str,
        workdir: Path,
        database_url: str | None,
        devices: Sequence[SimDevice],
        paths: Mapping[str, Scenario],
    ) -> None:
        self.args = args
        self.faults: bool = args.faults
        self.devices = devices
        self.paths = paths
        self.database_url = database_url
        self.workdir = workdir
        failures = {d: s.failures for d, s in paths.items() if s.failures != (0, 0)}
        catalogue = device_catalogue(devices, workdir, failures)
        self.api = ApiRun(
            devices,
            catalogue,
            workdir,
            database_url,
            argparse.Namespace(
                workers=args.benches,
                agents=args.benches,  # one bench, one tool, one agent per operator
                agent_interval=args.agent_interval,
                poll_interval=args.poll_interval,
                # The agents poll every --agent-interval, as when these runs were first
                # measured: this run's own workers poll too (triage_bench's --wait 0).
                wait=0.0,
                timeout=args.duration,
            ),
        )
        self.result = RunResult(backend, self.faults, len(devices), args.benches)
        self.recorder = Recorder()
        self.acks: list[Ack] = []
        self.lock = threading.Lock()  # results and the journal
        self.proc_lock = threading.Lock()  # the processes: chaos, restarts, the watch
        self.stop_new = threading.Event()  # take no new devices
        self.abort = threading.Event()  # give up the devices in hand too
        self.chaos_done = threading.Event()
        self.order_issued = [threading.Event() for _ in range(args.benches)]  # per bench
        self.killing: set[int] = set()  # pids the chaos thread is killing
        self.rng = random.Random(args.seed)
        self.device_wait = args.device_wait

    # setup -----------------------------------------------------------------------------------
    def setup(self) -> None:
        api, env = self.api, self.api.env
        start = time.perf_counter()
        log(f"{self.result.backend}: setting up {self.args.benches} benches with `triage`")
        api.setup()
        security, admin = api.security_token, api.admin_token
        # The simulated failures are the point here, not misuse: no threshold may suspend a
        # tool or an operator for them (or for refusals after a restart; they are counted).
        for metric in ("failed_verifications", "refused_commands"):
            triage_cli(
                env, "thresholds", "set", metric, "--max-count", str(UNLIMITED), "--token", security
            )
        settings = ["--token", admin, "--json"]
        if self.faults:
            settings += ["--work-order-minutes", str(self.args.order_minutes)]
        shown = json.loads(triage_cli(env, "facility", "settings", *settings))
        self.result.settings = {
            "reset attempts per job": str(shown["max_reset_attempts"]),
            "work orders valid for": f"{shown['work_order_minutes']} min",
        }
        minutes = int(shown["work_order_minutes"])
        if self.faults:
            help_text = subprocess.run(
                [*TRIAGE, "serve", "--help"],
                env={**env, "COLUMNS": "200"},
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            ).stdout
            if "--sweep-interval" in help_text:
                api.serve_options = ["--sweep-interval", str(self.args.sweep_interval)]
                self.result.settings["expired-order sweep"] = (
                    f"every {self.args.sweep_interval} s (`triage serve --sweep-interval`)"
                )
            else:
                self.result.settings["expired-order sweep"] = (
                    "not available (`triage serve` has no --sweep-interval)"
                )
            # A reset left without a result is closed by the sweep some time after the order
            # expires: the worker waits that long, and a margin, before calling it stuck.
            grace = _expiry_grace()
            self.device_wait = max(
                self.device_wait,
                minutes * 60 + grace + 2 * self.args.sweep_interval + 60,
            )
            self.result.settings["a worker waits for a reset at most"] = (
                f"{self.device_wait:.0f} s (validity + {grace:.0f} s sweep grace + margin)"
            )
        api.start_processes()
        self.result.setup_s = time.perf_counter() - start

    # the run ---------------------------------------------------------------------------------
    def run(self) -> None:
        api, result = self.api, self.result
        cpu0 = api.cpu_seconds()
        # The import is one long request, reported on its own (not among the endpoints).
        sup = Client(api.base_url, api.sup_token, Recorder(), 600)
        start = time.perf_counter()
        try:
            response = sup.call(
                "POST",
                "/api/v1/consignments",
                expect=(201,),
                params={"reference": "C-LOAD", "asset_owner": ASSET_OWNER},
                content=manifest_csv(self.devices),
                headers={"Content-Type": "text/csv"},
            )
        finally:
            sup.close()
        result.import_s = time.perf_counter() - start
        body = response.json()
        if response.status_code != 201 or body.get("imported") != len(self.devices):
            raise RuntimeError(f"import: HTTP {response.status_code}: {str(body)[:300]}")
        log(f"{result.backend}: {len(self.devices):,} devices imported in {result.import_s:.1f} s")

        work: queue.SimpleQueue[SimDevice] = queue.SimpleQueue()
        for d in self.devices:
            work.put(d)
        workers = [
            threading.Thread(
                target=self._worker, args=(w, work), name=f"bench-{w + 1}", daemon=True
            )
            for w in range(self.args.benches)
        ]
        self.t0 = time.monotonic()
        begin = time.perf_counter()
        for t in workers:
            t.start()
        chaos = None
        if self.faults:
            chaos = threading.Thread(target=self._chaos, name="chaos", daemon=True)
            chaos.start()
        try:
            self._watch(workers)
        except BaseException:  # Ctrl-C, SIGTERM: the threads stop, the processes are stopped
            self.stop_new.set()
            self.abort.set()
            raise
        if chaos is not None:
            self.chaos_done.wait(timeout=300)
            chaos.join(timeout=120)
        result.wall_s = time.perf_counter() - begin
        if self.faults and self.final_restart_at is not None:
            result.drain_s = time.monotonic() - self.final_restart_at
        end = api.cpu_seconds()
        result.cpu_s = {k: end[k] - cpu0[k] for k in end} if not self.faults else {}

    def _watch(self, workers: Sequence[threading.Thread]) -> None:
        """Until the bench workers are done: watch the processes and the time limits."""
        result = self.result
        last_report = time.monotonic()
        hard_stop = self.t0 + self.args.duration + self.device_wait + OUTAGE_LIMIT + 60
        while any(t.is_alive() for t in workers):
            time.sleep(0.5)
            self._watch_processes()
            now = time.monotonic()
            if now - self.t0 > self.args.duration and not self.stop_new.is_set():
                self._stop_new("--duration reached")
            if now > hard_stop and not self.abort.is_set():
                self._stop_new("hard time limit reached")
                self.abort.set()
            if now - last_report > 15:
                last_report = now
                log(
                    f"{result.backend}: {result.finished:,} of {result.started:,} devices "
                    f"started have ended ({len(result.failures)} failed)"
                )

    def _stop_new(self, reason: str) -> None:
        if not self.stop_new.is_set():
            log(f"{self.result.backend}: no new devices from now on: {reason}")
            if self.result.stopped_early is None and reason != "the chaos is over":
                self.result.stopped_early = reason
        self.stop_new.set()

    def _watch_processes(self) -> None:
        """A process that exits on its own is a finding: in a load run it ends the run, in a
        fault run it is restarted (and reported)."""
        api = self.api
        with self.proc_lock:
            dead = [
                (i, p)
                for i, p in enumerate(api.procs)
                if p.poll() is not None and p.pid not in self.killing
            ]
            for i, proc in dead:
                name = "server" if proc is api.server else f"agent {api.tools[i - 1][0]}"
                message = f"{name} (pid {proc.pid}) exited by itself with status {proc.returncode}"
                log(f"{self.result.backend}: {message}")
                with self.lock:
                    self.result.unexpected_exits.append(message)
                if not self.faults:
                    self._stop_new(message)
                    self.abort.set()
                    continue
                self.killing.add(proc.pid)  # report it once
                if proc is api.server:
                    api.start_server()
                else:
                    api.agent_procs[i - 1] = api.start_agent(i - 1)

    # chaos -----------------------------------------------------------------------------------
    final_restart_at: float | None = None

    def _chaos(self) -> None:
        """Kill and restart the server and the agents at seeded moments, then restart all."""
        args, api = self.args, self.api
        low, high = args.kill_gap
        try:
            for _ in range(args.kills):
                gap = self.rng.uniform(low, high)
                choice = self.rng.random()
                k = self.rng.randrange(len(api.tools))
                down = self.rng.uniform(0.5, 3.0)
                aimed = self.rng.random() < AIMED_SHARE
                if self.abort.wait(gap):
                    break
                if not any(t.name.startswith("bench-") for t in threading.enumerate()):
                    break
                targets: list[str | int] = (
                    ["server"] if choice < 0.4 else [k] if choice < 0.85 else ["server", k]
                )
                moment = "any moment"
                if aimed:
                    # The agent's reset begun (its journal says "started"), or its result
                    # about to reach the server ("result"): the moments recovery is for.
                    event = "result" if targets == ["server"] else "started"
                    moment = self._aim(k, event)
                self._kill(targets, down, moment)
            if not self.abort.wait(self.rng.uniform(low, high)):
                self._final_restart()
        except Exception as exc:  # the run goes on; the report says what happened
            log(f"{self.result.backend}: chaos thread failed: {exc!r}")
            self.result.unexpected_exits.append(f"chaos thread failed: {exc!r}")
            self.abort.set()
        finally:
            self._stop_new("the chaos is over")
            self.chaos_done.set()

    def _aim(self, k: int, event: str) -> str:
        """Wait for the next work order to bench k and then for its agent to write ``event``
        to its journal; returns how the moment was found (the kill follows at once).

        The journal is the agent's own file (``STATE_DIR/journal``, one JSON object a line);
        without one (an agent that keeps none), the kill comes 0.1 s after the work order.
        """
        tool_id = self.api.tools[k][0]
        journal = self.api.workdir / "agents" / f"{tool_id}-state" / "journal"
        try:
            offset = journal.stat().st_size
        except OSError:
            offset = 0
        self.order_issued[k].clear()
        if not self.order_issued[k].wait(timeout=15):
            return f"any moment (no work order to {tool_id} within 15 s)"
        deadline = time.monotonic() + AIM_WINDOW
        pending = b""
        while time.monotonic() < deadline:
            try:
                with journal.open("rb") as f:
                    f.seek(offset)
                    chunk = f.read()
            except OSError:
                time.sleep(0.1)
                return f"0.1 s after a work order to {tool_id} (no agent journal)"
            offset += len(chunk)
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            for line in lines:
                with contextlib.suppress(ValueError):
                    if json.loads(line).get("event") == event:
                        return f'{tool_id}\'s journal just said "{event}"'
            time.sleep(0.001)
        return f'any moment (no "{event}" in {tool_id}\'s journal within {AIM_WINDOW:g} s)'

    def _kill(self, targets: list[str | int], down: float, moment: str) -> None:
        api = self.api
        at = time.monotonic() - self.t0
        names, procs = [], []
        with self.proc_lock:
            for target in targets:
                proc = api.server if target == "server" else api.agent_procs[int(target)]
                assert proc is not None
                names.append(
                    "server" if target == "server" else f"agent {api.tools[int(target)][0]}"
                )
                procs.append(proc)
                self.killing.add(proc.pid)
            for proc in procs:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGKILL)
            for proc in procs:
                proc.wait(timeout=30)
        log(f"{self.result.backend}: t={at:.1f} s: SIGKILL {' + '.join(names)}")
        time.sleep(down)
        restarted = time.monotonic()
        with self.proc_lock:
            for target in targets:  # the server first, so the agent finds it
                if target == "server":
                    api.start_server()
                else:
                    api.agent_procs[int(target)] = api.start_agent(int(target))
        self.result.kills.append(
            Kill(
                round(at, 1),
                " + ".join(names),
                [p.pid for p in procs],
                round(restarted - self.t0 - at, 1),
                round(time.monotonic() - restarted, 1),
                moment,
            )
        )

    def _final_restart(self) -> None:
        """Stop everything cleanly and start it again: what the system does on its way up
        (the sweep at start, the agents' journals) runs once more."""
        api = self.api
        at = time.monotonic() - self.t0
        log(f"{self.result.backend}: t={at:.1f} s: final restart of the server and every agent")
        self._stop_new("the chaos is over")
        with self.proc_lock:
            for proc in api.procs:
                self.killing.add(proc.pid)
            api.stop_processes()
            restarted = time.monotonic()
            api.start_server()
            api.agent_procs = [api.start_agent(k) for k in range(len(api.tools))]
        self.final_restart_at = time.monotonic()
        self.result.kills.append(
            Kill(
                round(at, 1),
                "final restart of all (SIGTERM, not counted as a kill)",
                [],
                round(restarted - self.t0 - at, 1),
                round(time.monotonic() - restarted, 1),
                "after the last kill",
            )
        )

    # bench workers ---------------------------------------------------------------------------
    def _worker(self, w: int, work: queue.SimpleQueue[SimDevice]) -> None:
        api = self.api
        timeout = 60.0
        bench = Client(api.base_url, api.bench_tokens[w], self.recorder, timeout)
        sup = Client(api.base_url, api.sup_token, self.recorder, timeout)
        tool_id, _, fleet = api.tools[w]
        try:
            while not self.stop_new.is_set():
                try:
                    d = work.get_nowait()
                except queue.Empty:
                    return
                with self.lock:
                    self.result.started += 1
                worker = _Device(self, bench, sup, d, self.paths[d.device_id], tool_id, fleet, w)
                try:
                    worker.run()
                    with self.lock:
                        self.result.finished += 1
                except (DeviceFailed, NoResponse, httpx.HTTPError, OSError, ValueError) as exc:
                    with self.lock:
                        self.result.failures.append(f"{d.device_id}: {exc}")
                        self.result.gave_up[d.device_id] = str(exc)[:200]
                        too_many = len(self.result.failures) >= MAX_FAILED
                    log(f"{self.result.backend}: device {d.device_id} failed: {exc}")
                    if too_many:
                        self._stop_new(f"{MAX_FAILED} devices failed")
                finally:
                    with contextlib.suppress(OSError):
                        fleet.remove(d.device_id)
        finally:
            bench.close()
            sup.close()

    def acknowledge(self, ack: Ack) -> None:
        with self.lock:
            self.acks.append(ack)

    # checks ----------------------------------------------------------------------------------
    def check(self) -> None:
        """After the processes are stopped: the ledger checks and the lifecycle checks."""
        api, result = self.api, self.result
        result.server_requests = count_requests(self.workdir / "server.log")
        result.server_5xx = sum(
            n for k, n in result.server_requests.items() if re.search(r"\(5\d\d\)$", k)
        )
        result.endpoints = endpoint_stats(self.recorder.requests, max(result.wall_s, 1e-9))
        for r in self.recorder.requests:
            if r.status is None:
                result.retried[r.endpoint] += 1
        result.checks = ledger_checks({**api.env, "TRIAGE_TOKEN": api.sup_token})
        data_dir = api.data_dir.resolve()
        url = self.database_url or f"sqlite:///{data_dir / 'triage.db'}"
        application = bootstrap(Settings(data_dir=data_dir, database_url=url))
        try:
            start = time.perf_counter()
            view = read_ledger(application.uow)
            problems = check_lifecycle(view)
            result.checks["no impossible state (bench/checks.py)"] = _check(
                problems,
                f"{len(view.jobs):,} jobs, {sum(len(j.steps) for j in view.jobs.values()):,} "
                "job steps, every one a lifecycle transition, projections agree",
                start,
            )
            start = time.perf_counter()
            checked, problems = check_acknowledged(view, self.acks)
            result.acks_checked = checked
            result.checks["every acknowledged step in the ledger and the projections"] = _check(
                problems, f"{checked:,} acknowledged steps found", start
            )
        finally:
            application.close()
        result.ledger_entries = view.entries
        result.entry_types = view.types
        result.attempts = reset_attempts(view)
        ids = [d.device_id for d in self.devices]
        result.end = end = endings(view, ids)
        result.by_path = {}
        latest = _latest_states(view)
        for device, state in latest.items():
            scenario = self.paths.get(device)
            if scenario is None:
                continue
            result.by_path.setdefault(scenario.name, Counter())[state] += 1
            if state != scenario.ends:
                why = result.gave_up.get(device)
                result.path_mismatch.append(
                    f"{device} ({scenario.name}): {state}" + (f", gave up: {why}" if why else "")
                )
        client_5xx = sum(e.server_errors for e in result.endpoints)
        result.checks["no 5xx"] = _check(
            [f"{client_5xx} 5xx seen by the bench workers"] * bool(client_5xx)
            + [f"{result.server_5xx} 5xx in the server's access log"] * bool(result.server_5xx),
            f"{len(self.recorder.requests):,} bench requests and "
            f"{sum(result.server_requests.values()):,} logged by the server, none 5xx",
        )
        result.checks["no unexpected 4xx"] = _check(
            [
                f"{e.endpoint}: {e.unexpected_4xx} unexpected 4xx"
                for e in result.endpoints
                if e.unexpected_4xx
            ],
            "every 4xx was one the workflow expects at that point"
            if any(e.expected_4xx for e in result.endpoints)
            else "no 4xx at all",
        )
        stuck = [
            f"{d}: {s}"
            + (f" (its bench worker gave up: {result.gave_up[d]})" if d in result.gave_up else "")
            for d, s in sorted(end.stuck.items())
        ]
        result.checks["no device silently stuck"] = _check(
            stuck,
            f"{end.ended:,} ended (released, quarantined or disposed of), "
            f"{len(end.attention):,} waiting for a person in a state the system set, "
            f"{end.not_started:,} not started",
        )
        if not self.faults:
            result.checks["every device started ended as its path expects"] = _check(
                result.path_mismatch
                + [
                    f"{device}: never scanned in, gave up: {why}"
                    for device, why in result.gave_up.items()
                    if device not in latest
                ],
                f"{result.started:,} devices started, all ended as planned",
            )
        if result.unexpected_exits:
            result.checks["no process exited by itself"] = _check(result.unexpected_exits, "")


def _expiry_grace() -> float:
    """Seconds the server's sweep leaves after a work order's expiry (its default setting,
    when the code has one; two minutes otherwise)."""
    from triage.config import Settings

    grace = getattr(Settings, "work_order_expiry_grace", timedelta(minutes=2))
    return grace.total_seconds() if isinstance(grace, timedelta) else 120.0


def _latest_states(view: LedgerView) -> dict[str, str]:
    out: dict[str, str] = {}
    for device, jobs in view.device_jobs().items():
        latest = max(jobs, key=lambda j: j.steps[0].index if j.steps else -1)
        out[device] = latest.projected or "?"
    return out


def _check(problems: Sequence[str], summary: str, start: float | None = None) -> CheckResult:
    seconds = 0.0 if start is None else time.perf_counter() - start
    if not problems:
        return CheckResult(0, seconds, summary)
    shown = "; ".join(problems[:8]) + (
        f"; and {len(problems) - 8} more" if len(problems) > 8 else ""
    )
    return CheckResult(1, seconds, f"{len(problems)} problem(s): {shown}")


def _why(response: httpx.Response) -> str:
    """The status and the problem's detail, short."""
    try:
        detail = str(response.json().get("detail", ""))
    except (ValueError, AttributeError):
        detail = response.text
    return f"HTTP {response.status_code}: {detail[:160]}"


class _Device:
    """One device driven from scan to its end by the job's state, read back after every step
    that got no answer, so a lost response never makes the worker skip or repeat a step."""

    def __init__(
        self,
        run: LoadRun,
        bench: Client,
        sup: Client,
        d: SimDevice,
        scenario: Scenario,
        tool_id: str,
        fleet: BenchFleet,
        w: int,
    ) -> None:
        self.run_ = run
        self.bench = bench
        self.sup = sup
        self.d = d
        self.scenario = scenario
        self.tool_id = tool_id
        self.fleet = fleet
        self.w = w
        self.job_id = ""
        self.on_bench = False
        self.read_ordered_at: float | None = None
        self.seal: str | None = None
        self.outage_since: float | None = None
        self.conflicts = 0

    # requests with the fault run's retry rules ------------------------------------------------
    def _post(
        self, client: Client, template: str, expect: int = 200, **kwargs: Any
    ) -> dict[str, Any] | None:
        """POST; the JSON body on ``expect``, None when unacknowledged (no response, or under
        faults a 409 that re-reading the job resolves), DeviceFailed on anything else."""
        faults = self.run_.faults
        try:
            response = client.call(
                "POST", template, expect=(expect,), tolerate=(409,) if faults else (), **kwargs
            )
        except NoResponse as exc:
            self._no_response(exc)
            return None
        self.outage_since = None
        if response.status_code == expect:
            body: dict[str, Any] = response.json()
            return body
        if response.status_code == 409 and faults:
            self.conflicts += 1
            if self.conflicts > 20:
                raise DeviceFailed(f"POST {template}: 20 conflicts, the last {_why(response)}")
            time.sleep(self.run_.args.poll_interval)
            return None
        raise DeviceFailed(f"POST {template}: {_why(response)}")

    def _security_log_read(self) -> bool:
        """Whether the tool has uploaded the device's security log, which the inspection
        weighs; if not, the device goes on the tool's bench and the tool is asked to read it
        (again, when an earlier read order was lost to a fault or ran out). A Type 2 device
        keeps none."""
        if not self.d.keeps_a_log:
            return True
        try:
            response = self.bench.call(
                "GET",
                "/api/v1/jobs/{job_id}/security-log",
                expect=(200, 404),
                job_id=self.job_id,
            )
        except NoResponse as exc:
            self._no_response(exc)
            return False
        if response.status_code == 200:
            return True
        if response.status_code != 404:
            raise DeviceFailed(f"GET security log: {_why(response)}")
        now = time.monotonic()
        if self.read_ordered_at is not None and now - self.read_ordered_at < READ_RETRY:
            return False
        if not self.on_bench:
            self.fleet.place(self.d.device_id)  # onto the tool's bench, once
            self.on_bench = True
        body = self._post(
            self.bench,
            "/api/v1/jobs/{job_id}/security-log/read-orders",
            expect=201,
            job_id=self.job_id,
            json={"tool_id": self.tool_id},
        )
        if body is not None:
            self.read_ordered_at = now
        return False

    def _no_response(self, exc: NoResponse) -> None:
        run = self.run_
        if not run.faults:
            raise DeviceFailed(str(exc)) from exc
        now = time.monotonic()
        if self.outage_since is None:
            self.outage_since = now
        elif now - self.outage_since > OUTAGE_LIMIT:
            raise DeviceFailed(f"no response for {OUTAGE_LIMIT:.0f} s: {exc}") from exc
        time.sleep(min(2.0, 0.2 + 0.5 * (now - self.outage_since)))

    def _job(self) -> dict[str, Any]:
        """The job as the server has it, retried through connection errors."""
        while True:
            try:
                response = self.bench.call("GET", "/api/v1/jobs/{job_id}", job_id=self.job_id)
            except NoResponse as exc:
                self._no_response(exc)
                continue
            self.outage_since = None
            if response.status_code != 200:
                raise DeviceFailed(f"GET /api/v1/jobs/{{job_id}}: {_why(response)}")
            job: dict[str, Any] = response.json()
            return job

    def ack(self, step: str, action: Action, state: str, **match: Any) -> None:
        self.run_.acknowledge(Ack(self.job_id, step, ENTRY[action], state, match))

    # the lifecycle ---------------------------------------------------------------------------
    def run(self) -> None:
        run, scenario = self.run_, self.scenario
        while not self.job_id:
            scanned = self._post(
                self.bench, "/api/v1/devices/scan", json={"device_id": self.d.device_id}
            )
            if scanned is None:
                continue
            if scanned["job"] is None:
                raise DeviceFailed(f"scan: {scanned['message']}")
            self.job_id = scanned["job"]["id"]
            self.run_.acknowledge(Ack(self.job_id, "scan", "device.received", "received"))
        state = "received"
        waiting_since: float | None = None
        authorised_at = 0.0
        while True:
            if run.abort.is_set():
                raise DeviceFailed(f"run aborted while the job was {state}")
            body: dict[str, Any] | None = None
            if state in ("released", "returned_to_manufacturer", "destroyed"):
                if self.on_bench:
                    self.fleet.remove(self.d.device_id)  # off the bench
                    self.on_bench = False
                return
            if state == "received" and not self._security_log_read():
                if waiting_since is None:
                    waiting_since = time.monotonic()
                if time.monotonic() - waiting_since > run.device_wait:
                    raise DeviceFailed(
                        f"no security log after {time.monotonic() - waiting_since:.0f} s"
                    )
                time.sleep(run.args.poll_interval)
                continue
            if state == "received":
                waiting_since = None
                body = self._post(
                    self.bench,
                    "/api/v1/jobs/{job_id}/inspection",
                    job_id=self.job_id,
                    json=dict(scenario.evidence),
                )
                if body is not None:
                    state = DECISION_STATE[body["outcome"]]
                    self.ack("inspection", Action.DECIDE, state)
                    continue
            elif state == "awaiting_review":
                outcome = scenario.review or "quarantine"
                body = self._post(
                    self.sup,
                    "/api/v1/jobs/{job_id}/override",
                    job_id=self.job_id,
                    json={"outcome": outcome, "justification": JUSTIFICATION},
                )
                if body is not None:
                    state = body["state"]
                    self.ack("override", Action.OVERRIDE, state)
                    continue
            elif state == "eligible" and scenario.set_aside:
                body = self._post(
                    self.sup,
                    "/api/v1/jobs/{job_id}/quarantine",
                    job_id=self.job_id,
                    json={"reason": "set aside by the supervisor for a sample check"},
                )
                if body is not None:
                    state = body["state"]
                    self.ack("quarantine", Action.QUARANTINE, state)
                    continue
            elif state in ("eligible", "reset_failed", "verification_failed"):
                if not self.on_bench:
                    self.fleet.place(self.d.device_id)  # onto the tool's bench, once
                    self.on_bench = True
                body = self._post(
                    self.bench,
                    "/api/v1/jobs/{job_id}/work-orders",
                    expect=201,
                    job_id=self.job_id,
                    json={"tool_id": self.tool_id},
                )
                if body is not None:
                    if state != "eligible":
                        with run.lock:
                            run.result.reauthorised[state] += 1
                    order = json.loads(body["work_order"].split("\n\n", 1)[0])
                    state = "reset_authorised"
                    self.ack("work order", Action.AUTHORISE_RESET, state, work_order_id=order["id"])
                    authorised_at = time.perf_counter()
                    waiting_since = time.monotonic()
                    run.order_issued[self.w].set()
                    continue
            elif state in ("reset_authorised", "reset_done", "inspected"):
                if waiting_since is None:
                    waiting_since = time.monotonic()
                if time.monotonic() - waiting_since > run.device_wait:
                    raise DeviceFailed(
                        f"still {state} after {time.monotonic() - waiting_since:.0f} s"
                    )
                time.sleep(run.args.poll_interval)
            elif state == "verified":
                if authorised_at:
                    with run.lock:
                        run.result.observed_reset.append(time.perf_counter() - authorised_at)
                    authorised_at = 0.0
                if self.on_bench:
                    self.fleet.remove(self.d.device_id)  # off the bench
                    self.on_bench = False
                if self.seal is None:
                    if not run.api.seals[self.w]:
                        raise DeviceFailed(f"bench operator {self.w + 1} has no seals left")
                    self.seal = run.api.seals[self.w].pop()
                body = self._post(
                    self.bench,
                    "/api/v1/jobs/{job_id}/seal",
                    job_id=self.job_id,
                    json={"serial": self.seal},
                )
                if body is not None:
                    state = body["state"]
                    self.ack("seal", Action.SEAL, state, serial=self.seal)
                    continue
            elif state == "sealed":
                body = self._post(self.bench, "/api/v1/jobs/{job_id}/release", job_id=self.job_id)
                if body is not None:
                    state = body["state"]
                    self.ack("release", Action.RELEASE, state)
                    continue
            elif state in ("quarantined", "reverify_metrology"):
                action = scenario.disposal if state == "quarantined" else "return"
                body = self._post(
                    self.sup,
                    "/api/v1/jobs/{job_id}/disposal",
                    job_id=self.job_id,
                    json={"action": action, "reference": f"LOAD-{self.d.index}"},
                )
                if body is not None:
                    state = body["state"]
                    step = Action.DESTROY if action == "destroy" else Action.RETURN_TO_MANUFACTURER
                    self.ack("disposal", step, state)
                    continue
            else:
                raise DeviceFailed(f"the job is {state}: no step of this bench takes it on")
            # No answer, a conflict, or waiting for the agent: read the job again.
            previous = state
            state = self._job()["state"]
            if state != previous:
                waiting_since = None


# --- backends --------------------------------------------------------------------------------


@contextlib.contextmanager
def database(backend: str, info: dict[str, str]) -> Iterator[str | None]:
    """The database URL for one run (None: SQLite in the data directory)."""
    if backend == "sqlite":
        yield None
        return
    from tests.pgserver import running_cluster

    with running_cluster() as cluster:
        url = cluster.create_database("triage_load")
        engine = sqlalchemy.create_engine(url)
        with engine.connect() as conn:
            info["PostgreSQL"] = str(conn.exec_driver_sql("SHOW server_version").scalar())
        engine.dispose()
        yield url


def run_backend(
    args: argparse.Namespace, backend: str, info: dict[str, str], paths: Mapping[str, Scenario]
) -> RunResult:
    workdir = Path(tempfile.mkdtemp(prefix=f"triage-load-{backend}-"))
    devices = make_devices(args.devices)
    try:
        with database(backend, info) as url:
            run = LoadRun(args, backend, workdir, url, devices, paths)
            try:
                run.setup()
                log(
                    f"{backend}: server at {run.api.base_url}, {args.benches} agents; "
                    f"{args.benches} bench workers start"
                    + (f"; {args.kills} kills to come" if args.faults else "")
                )
                run.run()
            except BaseException:
                for path in run.api.logs:
                    log(f"--- {path.name} (last lines) ---\n{_tail(path)}")
                raise
            finally:
                run.api.stop_processes()
            run.check()
            result = run.result
            result.entry_types.update(_agent_log_counts(run.api.logs))
            journals, unreported = agent_journals(workdir, [t[0] for t in run.api.tools])
            result.journals = journals
            if journals:
                result.checks["every work order an agent started was reported (its journal)"] = (
                    _check(
                        unreported,
                        f"{journals['orders started']:,} started, all reported "
                        f"({journals['reported again from the journal']:,} from the journal, "
                        "after a restart or a report that got no answer)",
                    )
                )
            return run.result
    finally:
        if args.keep:
            log(f"{backend}: kept {workdir} (logs, data directory; PostgreSQL is not kept)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def agent_journals(workdir: Path, tool_ids: Sequence[str]) -> tuple[Counter[str], list[str]]:
    """What the agents' journals (``STATE_DIR/journal``, JSON lines) say about every work order
    they started: counts, and the orders started but never reported. Empty when the agents keep
    no journal."""
    counts: Counter[str] = Counter()
    unreported: list[str] = []
    for tool_id in tool_ids:
        path = workdir / "agents" / f"{tool_id}-state" / "journal"
        if not path.exists():
            continue
        counts["journals"] += 1
        events: dict[str, list[str]] = {}
        for line in path.read_bytes().splitlines():
            with contextlib.suppress(ValueError, AttributeError, KeyError):
                record = json.loads(line)
                events.setdefault(str(record["work_order_id"]), []).append(str(record["event"]))
        for order, seen in events.items():
            counts["orders started"] += "started" in seen
            counts["orders reported"] += "reported" in seen
            counts["reported again from the journal"] += seen.count("result") > 1
            if "started" in seen and "reported" not in seen:
                unreported.append(f"{tool_id}: work order {order} ({', '.join(seen)})")
    return counts, unreported


def _agent_log_counts(logs: Sequence[Path]) -> Counter[str]:
    """What the agents' own logs say about interrupted work (counted under "agent log: ...")."""
    counts: Counter[str] = Counter()
    for path in logs:
        if not path.name.startswith("agent-"):
            continue
        with contextlib.suppress(OSError):
            text = path.read_text(errors="replace")
            counts["agent log: interrupted order reported"] += len(
                re.findall(r"was interrupted; reporting", text)
            )
            counts["agent log: refused work order"] += len(re.findall(r"refused work order", text))
            counts["agent log: server unreachable"] += len(
                re.findall(r"cannot reach the server", text)
            )
    return counts


# --- report ----------------------------------------------------------------------------------


def _endpoint_rows(result: RunResult) -> list[str]:
    rows = [
        "| Endpoint | n | req/s | p50 | p95 | p99 | max | 5xx | unexpected 4xx | expected 4xx |"
        + (" no response |" if result.faults else ""),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if result.faults else ""),
    ]
    for e in result.endpoints:
        rows.append(
            f"| `{e.endpoint}` | {e.count:,} | {e.per_s:,.1f} | {_ms(e.p50)} | {_ms(e.p95)} | "
            f"{_ms(e.p99)} | {_ms(e.max)} | {e.server_errors} | {e.unexpected_4xx} | "
            f"{e.expected_4xx} |" + (f" {e.no_response} |" if result.faults else "")
        )
    return rows


def _seconds_row(name: str, values: Sequence[float]) -> str:
    if not values:
        return f"| {name} | 0 | | | | |"
    ms = [v * 1000 for v in values]
    return (
        f"| {name} | {len(ms):,} | {_ms(_rank(ms, 50))} | {_ms(_rank(ms, 95))} | "
        f"{_ms(_rank(ms, 99))} | {_ms(max(ms))} |"
    )


def _checks_table(results: Sequence[RunResult]) -> list[str]:
    names: list[str] = []
    for r in results:
        names += [n for n in r.checks if n not in names]
    head = "| Check | " + " | ".join(BACKENDS[r.backend] for r in results) + " |"
    rows = [head, "|---|" + "---|" * len(results)]
    for name in names:
        cells = []
        for r in results:
            c = r.checks.get(name)
            if c is None:
                cells.append("not run")
            elif c.exit_code == 0:
                cells.append(f"**ok**: {c.summary}")
            else:
                cells.append(f"**FAILED** (exit {c.exit_code}): {c.summary}")
        label = f"`{name}` exits 0" if name.startswith("triage ") else name
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return rows


def _paths_rows(result: RunResult) -> list[str]:
    rows = ["| Path | Devices | Ended as | Expected |", "|---|---:|---|---|"]
    for s in SCENARIOS:
        ended = result.by_path.get(s.name)
        if not ended:
            continue
        shown = ", ".join(f"{state} {n}" for state, n in ended.most_common())
        rows.append(f"| {s.name}: {s.description} | {sum(ended.values()):,} | {shown} | {s.ends} |")
    return rows


def _attempt_rows(a: AttemptSummary) -> list[str]:
    return [
        "| Reset attempts (work orders issued) | |",
        "|---|---:|",
        f"| issued | {a.authorised:,} |",
        f"| verified | {a.verified:,} |",
        f"| verification failed | {a.verification_failed:,} |",
        f"| reset failed (reported by the tool, or closed by the server) | {a.reset_failed:,} |",
        f"| of which: order expired without a result (closed by the server's sweep) | "
        f"{a.expired:,} |",
        f"| interrupted and reported by the agent from its journal after a restart | "
        f"{a.interrupted:,} (verified: {a.interrupted_verified:,}) |",
        f"| retried with a new work order after an expiry / after an interruption | "
        f"{a.retried_after_expiry:,} / {a.retried_after_interruption:,} |",
        f"| replaced by a newer order before any result | {a.superseded:,} |",
        f"| withdrawn (the job left the reset before a result) | {a.withdrawn:,} |",
        f"| no result yet at the end | {a.still_open:,} |",
        f"| jobs quarantined by the system when attempts ran out (after an expired or "
        f"interrupted attempt) | {a.quarantined_by_system:,} ({a.quarantined_after_recovery:,}) |",
    ]


def _run_section(result: RunResult, title: str) -> list[str]:
    a = result.attempts or AttemptSummary()
    end = result.end
    answered = sum(e.count for e in result.endpoints)
    out = [
        f"#### {title}",
        "",
        "| | |",
        "|---|---|",
        f"| Benches (bench operator + tool + `triage agent run` each) | {result.benches} |",
        f"| Devices in the consignment / started / ended | {result.devices:,} / "
        f"{result.started:,} / {result.finished:,} |",
        f"| Lifecycle phase (first scan to last device) | {_duration(result.wall_s)} |",
        f"| Devices ended per second | {result.finished / max(result.wall_s, 1e-9):,.2f} |",
        f"| Bench worker requests answered | {answered:,} "
        f"({answered / max(result.wall_s, 1e-9):,.1f}/s) |",
        f"| Import of the manifest (one request, not in the phase) | "
        f"{_duration(result.import_s)} |",
        f"| Setup, not counted (`triage init`, people, seals, tools, server) | "
        f"{result.setup_s:.1f} s |",
        f"| Ledger entries at the end | {result.ledger_entries:,} |",
        *(f"| Facility setting: {k} | {v} |" for k, v in result.settings.items()),
    ]
    if result.cpu_s:
        out.append(
            f"| CPU during the phase: server, agents, bench process | "
            f"{result.cpu_s['server']:.1f} s, {result.cpu_s['agents']:.1f} s, "
            f"{result.cpu_s['bench']:.1f} s |"
        )
    if result.stopped_early:
        out.append(f"| New devices stopped early | {result.stopped_early} |")
    if result.faults:
        out += [
            f"| Drain: from the final restart to the last device | {_duration(result.drain_s)} |",
            f"| Requests without a response (retried after reading the job) | "
            f"{sum(result.retried.values()):,} |",
            f"| New work orders after a failed reset / verification | "
            f"{result.reauthorised.get('reset_failed', 0):,} / "
            f"{result.reauthorised.get('verification_failed', 0):,} |",
            f"| Work orders refused by an agent (`tool.command_refused`) | "
            f"{result.entry_types.get('tool.command_refused', 0):,} |",
            f"| Thresholds breached (`threshold.breached`) | "
            f"{result.entry_types.get('threshold.breached', 0):,} |",
            f"| Agent logs: interrupted orders reported / unreachable-server warnings | "
            f"{result.entry_types.get('agent log: interrupted order reported', 0):,} / "
            f"{result.entry_types.get('agent log: server unreachable', 0):,} |",
        ]
    out += ["", "Bench worker requests by endpoint (latency in ms, as the worker sees it):", ""]
    out += _endpoint_rows(result)
    out += [
        "",
        "Reset turnaround, ms: from the work order to the verified result, by the ledger's "
        "timestamps (the agent's side) and as the bench worker's polling saw it:",
        "",
        "| Measure | n | p50 | p95 | p99 | max |",
        "|---|---:|---:|---:|---:|---:|",
        _seconds_row("`reset.authorised` → `reset.verified` (ledger)", a.authorised_to_verified),
        _seconds_row("work order response → poll sees `verified`", result.observed_reset),
        "",
        *_attempt_rows(a),
        "",
        "Devices by path (drawn from the seed) and how their latest job ended:",
        "",
        *_paths_rows(result),
    ]
    if end is not None:
        states = ", ".join(f"{s} {n:,}" for s, n in end.by_state.most_common())
        out += ["", f"Final states of the devices' latest jobs: {states}."]
        if end.attention:
            shown = ", ".join(f"{d} ({s})" for d, s in sorted(end.attention.items())[:10])
            out.append(f"Waiting for a person, as the system says: {shown}.")
        if end.stuck:
            shown = ", ".join(f"{d} ({s})" for d, s in sorted(end.stuck.items())[:10])
            out.append(f"**Stuck** (no end, no state asking for a person): {shown}.")
    if result.failures:
        out += ["", "Devices the bench workers gave up on (first 10):", ""]
        out += [f"- {f}" for f in result.failures[:10]]
    if result.unexpected_exits:
        out += ["", "Processes that exited by themselves:", ""]
        out += [f"- {m}" for m in result.unexpected_exits]
    return out


def _machine_rows(info: Mapping[str, str]) -> list[str]:
    return ["| Machine | |", "|---|---|", *(f"| {k} | {v} |" for k, v in info.items())]


def render_load(
    args: argparse.Namespace, command: str, info: Mapping[str, str], results: Sequence[RunResult]
) -> str:
    names = " and ".join(BACKENDS[r.backend] for r in results)
    out = [
        f"### Load: {args.benches} benches, {args.devices:,} devices per backend, {names}",
        "",
        _smoke_note(args, "make load")
        + f"Command (from the repository root): `{command}`; seed {args.seed}.",
        "",
        *_machine_rows(info),
        "",
        "#### Checks (after each run, not timed)",
        "",
        *_checks_table(results),
        "",
    ]
    for r in results:
        title = f"{BACKENDS[r.backend]}: `triage serve`, {r.benches} agents"
        out += [*_run_section(r, title), ""]
    out += _how_measured(args)
    return "\n".join(out) + "\n"


def render_faults(
    args: argparse.Namespace, command: str, info: Mapping[str, str], results: Sequence[RunResult]
) -> str:
    names = " and ".join(BACKENDS[r.backend] for r in results)
    out = [
        f"### Fault run: {args.kills} kills, {args.benches} benches, {names}",
        "",
        _smoke_note(args, "make faults")
        + f"Command (from the repository root): `{command}`; seed {args.seed}, a kill every "
        f"{args.kill_gap[0]:g}-{args.kill_gap[1]:g} s.",
        "",
        *_machine_rows(info),
        "",
        "#### Checks (after the run and a final restart, not timed)",
        "",
        *_checks_table(results),
        "",
    ]
    for r in results:
        out += [
            f"#### Kills ({BACKENDS[r.backend]})",
            "",
            "| t (s) | SIGKILL | pid(s) | moment | down (s) | back up after (s) |",
            "|---:|---|---|---|---:|---:|",
            *(
                f"| {k.at:.1f} | {k.target} | {', '.join(map(str, k.pids))} | {k.moment} | "
                f"{k.down_s:.1f} | {k.back_s:.1f} |"
                for k in r.kills
            ),
            "",
        ]
        out += [*_run_section(r, f"{BACKENDS[r.backend]}: the load under faults"), ""]
    out += _how_measured(args)
    return "\n".join(out) + "\n"


def _smoke_note(args: argparse.Namespace, target: str) -> str:
    if not args.smoke:
        return ""
    return (
        f"**Smoke run** (`--smoke`: far smaller and shorter than `{target}`, on a machine that "
        "may have been busy; it shows that the run and its checks work, not what the system "
        f"does at the size `{target}` runs).\n\n"
    )


def _how_measured(args: argparse.Namespace) -> list[str]:
    return [
        "#### How it was measured",
        "",
        "- A fresh installation per backend in a temporary directory; setup with the `triage` "
        "command (one administrator, one supervisor, one bench operator per bench signed in "
        "there, one enrolled tool per bench with its `triage agent run --interval "
        f"{args.agent_interval:g}`); the reset, failed-verification and refused-command "
        "thresholds raised so that the simulated failures suspend nobody; one consignment "
        "manifest imported through the API.",
        "- One bench worker thread per bench, all in one Python process (`httpx`): each takes "
        "the next device and drives it by the job's state until it ends; it polls "
        f"`GET /api/v1/jobs/{{job_id}}` every {args.poll_interval:g} s while the agent works. "
        "Latency is the whole request as the worker sees it, so it includes queueing in the "
        "bench process (the threads share one interpreter); percentiles are nearest-rank; "
        "req/s is the count over the lifecycle phase. 5xx are counted by the workers and in "
        "the server's access log (the agents' requests too).",
        "- Expected 4xx: a 409 after a step that got no answer, or while a work order is "
        "still valid, resolved by reading the job again; in a load run without faults there "
        "should be none.",
        "- Paths are drawn per device from the seed; their simulated devices fail their reset "
        "outright or half clear it as the path says. The facility keeps its default of "
        f"{MAX_ATTEMPTS} reset attempts per job.",
        "- The checks read the ledger and the projections through the services' unit of work "
        "(`bench/checks.py`) after every process is stopped.",
    ]


LOAD_BEGIN = "<!-- load-bench:begin: generated by bench/load.py, overwritten by --write -->"
LOAD_END = "<!-- load-bench:end -->"
LOAD_HEADING = """## Load (issue 8)

`make load` (or `.venv/bin/python -m bench.load --write docs/performance.md`) writes the block
below: many benches at once through the HTTP API, on SQLite and on PostgreSQL, with the
correctness checks made afterwards. See `bench/README.md`.
"""
FAULTS_BEGIN = (
    "<!-- fault-run:begin: generated by bench/load.py --faults, overwritten by --write -->"
)
FAULTS_END = "<!-- fault-run:end -->"
FAULTS_NEW_FILE = "# Reliability\n"


def write_report(path: Path, faults: bool, block: str) -> None:
    if faults:
        replace_block(path, FAULTS_BEGIN, FAULTS_END, block, FAULTS_NEW_FILE)
        return
    text = path.read_text() if path.exists() else "# Performance\n"
    if LOAD_BEGIN not in text:
        path.write_text(text.rstrip() + "\n\n" + LOAD_HEADING)
    replace_block(path, LOAD_BEGIN, LOAD_END, block, "")


# --- main ------------------------------------------------------------------------------------


def _gap(text: str) -> tuple[float, float]:
    low, _, high = text.partition(",")
    lo, hi = float(low), float(high or low)
    if not 0 < lo <= hi:
        raise argparse.ArgumentTypeError("give LOW,HIGH seconds, 0 < LOW <= HIGH")
    return lo, hi


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.load",
        description="Many benches at once through the HTTP API (load), with the server and "
        "agents killed at random (--faults); correctness checks afterwards.",
    )
    p.add_argument("--faults", action="store_true", help="the fault run (chaos thread)")
    p.add_argument(
        "--backend",
        choices=("sqlite", "postgresql", "both"),
        default="both",
        help="the database(s), one run each (default: both, SQLite first)",
    )
    p.add_argument(
        "--devices",
        type=int,
        help="devices in the consignment (default 500; 3000 "
        "with --faults, of which the run takes what it has time for)",
    )
    p.add_argument(
        "--benches", type=int, default=10, help="benches: operator + tool + agent each (default 10)"
    )
    p.add_argument(
        "--duration",
        type=float,
        help="s after which no new device is started (default 300; 240 with --faults)",
    )
    p.add_argument(
        "--seed", type=int, default=8, help="draws the paths, kill moments and targets (default 8)"
    )
    p.add_argument(
        "--agent-interval", type=float, default=0.25, help="agent poll interval, s (default 0.25)"
    )
    p.add_argument(
        "--poll-interval", type=float, default=0.1, help="job poll interval, s (default 0.1)"
    )
    p.add_argument(
        "--device-wait",
        type=float,
        default=180.0,
        help="s a worker waits for one reset before giving the device up (default 180; more "
        "with --faults: the work order's validity, the sweep's grace and a margin)",
    )
    p.add_argument("--kills", type=int, help="--faults: SIGKILLs in all (default 8)")
    p.add_argument(
        "--kill-gap",
        type=_gap,
        default=(5.0, 15.0),
        metavar="LOW,HIGH",
        help="--faults: seconds between kills (default 5,15)",
    )
    p.add_argument(
        "--order-minutes",
        type=int,
        default=1,
        help="--faults: work-order validity (the facility's minimum is 1)",
    )
    p.add_argument(
        "--sweep-interval",
        type=int,
        default=5,
        help="--faults: `triage serve --sweep-interval`, s (when it has one)",
    )
    p.add_argument(
        "--smoke",
        action="store_true",
        help="a small, short run labelled as a smoke run: 4 benches, 40 devices; with "
        "--faults 3 kills, 600 devices and no new device after 60 s",
    )
    p.add_argument("--write", type=Path, help="also write the Markdown results into FILE")
    p.add_argument(
        "--keep", action="store_true", help="keep the temporary directory (logs, SQLite data)"
    )
    args = p.parse_args(argv)
    if args.smoke:
        args.benches = min(args.benches, 4)
        args.kills = 3 if args.kills is None else args.kills
        if args.faults:
            args.devices = args.devices or 600
            args.duration = args.duration or 60.0
        else:
            args.devices = args.devices or 40
            args.duration = args.duration or 120.0
    args.kills = 8 if args.kills is None else args.kills
    args.devices = args.devices or (3000 if args.faults else 500)
    args.duration = args.duration or (240.0 if args.faults else 300.0)
    if args.devices < 1 or args.benches < 1 or args.kills < 0:
        p.error("--devices and --benches must be at least 1, --kills at least 0")
    return args


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # so that the processes and temporary files are cleaned up


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _terminated)
    raw = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(raw)
    command = shlex.join([".venv/bin/python", "-m", "bench.load", *raw])
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    scratch = Path(tempfile.mkdtemp(prefix="triage-load-"))
    try:
        info = machine(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    paths = plan(make_devices(args.devices), args.seed)
    results = []
    for backend in backends:
        results.append(run_backend(args, backend, info, paths))
    info["Load average at end (1/5/15 min)"] = _loadavg()
    text = (render_faults if args.faults else render_load)(args, command, info, results)
    print(text)
    for r in results:
        verdict = "ok" if r.ok else "FAILED"
        failed = [n for n, c in r.checks.items() if c.exit_code != 0]
        log(
            f"{BACKENDS[r.backend]}: {verdict}: {r.finished:,}/{r.started:,} devices ended, "
            f"{len(r.kills)} restarts, {r.acks_checked:,} acknowledged steps checked"
            + (f"; failed: {', '.join(failed)}" if failed else "")
        )
    if args.write:
        write_report(args.write, args.faults, text)
        log(f"results written to {args.write}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
