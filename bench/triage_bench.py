"""End-to-end triage benchmark: simulated devices from manifest to release.

Two runs on fresh installations in a temporary directory, one after the other:

* **service layer**: one thread calls ``triage.services`` directly: set up the facility,
  operators and a tool, import the manifest, then for each device scan, order the tool to read
  its GBCS security log (read it from the simulated device, sign the reading, record it; a
  Type 2 device keeps none), inspect, authorise the reset, drive the simulated device itself
  and sign the tool's result, record it, seal, release;
* **HTTP API**: a real ``triage serve`` process on a free loopback port, real ``triage agent
  run`` processes carrying out the work orders, and ``--workers`` bench threads driving every
  device through the API with ``httpx`` (each waits for its device to be ``verified``, polling
  ``GET /api/v1/jobs/{id}``, before sealing and releasing it).

Afterwards (not timed) every job must be released, and ``triage ledger verify`` and ``triage
ledger replay --check`` must exit 0, so that a fast wrong answer cannot pass for a result.

Run from the repository root::

    .venv/bin/python -m bench.triage_bench [--devices 10000] [--backend sqlite|postgresql]
        [--quick] [--write bench/results/triage.md]

Timings are measured and reported, never asserted. Everything is bounded (``--timeout``, HTTP
and subprocess timeouts) and every process the benchmark starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import dataclasses
import hashlib
import io
import json
import math
import os
import platform
import pstats
import queue
import re
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pyotp
import sqlalchemy

from bench.provenance import describe, require_committed
from triage.adapters.devices.simulated import DeviceSpec, SimulatedConnector, SimulatedFleet
from triage.adapters.evidence_store import EvidenceStore
from triage.bootstrap import App, initialise
from triage.config import Settings
from triage.domain.caller import Caller
from triage.domain.device import DeviceId
from triage.domain.lifecycle import JobState
from triage.domain.manifest import parse_manifest
from triage.domain.roles import Role
from triage.domain.security_log_reading import SecurityLogReading
from triage.domain.work_order import FACTORY_RESET, ResetOutcome, ToolResult, WorkOrder
from triage.entrypoints.agent import generate_tool_key, load_tool_key
from triage.ledger import note
from triage.services import (
    anomaly,
    assessment,
    asset_owners,
    auth,
    bench_assignment,
    hub_returns,
    intake,
    job_steps,
    operators,
    seals,
    security_log,
    tokens,
    tools,
)

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parent.parent
TRIAGE = [sys.executable, "-m", "triage.entrypoints.cli"]
TARGET_DEVICES = 10_000
UNLIMITED = 100_000  # resets an hour (the most a threshold allows): this bench is meant to be busy
TARGET_SECONDS = 300.0
# The marks of issue 22 (see ``marks``).
SERVICE_CPU_MS = 5.0  # the service layer's CPU per device, ms
SERVICE_RATE = 150.0  # devices/s through the service layer in one thread
API_BENCHES = 6  # the API marks below are for this many benches, each with its agent
API_RATE = 50.0  # devices/s
API_SERVER_CPU_MS = 10.0  # server CPU per device, ms
BUSY_BENCHES = 32  # with this many benches at once ...
BUSY_P95_MS = 50.0  # ... the p95 of every bench step stays under this, ms
QUICK_DEVICES = 200
FIRST_DEVICE = 0x70B3_D5FF_FE00_0000  # device ids are FIRST_DEVICE + i
ASSET_OWNER = "MAP-BENCH"
EVIDENCE = {"metrology_seal_intact": True, "cpa_boundary_intact": True}
# A realistic mix of returned device types (one in 20 of each rarer type).
TYPE_MIX = ("ESME",) * 9 + ("GSME",) * 6 + ("CHF", "GPF", "PPMID", "TYPE2", "HCALCS")
TOOL_ID = "BENCH-1"
DEVICE_WAIT = 120.0  # seconds a bench worker waits for one device to be verified
FAILED_STATES = {"reset_failed", "verification_failed", "quarantined", "awaiting_review"}
MAX_ERRORS = 25  # the API run stops early after this many failed devices


def log(message: str) -> None:
    """Progress on stderr, so that stdout holds only the results."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- statistics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    """Summary of durations (milliseconds), in the order they were taken."""

    count: int
    mean: float
    p50: float
    p95: float
    max: float
    first_p50: float  # p50 of the first tenth of the devices
    last_p50: float  # p50 of the last tenth: growth shows work that scales with the data

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Stats:
        ms = [s * 1000 for s in seconds]
        tenth = max(1, len(ms) // 10)
        return cls(
            len(ms),
            sum(ms) / len(ms),
            _rank(ms, 50),
            _rank(ms, 95),
            max(ms),
            _rank(ms[:tenth], 50),
            _rank(ms[-tenth:], 50),
        )


def _rank(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


class Timings:
    """Per-step durations keyed by device index, safe to fill from several threads."""

    def __init__(self, steps: Sequence[str]) -> None:
        self.steps = list(steps)
        self._lock = threading.Lock()
        self._data: dict[str, list[tuple[int, float]]] = {s: [] for s in steps}

    def add(self, step: str, index: int, seconds: float) -> None:
        with self._lock:
            self._data[step].append((index, seconds))

    def stats(self) -> dict[str, Stats]:
        out = {}
        for step in self.steps:
            values = [s for _, s in sorted(self._data[step])]
            if values:
                out[step] = Stats.of(values)
        return out


@contextlib.contextmanager
def timed(timings: Timings, step: str, index: int) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings.add(step, index, time.perf_counter() - start)


# --- devices ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimDevice:
    index: int
    device_id: str
    device_type: str

    @property
    def serial(self) -> str:
        return f"SL-{self.index:07d}"

    @property
    def keeps_a_log(self) -> bool:
        """Whether the device keeps a GBCS security log to read (a Type 2 device does not)."""
        return self.device_type != "TYPE2"


def make_devices(count: int) -> list[SimDevice]:
    return [
        SimDevice(i, DeviceId.from_int(FIRST_DEVICE + i).value, TYPE_MIX[i % len(TYPE_MIX)])
        for i in range(count)
    ]


def manifest_csv(devices: Sequence[SimDevice]) -> bytes:
    """The consignment manifest, as an asset owner sends it."""
    out = io.StringIO()
    out.write(
        "device_id,device_type,manufacturer,model,firmware_version,inventory_status,asset_owner\n"
    )
    for d in devices:
        out.write(f"{d.device_id},{d.device_type},Acme Meters,AM-{d.device_type},")
        out.write(f"4.2.{d.index % 7},Decommissioned,{ASSET_OWNER}\n")
    return out.getvalue().encode()


def device_catalogue(
    devices: Sequence[SimDevice],
    workdir: Path,
    failures: Mapping[str, tuple[int, int]] | None = None,
) -> dict[str, Any]:
    """Every device's fresh simulated state, made once with the public fleet API.

    ``failures`` maps a device id to how many of its next resets fail outright and how many
    only half clear (the simulated device's ``fail_times`` and ``half_fail_times``).
    """
    scratch = workdir / "catalogue.json"
    failing = failures or {}
    specs = []
    for d in devices:
        fail, half_fail = failing.get(d.device_id, (0, 0))
        specs.append(
            DeviceSpec(d.device_id, d.device_type, fail_times=fail, half_fail_times=half_fail)
        )
    fleet = SimulatedFleet.create(scratch, specs)
    catalogue: dict[str, Any] = fleet.snapshot()["devices"]
    scratch.unlink()
    return catalogue


class BenchFleet:
    """The devices physically on one tool's bench: a simulated fleet holding only those.

    A device is put on the bench just before its work order is issued and taken off once the
    reset is verified, as at a real bench. The simulated fleet re-reads (and on a reset,
    rewrites and fsyncs) its whole JSON file on every operation, so one fleet file holding all
    10,000 devices would make the simulator, not triage, the bottleneck (see
    ``fleet_costs``).
    """

    def __init__(self, path: Path, catalogue: dict[str, Any]) -> None:
        self.path = path
        self._catalogue = catalogue
        self._fleet = SimulatedFleet.create(path, [])

    def place(self, device_id: str) -> None:
        with self._fleet.update() as state:
            state["devices"][device_id] = self._catalogue[device_id]

    def remove(self, device_id: str) -> None:
        with self._fleet.update() as state:
            state["devices"].pop(device_id, None)


@dataclass(frozen=True)
class FleetCost:
    devices: int
    file_bytes: int
    attach_ms: float
    read_ms: float
    reset_ms: float


def fleet_costs(sizes: Sequence[int], workdir: Path) -> list[FleetCost]:
    """What one simulated-device operation costs as the fleet file grows."""
    signer, verifier = note.generate_key("device-triage.local/bench")
    out = []
    for size in sizes:
        path = workdir / f"fleet-cost-{size}.json"
        devices = make_devices(size)
        SimulatedFleet.create(path, [DeviceSpec(d.device_id, d.device_type) for d in devices])
        connector = SimulatedConnector(path, verifier, TOOL_ID)
        attach, read, reset = [], [], []
        for d in devices[:5]:
            t0 = time.perf_counter()
            attached = connector.attach(d.device_id)
            t1 = time.perf_counter()
            attached.read_state()
            t2 = time.perf_counter()
            attached.factory_reset(_work_order(d.device_id, signer))
            t3 = time.perf_counter()
            attach.append(t1 - t0)
            read.append(t2 - t1)
            reset.append(t3 - t2)
        out.append(
            FleetCost(
                size,
                path.stat().st_size,
                _rank(attach, 50) * 1000,
                _rank(read, 50) * 1000,
                _rank(reset, 50) * 1000,
            )
        )
        path.unlink()
    return out


def _work_order(device_id: str, signer: str) -> str:
    issued = datetime.now(UTC)
    return WorkOrder(
        id=str(uuid.uuid4()),
        facility="bench",
        tool_id=TOOL_ID,
        device_id=device_id,
        job_id=str(uuid.uuid4()),
        operator_id="ben",
        action=FACTORY_RESET,
        profile="gb-factory-reset@2025.1",
        nonce=uuid.uuid4().hex,
        issued_at=issued,
        expires_at=issued + timedelta(minutes=15),
    ).sign(signer)


# --- service layer ---------------------------------------------------------------------------

SERVICE_STEPS = (
    "scan",
    "read order",
    "tool: read security log, sign reading",
    "record_reading",
    "inspect",
    "authorise_reset",
    "tool: drive device, sign result",
    "record_tool_result",
    "seal",
    "release",
    "whole device",
)
# What the simulated tool does in this process: not the service layer, so not in its CPU.
TOOL_STEPS = frozenset(step for step in SERVICE_STEPS if step.startswith("tool: "))
# A step's wrapper: entered around each step of each device, with the step and device index.
StepWrapper = Callable[[str, int], contextlib.AbstractContextManager[None]]


@dataclass(frozen=True)
class ServiceBench:
    """A fresh installation, set up to triage the bench's devices through the service layer
    in this process: the people, the tool and its key, the bench's simulated devices."""

    app: App
    sup: Caller
    ben: Caller
    tool: Caller
    tool_key: str
    facility_vkey: str
    fleet: BenchFleet
    connector: SimulatedConnector
    evidence: EvidenceStore
    checker_token: str  # the supervisor's token, for the ledger checks afterwards


@contextlib.contextmanager
def service_bench(
    devices: Sequence[SimDevice],
    catalogue: dict[str, Any],
    workdir: Path,
    database_url: str | None,
) -> Iterator[ServiceBench]:
    """Set up a fresh installation in ``workdir / "service"`` (or on ``database_url``) for the
    service-layer run and the step profile, which must drive the very same workload; its
    database connections are closed on leaving."""
    data_dir = workdir / "service"
    url = database_url or f"sqlite:///{data_dir / 'triage.db'}"
    app = initialise(Settings(data_dir=data_dir, database_url=url)).app
    try:
        uow = app.uow
        first_admin = Caller.system("first-administrator")
        admin_roles = frozenset({Role.ADMINISTRATOR})
        operators.create_operator(uow, first_admin, "admin", "Admin", admin_roles)
        admin = Caller.operator("admin", admin_roles)
        operators.create_operator(uow, admin, "sup", "Sue", frozenset({Role.SUPERVISOR}))
        operators.create_operator(uow, admin, "ben", "Ben", frozenset({Role.BENCH_OPERATOR}))
        assessment.record_party(uow, admin, "BENCH-PARTY", "Bench Triage Ltd", ["Other SEC Party"])
        assessment.start_commissioning(
            uow, admin, datetime.now(UTC) + timedelta(days=1), "benchmark: simulated devices"
        )
        operators.create_operator(uow, admin, "sam", "Sam", frozenset({Role.SECURITY_MANAGER}))
        operators.create_operator(uow, admin, "stella", "Stella", frozenset({Role.STORES}))
        # Consignments are imported for registered asset owners only (issue 19); the fleet's
        # hubs take the meters' reset path, as in the figures before hubs went back to the DCC
        # (issue 20), so that the workload stays the one measured then.
        asset_owners.register(uow, admin, ASSET_OWNER, "Bench Asset Owner")
        hub_returns.set_policy(uow, admin, allow_reset=True)
        sup = operators.operator_caller(uow, "sup")
        bench_assignment.assign_benches(uow, admin, "ben", ["B1"], "benchmark bench")
        ben = dataclasses.replace(operators.operator_caller(uow, "ben"), bench="B1")
        # One bench releasing thousands an hour is the point here, not an anomaly.
        sam = operators.operator_caller(uow, "sam")
        anomaly.set_threshold(uow, sam, "facility", None, "resets", UNLIMITED, 60)
        stella = operators.operator_caller(uow, "stella")
        first_seal, last_seal = devices[0].serial, devices[-1].serial
        seals.receive_batch(
            uow,
            stella,
            supplier="Bench Seals",
            delivery_reference="BENCH-1",
            iso_class="H",
            class_description=None,
            store="STORE-1",
            first=first_seal,
            last=last_seal,
        )
        seals.issue(uow, stella, "ben", first=first_seal, last=last_seal)
        checker_token = own_token(app, admin, "sup", "ledger checks")
        key_file = workdir / "service-tool.key"
        tools.enrol_tool(uow, admin, TOOL_ID, "B1", generate_tool_key(TOOL_ID, key_file))
        facility_vkey = app.verifier_key()
        fleet = BenchFleet(workdir / "service-bench.json", catalogue)
        yield ServiceBench(
            app=app,
            sup=sup,
            ben=ben,
            tool=Caller.tool(TOOL_ID),
            tool_key=load_tool_key(key_file),
            facility_vkey=facility_vkey,
            fleet=fleet,
            connector=SimulatedConnector(fleet.path, facility_vkey, TOOL_ID),
            evidence=app.evidence_store(),
            checker_token=checker_token,
        )
    finally:
        app.close()


def import_devices(bench: ServiceBench, devices: Sequence[SimDevice]) -> None:
    """The supervisor imports the consignment manifest of every device."""
    rows = parse_manifest(manifest_csv(devices), "csv")
    report = intake.import_manifest(bench.app.uow, bench.sup, "C-SERVICE", ASSET_OWNER, rows)
    if report.imported != len(devices) or report.problems:
        raise RuntimeError(f"import: {report.imported} imported, {report.problems[:3]}")


def triage_device(bench: ServiceBench, d: SimDevice, step: StepWrapper) -> None:
    """One device from scan to release through the service layer, each step (the use case
    call, or the simulated tool's work) inside ``step(name, d.index)``; RuntimeError when the
    device does not end where it should. Putting the device on the bench and taking it off
    is outside every step."""
    app, uow, ben, tool = bench.app, bench.app.uow, bench.ben, bench.tool
    connector, vkey, tool_key = bench.connector, bench.facility_vkey, bench.tool_key
    with step("scan", d.index):
        scanned = intake.scan_device(uow, ben, d.device_id)
    if scanned.job is None or not scanned.created:
        raise RuntimeError(f"{d.device_id}: scan opened no job: {scanned.message}")
    job_id = scanned.job.id
    bench.fleet.place(d.device_id)  # the device is put on the bench
    if d.keeps_a_log:
        with step("read order", d.index):
            read_order = security_log.request_read(uow, ben, job_id, TOOL_ID, app.signer_key())
        with step("tool: read security log, sign reading", d.index):
            reading = _tool_reading(connector, read_order, vkey, tool_key)
        with step("record_reading", d.index):
            security_log.record_reading(uow, tool, bench.evidence, reading)
    with step("inspect", d.index):
        decision = job_steps.inspect(uow, ben, job_id, EVIDENCE)
    if decision.outcome.value != "eligible":
        raise RuntimeError(f"{d.device_id}: decision {decision.outcome.value}")
    with step("authorise_reset", d.index):
        signed_order = job_steps.authorise_reset(uow, ben, job_id, TOOL_ID, app.signer_key())
    with step("tool: drive device, sign result", d.index):
        signed_result = _tool_result(connector, signed_order, vkey, tool_key)
    with step("record_tool_result", d.index):
        job = job_steps.record_tool_result(uow, tool, signed_result)
    if job.state is not JobState.VERIFIED:
        raise RuntimeError(f"{d.device_id}: after the reset the job is {job.state}")
    bench.fleet.remove(d.device_id)  # off the bench
    with step("seal", d.index):
        job_steps.seal(uow, ben, job_id, d.serial)
    with step("release", d.index):
        job = job_steps.release(uow, ben, job_id)
    if job.state is not JobState.RELEASED:
        raise RuntimeError(f"{d.device_id}: after release the job is {job.state}")


@dataclass
class ServiceResult:
    devices: int
    setup_s: float
    import_s: float
    lifecycle_s: float
    steps: dict[str, Stats]
    released: int
    jobs: int
    checks: dict[str, CheckResult]
    cpu_s: float = 0.0  # the whole process during the lifecycle: service, tool, bookkeeping
    profile_top: str = ""
    service_cpu_s: float = 0.0  # the use-case calls only (thread CPU inside their steps)
    service_wall_s: float = 0.0  # the use-case calls only (wall time inside their steps)

    @property
    def total_s(self) -> float:
        return self.import_s + self.lifecycle_s

    @property
    def service_ms_per_device(self) -> float:
        """The service layer's CPU per device, ms: what the mark is judged on."""
        return 1000 * self.service_cpu_s / self.devices

    @property
    def service_devices_per_s(self) -> float:
        """Devices per second of the use-case calls alone, one after another in one thread."""
        return self.devices / max(self.service_wall_s, 1e-9)


class ServiceClock:
    """The step wrapper of the service-layer run: each step's duration into ``timings``, and
    the thread CPU and wall time of the use-case steps (not the simulated tool's) summed."""

    def __init__(self, timings: Timings) -> None:
        self.timings = timings
        self.cpu_s = 0.0
        self.wall_s = 0.0

    @contextlib.contextmanager
    def __call__(self, step: str, index: int) -> Iterator[None]:
        cpu = time.thread_time()
        start = time.perf_counter()
        yield
        wall = time.perf_counter() - start
        if step not in TOOL_STEPS:
            self.cpu_s += time.thread_time() - cpu
            self.wall_s += wall
        self.timings.add(step, index, wall)


def run_service(
    devices: Sequence[SimDevice],
    catalogue: dict[str, Any],
    workdir: Path,
    database_url: str | None,
    profile: Path | None,
) -> ServiceResult:
    t0 = time.perf_counter()
    with service_bench(devices, catalogue, workdir, database_url) as bench:
        setup_s = time.perf_counter() - t0
        log(f"service layer: importing a manifest of {len(devices):,} devices")
        t0 = time.perf_counter()
        import_devices(bench, devices)
        import_s = time.perf_counter() - t0

        timings = Timings(SERVICE_STEPS)
        clock = ServiceClock(timings)
        profiler = cProfile.Profile() if profile else None
        log("service layer: triaging every device")
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        if profiler:
            profiler.enable()
        for d in devices:
            start = time.perf_counter()
            triage_device(bench, d, clock)
            timings.add("whole device", d.index, time.perf_counter() - start)
            if (d.index + 1) % 1000 == 0:
                rate = (d.index + 1) / (time.perf_counter() - t0)
                log(f"service layer: {d.index + 1:,} devices released ({rate:,.0f}/s)")
        if profiler:
            profiler.disable()
        lifecycle_s = time.perf_counter() - t0
        cpu_s = time.process_time() - cpu0
        with bench.app.uow(write=False) as unit:
            released = unit.jobs.page(JobState.RELEASED, 0, 1)[1]
            jobs = unit.jobs.page(None, 0, 1)[1]
    top = ""
    if profiler and profile:
        profiler.dump_stats(profile)
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(30)
        top = buffer.getvalue()
        log(f"service layer: cProfile statistics written to {profile}")
    env = {**_triage_env(workdir / "service", database_url), "TRIAGE_TOKEN": bench.checker_token}
    checks = ledger_checks(env)
    return ServiceResult(
        len(devices),
        setup_s,
        import_s,
        lifecycle_s,
        timings.stats(),
        released,
        jobs,
        checks,
        cpu_s,
        top,
        clock.cpu_s,
        clock.wall_s,
    )


def _tool_reading(
    connector: SimulatedConnector, signed_order: str, facility_vkey: str, tool_key: str
) -> str:
    """What the bench agent does with a read order, without the HTTP: verify the order, read
    the device's security log (GBCS), sign the reading."""
    order = WorkOrder.open(signed_order, facility_vkey)
    order.check(TOOL_ID, order.device_id, datetime.now(UTC))
    attached = connector.attach(order.device_id)
    return SecurityLogReading(
        work_order_id=order.id,
        nonce=order.nonce,
        tool_id=TOOL_ID,
        device_id=attached.device_id,
        read_at=datetime.now(UTC),
        gbcs=attached.read_security_log(),
    ).sign(tool_key)


def _tool_result(
    connector: SimulatedConnector, signed_order: str, facility_vkey: str, tool_key: str
) -> str:
    """What the bench agent does, without the HTTP: verify the order, reset, sign the result."""
    order = WorkOrder.open(signed_order, facility_vkey)
    order.check(TOOL_ID, order.device_id, datetime.now(UTC))
    attached = connector.attach(order.device_id)
    before = attached.read_state()
    attached.factory_reset(signed_order)
    return ToolResult(
        work_order_id=order.id,
        nonce=order.nonce,
        tool_id=TOOL_ID,
        device_id=attached.device_id,
        outcome=ResetOutcome.COMPLETED,
        before=before,
        after=attached.read_state(),
        detail="factory reset carried out",
        completed_at=datetime.now(UTC),
    ).sign(tool_key)


# --- the triage command ----------------------------------------------------------------------


def _triage_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {**os.environ, "TRIAGE_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    env.pop("TRIAGE_DATABASE_URL", None)
    env.pop("TRIAGE_FACILITY", None)
    if database_url:
        env["TRIAGE_DATABASE_URL"] = database_url
    return env


def triage_cli(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """Run a `triage` command; its stdout, or RuntimeError with its stderr."""
    result = subprocess.run(
        [*TRIAGE, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"triage {' '.join(args[:3])} failed: {result.stderr.strip()[-2000:]}")
    return result.stdout


def cli_sign_up(env: dict[str, str], operator_id: str, code: str, bench: str | None = None) -> str:
    """With an activation code: set a password and a TOTP second factor, sign in (at ``bench``)
    and return the API token the operator mints for themself, all through `triage auth`."""
    password = "Bench pass " + secrets.token_urlsafe(12)
    activate = ["--code", code, "--password", password, "--json"]
    totp = pyotp.TOTP(
        json.loads(triage_cli(env, "auth", "activate", operator_id, *activate))["totp_secret"]
    )
    confirm = ["--code", code, "--totp", totp.now(), "--json"]
    recovery = json.loads(triage_cli(env, "auth", "confirm", operator_id, *confirm))[
        "recovery_codes"
    ]
    at_bench = ["--bench", bench] if bench else []
    login = ["--password", password, "--recovery-code", recovery[0], "--days", "7", "--json"]
    return str(
        json.loads(triage_cli(env, "auth", "login", operator_id, *login, *at_bench))["token"]
    )


def own_token(app: App, admin: Caller, operator_id: str, label: str) -> str:
    """In process: ``admin`` activates the operator, who enrols a second factor, signs in and
    mints their own token (nobody is issued someone else's)."""
    box = app.secret_box()
    code = auth.issue_activation(app.uow, admin, operator_id)
    password = "Bench pass " + secrets.token_urlsafe(12)
    secret, _ = auth.activate(app.uow, operator_id, code, password, box=box)
    recovery = auth.confirm_mfa(app.uow, operator_id, code, pyotp.TOTP(secret).now(), box=box)
    session = auth.login(app.uow, operator_id, password, recovery[0], "bench", box=box)
    try:
        caller = auth.authenticate_session(app.uow, session.secret).caller
        return tokens.issue_token(app.uow, caller, operator_id, label).secret
    finally:
        auth.logout(app.uow, session.secret)


@dataclass(frozen=True)
class CheckResult:
    exit_code: int
    seconds: float
    summary: str


def ledger_checks(env: dict[str, str]) -> dict[str, CheckResult]:
    """`triage ledger verify` and `triage ledger replay --check` (correctness, not timing)."""
    out = {}
    for name, args in (
        ("triage ledger verify", ("ledger", "verify", "--json")),
        ("triage ledger replay --check", ("ledger", "replay", "--check", "--json")),
    ):
        log(f"checking: {name}")
        start = time.perf_counter()
        result = subprocess.run(
            [*TRIAGE, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        seconds = time.perf_counter() - start
        try:
            data = json.loads(result.stdout)
            if "entries_checked" in data:
                summary = (
                    f"{data['entries_checked']:,} entries, "
                    f"{data['checkpoints_checked']} checkpoint(s)"
                )
            else:
                summary = f"{data['entries']:,} entries replayed, {data['rows']:,} rows agree"
            if not data.get("ok"):
                summary = "FAILED: " + json.dumps(data)[:300]
        except (ValueError, KeyError):
            summary = (result.stderr or result.stdout).strip()[-300:]
        out[name] = CheckResult(result.returncode, seconds, summary)
    return out


# --- HTTP API --------------------------------------------------------------------------------

API_STEPS = (
    "import (whole manifest)",
    "scan",
    "read order",
    "security log turnaround (order issued -> recorded)",
    "inspection",
    "work order",
    "reset turnaround (order issued -> verified)",
    "seal",
    "release",
    "whole device",
)


# The requests a bench operator waits on (not the turnarounds, which wait for the agent).
BENCH_STEPS = ("scan", "read order", "inspection", "work order", "seal", "release")


@dataclass
class ApiResult:
    devices: int
    workers: int
    agents: int
    agent_interval: float
    poll_interval: float
    setup_s: float
    wall_s: float
    import_s: float
    steps: dict[str, Stats]
    polls: int
    released: int
    jobs: int
    failures: list[str]
    stopped_early: str | None
    checks: dict[str, CheckResult]
    cpu_s: dict[str, float]
    requests: dict[str, int] = field(default_factory=dict)
    # The longest each waiting read (the bench's and the agents') asked the server to hold it;
    # 0: polling every poll_interval and agent_interval instead.
    wait: float = 0.0

    @property
    def lifecycle_s(self) -> float:
        return self.wall_s - self.import_s


class ApiFailure(Exception):
    """One device's lifecycle failed at a step."""


def _parallel(function: Callable[[int], T], indexes: Iterable[int]) -> list[T]:
    """``function`` of each index, in order, a few at a time: most of a `triage` command's
    time is Python starting, so the setup's commands run side by side."""
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        return list(pool.map(function, indexes))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen[Any], grace: float = 15) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


_ACCESS = re.compile(r'"([A-Z]+) (/[^ ?"]*)[^"]* HTTP/[0-9.]+" ([0-9]{3})')
_ID_SEGMENT = re.compile(r"/(jobs|devices|consignments|exceptions)/(?!scan$)[^/]+")


def count_requests(server_log: Path) -> dict[str, int]:
    """Requests the server answered, by method and route, from its access log."""
    counts: dict[str, int] = {}
    try:
        text = server_log.read_text(errors="replace")
    except OSError:
        return counts
    for method, path, status in _ACCESS.findall(text):
        route = _ID_SEGMENT.sub(lambda m: f"/{m.group(1)}/{{id}}", path)
        key = f"{method} {route}" + ("" if status.startswith("2") else f" ({status})")
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc (0 once it is gone)."""
    return sum(_process_times(pid))


def _process_times(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process, from /proc ((0, 0) once it is gone). Time in
    the kernel is where lock and GIL hand-offs between threads show."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first), or None when the
    process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _tree_times(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process and all its descendants, from /proc: those
    running now, and (their parents' ``cutime``/``cstime``) those that have ended and been
    waited for. A server with worker processes is counted whole, whatever their number."""
    parents: dict[int, int] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None:
            stats[int(entry.name)] = fields
            parents[int(entry.name)] = int(fields[1])
    tree, frontier = set(), [pid]
    while frontier:
        current = frontier.pop()
        if current in tree or current not in stats:
            continue
        tree.add(current)
        frontier.extend(child for child, parent in parents.items() if parent == current)
    tick = os.sysconf("SC_CLK_TCK")
    user = sum(int(stats[p][11]) + int(stats[p][13]) for p in tree) / tick
    system = sum(int(stats[p][12]) + int(stats[p][14]) for p in tree) / tick
    return user, system


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _json(response: httpx.Response, step: str, expect: int = 200) -> Any:
    if response.status_code != expect:
        raise ApiFailure(f"{step}: HTTP {response.status_code}: {response.text[:300]}")
    return response.json()


class ApiRun:
    """One API run: the server, the agents, the bench workers."""

    def __init__(
        self,
        devices: Sequence[SimDevice],
        catalogue: dict[str, Any],
        workdir: Path,
        database_url: str | None,
        args: argparse.Namespace,
    ) -> None:
        self.devices = devices
        self.catalogue = catalogue
        self.workdir = workdir
        self.data_dir = workdir / "api"
        self.env = _triage_env(self.data_dir, database_url)
        self.workers = args.workers
        self.agents = args.agents
        self.agent_interval = args.agent_interval
        self.poll_interval = args.poll_interval
        self.wait = args.wait
        self.deadline = time.monotonic() + args.timeout
        self.timings = Timings(API_STEPS)
        self.stop = threading.Event()
        self.stop_reason: str | None = None
        self.failures: list[str] = []
        self.polls = 0
        self.done = 0
        self._lock = threading.Lock()
        self.server: subprocess.Popen[Any] | None = None
        self.agent_procs: list[subprocess.Popen[Any]] = []
        # Extra `triage serve` options.
        server_workers = getattr(args, "server_workers", None)
        self.serve_options = [] if server_workers is None else ["--workers", str(server_workers)]
        self.logs: list[Path] = []
        self.cpu_used: dict[str, float] = {}

    # setup -----------------------------------------------------------------------------------
    def setup(self) -> None:
        env = self.env
        self.verifier = json.loads(triage_cli(env, "init", "--json"))["verifier_key"]
        # The host adds the first administrator with an activation code; everyone then signs
        # in with a second factor and mints their own token, as people do.
        first = triage_cli(
            env, "operator", "add", "admin", "--name", "Admin", "--role", "administrator", "--json"
        )
        self.admin_token = admin = cli_sign_up(env, "admin", json.loads(first)["activation_code"])

        def token(operator: str, name: str, role: str, bench: str | None = None) -> str:
            added = triage_cli(
                env, "operator", "add", operator, "--name", name, "--role", role,
                "--issue-activation", "--token", admin, "--json",
            )  # fmt: skip
            if bench:
                # The administrator assigns the bench: nobody works at a bench they only name.
                assign = ["--bench", bench, "--reason", "benchmark bench", "--token", admin]
                triage_cli(env, "operator", "benches", operator, *assign)
            return cli_sign_up(env, operator, json.loads(added)["activation_code"], bench)

        self.sup_token = token("sup", "Sue", "supervisor", "B1")
        # Consignments are imported for registered asset owners only (issue 19).
        add_owner = ["--name", "Bench Asset Owner", "--token", admin]
        triage_cli(env, "asset-owner", "add", ASSET_OWNER, *add_owner)
        # The fleet's hubs take the meters' reset path, as before issue 20 (see run_service).
        triage_cli(env, "hub", "policy", "--allow-reset", "--token", admin)
        triage_cli(
            env,
            "assurance",
            "party",
            "--id",
            "BENCH-PARTY",
            "--name",
            "Bench Triage Ltd",
            "--role",
            "Other SEC Party",
            "--token",
            admin,
        )
        until = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
        triage_cli(
            env,
            "assurance",
            "commissioning-start",
            "--until",
            until,
            "--reason",
            "benchmark: simulated devices",
            "--token",
            admin,
        )
        self.security_token = security = token("sam", "Sam", "security_manager")
        triage_cli(
            env,
            "thresholds",
            "set",
            "resets",
            "--max-count",
            str(UNLIMITED),
            "--window",
            "60",
            "--token",
            security,
        )
        # Worker w works at the bench of tool w % agents (see the worker loop).
        self.bench_tokens = _parallel(
            lambda w: token(
                f"ben-{w + 1}",
                f"Bench operator {w + 1}",
                "bench_operator",
                f"B{w % self.agents + 1}",
            ),
            range(self.workers),
        )
        self._issue_seals(token("stella", "Stella", "stores"))
        self.tools = _parallel(self._enrol_tool, range(self.agents))

    def _enrol_tool(self, k: int) -> tuple[str, Path, BenchFleet]:
        """Tool k: its key (made at its bench), its enrolment, its simulated bench."""
        env, admin = self.env, self.admin_token
        tool_id = f"BENCH-{k + 1}"
        key_file = self.workdir / "agents" / f"{tool_id}.key"
        vkey = triage_cli(
            env, "agent", "keygen", "--tool-id", tool_id, "--out", str(key_file)
        ).strip()
        triage_cli(
            env,
            "tool",
            "enrol",
            tool_id,
            "--bench",
            f"B{k + 1}",
            "--key",
            vkey,
            "--token",
            admin,
        )
        fleet = BenchFleet(self.workdir / "agents" / f"{tool_id}-bench.json", self.catalogue)
        return tool_id, key_file, fleet

    def _issue_seals(self, stores: str) -> None:
        """Each bench operator gets seals of their own: twice their share of the devices."""
        share = 2 * math.ceil(len(self.devices) / self.workers) + 10

        def receive_and_issue(w: int) -> list[str]:
            first, last = f"W{w + 1}-{1:07d}", f"W{w + 1}-{share:07d}"
            common = ["--first", first, "--last", last, "--token", stores]
            triage_cli(
                self.env,
                "seals",
                "receive",
                "--supplier",
                "Bench Seals",
                "--delivery",
                f"BENCH-{w + 1}",
                "--class",
                "H",
                "--store",
                "STORE-1",
                *common,
            )
            triage_cli(self.env, "seals", "issue", f"ben-{w + 1}", *common)
            return [f"W{w + 1}-{n:07d}" for n in range(share, 0, -1)]

        self.seals: list[list[str]] = _parallel(receive_and_issue, range(self.workers))

    @property
    def procs(self) -> list[subprocess.Popen[Any]]:
        """The processes running now: the server first, then one agent per tool."""
        return ([self.server] if self.server else []) + self.agent_procs

    def start_processes(self) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.start_server()
        self.agent_procs = [self.start_agent(k) for k in range(len(self.tools))]

    def start_server(self) -> subprocess.Popen[Any]:
        """Start `triage serve` on ``self.port`` (again, after a restart) and wait until it
        answers; its output is appended to server.log."""
        server_log = self.workdir / "server.log"
        if server_log not in self.logs:
            self.logs.append(server_log)
        with server_log.open("a") as out:
            self.server = server = subprocess.Popen(
                [
                    *TRIAGE,
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--log-every-request",  # the request counts come from the access log
                    *self.serve_options,
                ],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=self.base_url, timeout=5) as client:
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if client.get("/api/v1/health").status_code == 200:
                        break
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"triage serve did not start:\n{_tail(server_log)}")
                time.sleep(0.1)
        return server

    def start_agent(self, k: int) -> subprocess.Popen[Any]:
        """Start `triage agent run` for tool ``k`` (again, after a restart: same key, same
        state directory, same bench); its output is appended to agent-TOOL.log."""
        tool_id, key_file, fleet = self.tools[k]
        agent_log = self.workdir / f"agent-{tool_id}.log"
        if agent_log not in self.logs:
            self.logs.append(agent_log)
        with agent_log.open("a") as out:
            return subprocess.Popen(
                [
                    *TRIAGE,
                    "agent",
                    "run",
                    "--server",
                    self.base_url,
                    "--tool-id",
                    tool_id,
                    "--key",
                    str(key_file),
                    "--facility-key",
                    self.verifier,
                    "--state-dir",
                    str(self.workdir / "agents" / f"{tool_id}-state"),
                    "--option",
                    f"state_file={fleet.path}",
                    "--interval",
                    str(self.agent_interval),
                    "--wait",
                    f"{self.wait:g}",
                ],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by the server (its whole process tree: with ``--workers``,
        every worker process), the agents and this process (its bench workers)."""
        agents = sum(_process_cpu(p.pid) for p in self.agent_procs)
        user, system = _tree_times(self.server.pid) if self.server else (0.0, 0.0)
        return {
            "server": user + system,
            "agents": agents,
            "bench": time.process_time(),
            # Part of "server" (not added again to the total): its time in the kernel.
            "server_kernel": system,
        }

    def stop_processes(self) -> None:
        for proc in reversed(self.procs):  # agents first, then the server
            _stop(proc)

    # the run ---------------------------------------------------------------------------------
    def run(self) -> tuple[float, float]:
        """Import, then every device through the bench workers; returns (wall, import) s."""
        self.cpu_start = self.cpu_seconds()
        start = time.perf_counter()
        with httpx.Client(
            base_url=self.base_url,
            timeout=600,
            headers={"Authorization": f"Bearer {self.sup_token}"},
        ) as client:
            response = client.post(
                "/api/v1/consignments",
                params={"reference": "C-API", "asset_owner": ASSET_OWNER},
                content=manifest_csv(self.devices),
                headers={"Content-Type": "text/csv"},
            )
        import_s = time.perf_counter() - start
        self.timings.add("import (whole manifest)", 0, import_s)
        body = _json(response, "import", 201)
        if body["imported"] != len(self.devices) or body["rejected"]:
            raise RuntimeError(f"import: {body['imported']} imported, {body['rejected'][:3]}")
        log(f"API: manifest of {len(self.devices):,} devices imported in {import_s:.1f} s")

        work: queue.SimpleQueue[SimDevice] = queue.SimpleQueue()
        for d in self.devices:
            work.put(d)
        threads = [
            threading.Thread(target=self._worker, args=(w, work), name=f"bench-{w + 1}")
            for w in range(self.workers)
        ]
        for t in threads:
            t.start()
        last_report = time.monotonic()
        while any(t.is_alive() for t in threads):
            time.sleep(0.5)
            dead = [p for p in self.procs if p.poll() is not None]
            if dead and not self.stop.is_set():
                self._halt(f"a triage process exited early (exit {dead[0].returncode})")
            if time.monotonic() > self.deadline and not self.stop.is_set():
                self._halt("--timeout reached")
            if time.monotonic() - last_report > 15:
                last_report = time.monotonic()
                rate = self.done / (time.perf_counter() - start)
                log(f"API: {self.done:,} devices released ({rate:,.1f}/s overall)")
        for t in threads:
            t.join(timeout=DEVICE_WAIT + 60)
        wall_s = time.perf_counter() - start
        end = self.cpu_seconds()
        self.cpu_used = {k: end[k] - self.cpu_start[k] for k in end}
        return wall_s, import_s

    def _halt(self, reason: str) -> None:
        with self._lock:
            if self.stop_reason is None:
                self.stop_reason = reason
                log(f"API: stopping early: {reason}")
        self.stop.set()

    def _worker(self, w: int, work: queue.SimpleQueue[SimDevice]) -> None:
        tool_id, _, fleet = self.tools[w % len(self.tools)]
        with httpx.Client(
            base_url=self.base_url,
            timeout=60,
            headers={"Authorization": f"Bearer {self.bench_tokens[w]}"},
        ) as client:
            while not self.stop.is_set():
                try:
                    d = work.get_nowait()
                except queue.Empty:
                    return
                if not self.seals[w]:
                    self._halt(f"bench operator {w + 1} has no seals left")
                    return
                try:
                    self._device(client, d, tool_id, fleet, self.seals[w].pop())
                except (ApiFailure, httpx.HTTPError, OSError, ValueError) as exc:
                    with contextlib.suppress(OSError):
                        fleet.remove(d.device_id)
                    with self._lock:
                        self.failures.append(f"{d.device_id}: {exc}")
                        too_many = len(self.failures) >= MAX_ERRORS
                    log(f"API: device {d.device_id} failed: {exc}")
                    if too_many:
                        self._halt(f"{MAX_ERRORS} devices failed")

    def _device(
        self, client: httpx.Client, d: SimDevice, tool_id: str, fleet: BenchFleet, seal: str
    ) -> None:
        t = self.timings
        start = time.perf_counter()
        with timed(t, "scan", d.index):
            response = client.post("/api/v1/devices/scan", json={"device_id": d.device_id})
        scanned = _json(response, "scan")
        if not scanned["created"] or scanned["job"] is None:
            raise ApiFailure(f"scan: {scanned['message']}")
        job = scanned["job"]["id"]
        fleet.place(d.device_id)  # onto the tool's bench (not timed)
        if d.keeps_a_log:
            with timed(t, "read order", d.index):
                response = client.post(
                    f"/api/v1/jobs/{job}/security-log/read-orders", json={"tool_id": tool_id}
                )
            _json(response, "read order", 201)
            issued = time.perf_counter()
            self._await(client, f"/api/v1/jobs/{job}/security-log", "security log", issued)
            t.add(
                "security log turnaround (order issued -> recorded)",
                d.index,
                time.perf_counter() - issued,
            )
        with timed(t, "inspection", d.index):
            response = client.post(f"/api/v1/jobs/{job}/inspection", json=EVIDENCE)
        outcome = _json(response, "inspection")["outcome"]
        if outcome != "eligible":
            raise ApiFailure(f"inspection: decision {outcome}")
        with timed(t, "work order", d.index):
            response = client.post(f"/api/v1/jobs/{job}/work-orders", json={"tool_id": tool_id})
        _json(response, "work order", 201)
        issued = time.perf_counter()
        state = self._await(
            client,
            f"/api/v1/jobs/{job}",
            "poll",
            issued,
            lambda found: found["state"] == "verified" or found["state"] in FAILED_STATES,
        )["state"]
        t.add("reset turnaround (order issued -> verified)", d.index, time.perf_counter() - issued)
        if state != "verified":
            raise ApiFailure(f"reset: job is {state}")
        fleet.remove(d.device_id)  # off the bench (not timed)
        with timed(t, "seal", d.index):
            response = client.post(f"/api/v1/jobs/{job}/seal", json={"serial": seal})
        _json(response, "seal")
        with timed(t, "release", d.index):
            response = client.post(f"/api/v1/jobs/{job}/release")
        if _json(response, "release")["state"] != "released":
            raise ApiFailure("release: job not released")
        t.add("whole device", d.index, time.perf_counter() - start)
        with self._lock:
            self.done += 1

    def _await(
        self,
        client: httpx.Client,
        path: str,
        step: str,
        issued: float,
        done: Callable[[Any], bool] = lambda _: True,
    ) -> Any:
        """GET ``path`` until its answer (JSON) is the one ``done`` awaits, counting each request
        as a poll. With ``--wait``, each is a waiting read: held by the server until the answer
        differs from the last one seen (its ETag), or, while there is none (404), until there
        is; without (or when the server does not hold it), one every ``--poll-interval``."""
        tag: str | None = None
        polls = 0
        try:
            while True:
                headers: dict[str, str] = {}
                if self.wait > 0:
                    headers["Prefer"] = f"wait={self.wait:g}"
                    if tag is not None:
                        headers["If-None-Match"] = tag
                else:
                    time.sleep(self.poll_interval)
                response = client.get(path, headers=headers)
                polls += 1
                if response.status_code == 200:
                    tag = response.headers.get("ETag")
                    found = response.json()
                    if done(found):
                        return found
                elif response.status_code not in (304, 404):
                    _json(response, step)  # refused: says why
                if time.perf_counter() - issued > DEVICE_WAIT or self.stop.is_set():
                    raise ApiFailure(f"{step}: not done after {time.perf_counter() - issued:.0f} s")
                if self.wait > 0 and "Preference-Applied" not in response.headers:
                    time.sleep(self.poll_interval)  # not held: never ask in a tight loop
        finally:
            with self._lock:
                self.polls += polls

    def count_jobs(self) -> tuple[int, int]:
        with httpx.Client(
            base_url=self.base_url,
            timeout=60,
            headers={"Authorization": f"Bearer {self.sup_token}"},
        ) as client:
            released = _json(
                client.get("/api/v1/jobs", params={"state": "released", "limit": 1}), "jobs"
            )
            every = _json(client.get("/api/v1/jobs", params={"limit": 1}), "jobs")
        return int(released["total"]), int(every["total"])


def run_api(
    devices: Sequence[SimDevice],
    catalogue: dict[str, Any],
    workdir: Path,
    database_url: str | None,
    args: argparse.Namespace,
) -> ApiResult:
    api = ApiRun(devices, catalogue, workdir, database_url, args)
    t0 = time.perf_counter()
    released = jobs = 0
    try:
        log(f"API: setting up ({args.workers} bench operators, {args.agents} tools) with `triage`")
        api.setup()
        api.start_processes()
        setup_s = time.perf_counter() - t0
        log(
            f"API: server at {api.base_url}, {args.agents} agent(s); "
            f"{args.workers} bench workers start"
        )
        wall_s, import_s = api.run()
        released, jobs = api.count_jobs()
    except BaseException:
        for path in api.logs:
            log(f"--- {path.name} (last lines) ---\n{_tail(path)}")
        raise
    finally:
        api.stop_processes()
    requests = count_requests(api.workdir / "server.log")
    checks = ledger_checks({**api.env, "TRIAGE_TOKEN": api.sup_token})
    return ApiResult(
        len(devices),
        args.workers,
        args.agents,
        args.agent_interval,
        args.poll_interval,
        setup_s,
        wall_s,
        import_s,
        api.timings.stats(),
        api.polls,
        released,
        jobs,
        api.failures,
        api.stop_reason,
        checks,
        api.cpu_used,
        requests,
        args.wait,
    )


# --- machine ---------------------------------------------------------------------------------


def machine(workdir: Path) -> dict[str, str]:
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
        "Disk": _filesystem(workdir),
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "SQLAlchemy": sqlalchemy.__version__,
        "httpx": httpx.__version__,
        "uvicorn": _version("uvicorn"),
        "FastAPI": _version("fastapi"),
        "PostgreSQL": "not used",
        "Load average at start (1/5/15 min)": _loadavg(),
        "Date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "Code measured": f"`{source_digest()}` (sha256 of src/triage); {describe()}",
    }


def _version(module: str) -> str:
    from importlib.metadata import version

    try:
        return version(module)
    except Exception:
        return "?"


def source_digest() -> str:
    """Identifies the code measured (the tree may have no commit to name)."""
    digest = hashlib.sha256()
    root = REPO_ROOT / "src" / "triage"
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".yaml")):
        digest.update(path.relative_to(REPO_ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _loadavg() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def _filesystem(path: Path) -> str:
    best = ("", "?", "?")
    for line in Path("/proc/mounts").read_text().splitlines():
        device, mount, fstype = line.split()[:3]
        if str(path).startswith(mount) and len(mount) > len(best[0]):
            best = (mount, device, fstype)
    return f"{best[2]} on {best[1]} (temporary directory {path.parent})"


def _other_benchmarks() -> str:
    """Other benchmark processes running alongside (they skew the figures)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if "bench." in cmd and "triage_bench" not in cmd:
                found.append(cmd.strip()[:80])
    return "; ".join(found) or "none"


# --- report ----------------------------------------------------------------------------------


@dataclass
class Results:
    command: str
    machine: dict[str, str]
    devices: int
    backend: str
    service: ServiceResult | None = None
    api: ApiResult | None = None
    fleet: list[FleetCost] = field(default_factory=list)
    others: str = "none"
    total_s: float = 0.0


def _n(value: float) -> str:
    return f"{value:,.0f}"


def _ms(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:,.0f}" if value >= 1000 else f"{value:.1f}"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{seconds:.1f} s ({int(minutes)} min {rest:.0f} s)"


def _steps_table(steps: dict[str, Stats]) -> list[str]:
    lines = [
        "| Step | n | mean | p50 | p95 | max | p50, first → last tenth |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in steps.items():
        trend = "" if s.count < 20 else f"{_ms(s.first_p50)} → {_ms(s.last_p50)}"
        lines.append(
            f"| {name} | {s.count:,} | {_ms(s.mean)} | {_ms(s.p50)} | {_ms(s.p95)} | "
            f"{_ms(s.max)} | {trend} |"
        )
    return lines


def _cpu_rows(api: ApiResult) -> list[str]:
    if not api.cpu_s:
        return []
    cores = os.cpu_count() or 1
    total = sum(v for k, v in api.cpu_s.items() if k != "server_kernel")
    server = api.cpu_s["server"]
    kernel = api.cpu_s.get("server_kernel", 0.0)
    return [
        f"| CPU time during the run: server, agents, bench workers | {server:.1f} s, "
        f"{api.cpu_s['agents']:.1f} s, {api.cpu_s['bench']:.1f} s "
        f"({total / (api.wall_s * cores):.0%} of {cores} cores) |",
        f"| Server CPU per device (of which in the kernel) / share of one core | "
        f"{1000 * server / api.devices:.1f} ms ({1000 * kernel / api.devices:.1f} ms) / "
        f"{server / api.wall_s:.0%} |",
    ]


def _checks_rows(results: Results) -> list[str]:
    parts = [("Service layer", results.service), ("HTTP API", results.api)]
    lines = ["| Check | Run | Result |", "|---|---|---|"]
    for label, run in parts:
        if run is None:
            continue
        ok = run.released == run.devices == run.jobs
        lines.append(
            f"| every job released | {label} | {run.released:,} of {run.devices:,} devices "
            f"released, {run.jobs:,} job(s) in all: {'**ok**' if ok else '**FAILED**'} |"
        )
        for name, check in run.checks.items():
            verdict = "**ok**" if check.exit_code == 0 else f"**FAILED** (exit {check.exit_code})"
            lines.append(
                f"| `{name}` exits 0 | {label} | {verdict}: {check.summary} "
                f"({check.seconds:.1f} s) |"
            )
    return lines


@dataclass(frozen=True)
class Mark:
    """One of the benchmark's marks (issue 22), as one run measured it."""

    target: str
    measured: str
    met: bool | None  # None: this run does not judge it (``measured`` says why)


def _correct(run: ServiceResult | ApiResult) -> bool:
    """Every device released, no other job, no failure, and the ledger checks passed: a fast
    wrong answer meets no mark."""
    failures = getattr(run, "failures", [])
    return (
        run.released == run.devices == run.jobs
        and not failures
        and all(c.exit_code == 0 for c in run.checks.values())
    )


def bench_step_p95(api: ApiResult) -> tuple[str, float] | None:
    """The bench step with the highest p95 latency, and that p95 (ms); None before any."""
    measured = [(step, api.steps[step].p95) for step in BENCH_STEPS if step in api.steps]
    return max(measured, key=lambda sp: sp[1]) if measured else None


def marks(results: Results) -> list[Mark]:
    """Every mark, met, not met, or not judged by this run (and why)."""
    out: list[Mark] = []
    service, api = results.service, results.api
    cpu_target = f"Service layer: ≤ {SERVICE_CPU_MS:g} ms of CPU per device (the use-case calls)"
    rate_target = f"Service layer: ≥ {SERVICE_RATE:g} devices/s in one thread (the use-case calls)"
    if service is None:
        out += [Mark(cpu_target, "service run skipped", None)]
        out += [Mark(rate_target, "service run skipped", None)]
    else:
        ok = _correct(service)
        out.append(
            Mark(
                cpu_target,
                f"{service.service_ms_per_device:.2f} ms per device",
                ok and service.service_ms_per_device <= SERVICE_CPU_MS,
            )
        )
        out.append(
            Mark(
                rate_target,
                f"{service.service_devices_per_s:,.1f} devices/s",
                ok and service.service_devices_per_s >= SERVICE_RATE,
            )
        )
    api_rate = f"HTTP API, {API_BENCHES} benches and their agents: ≥ {API_RATE:g} devices/s"
    api_cpu = (
        f"HTTP API, {API_BENCHES} benches and their agents: ≤ {API_SERVER_CPU_MS:g} ms of "
        "server CPU per device (every server process)"
    )
    whole = (
        f"Whole lifecycle of {TARGET_DEVICES:,} devices through the HTTP API, with the agents, "
        f"in under {TARGET_SECONDS / 60:g} minutes"
    )
    busy = f"HTTP API, {BUSY_BENCHES} benches: p95 of every bench step < {BUSY_P95_MS:g} ms"
    if api is None:
        return out + [Mark(t, "API run skipped", None) for t in (api_rate, api_cpu, whole, busy)]
    ok = _correct(api)
    rate = api.devices / max(api.wall_s, 1e-9)
    server_ms = 1000 * api.cpu_s.get("server", 0.0) / api.devices
    benches = f"not judged: a run of {api.workers} benches"
    agents = f" ({api.workers} benches, {api.agents} agents)"
    if api.workers == API_BENCHES:
        out.append(Mark(api_rate, f"{rate:,.1f} devices/s{agents}", ok and rate >= API_RATE))
        out.append(
            Mark(api_cpu, f"{server_ms:.1f} ms{agents}", ok and server_ms <= API_SERVER_CPU_MS)
        )
    else:
        out.append(Mark(api_rate, f"{rate:,.1f} devices/s; {benches}", None))
        out.append(Mark(api_cpu, f"{server_ms:.1f} ms; {benches}", None))
    measured = f"{api.devices:,} devices in {_duration(api.wall_s)}: {rate:,.1f} devices/s"
    if api.released != api.devices:
        measured += f"; only {api.released:,} released"
    if api.devices >= TARGET_DEVICES:
        out.append(Mark(whole, measured, ok and api.wall_s < TARGET_SECONDS))
    else:
        out.append(Mark(whole, f"{measured}; not judged: fewer devices", None))
    worst = bench_step_p95(api)
    worst_text = "no bench step measured" if worst is None else f"{worst[0]}: {worst[1]:.1f} ms"
    if api.workers >= BUSY_BENCHES and worst is not None:
        out.append(Mark(busy, f"highest p95 {worst_text}", ok and worst[1] < BUSY_P95_MS))
    else:
        out.append(Mark(busy, f"highest p95 {worst_text}; {benches}", None))
    return out


def target_met(results: Results) -> bool | None:
    """Whether every mark this run judges is met (None: it judges none)."""
    judged = [m.met for m in marks(results) if m.met is not None]
    return all(judged) if judged else None


BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
DOC_HEADER = """# End-to-end triage benchmark

Generated by `bench/triage_bench.py` (`.venv/bin/python -m bench.triage_bench --help`); a run
with `--write` replaces only its own backend's section. Benchmarks are run by hand; no test
asserts anything about timing.
"""


def _markers(backend: str) -> tuple[str, str]:
    return (
        f"<!-- triage-bench:{backend}:begin: generated by bench/triage_bench.py -->",
        f"<!-- triage-bench:{backend}:end -->",
    )


def section_key(backend: str, workers: int) -> str:
    """Which section of the results file a run writes: one per backend, and one per backend
    for the many-benches run, so that neither replaces the other."""
    return f"{backend}-{BUSY_BENCHES}-benches" if workers >= BUSY_BENCHES else backend


def write_doc(path: Path, key: str, block: str) -> None:
    """Replace this section's block (``section_key``) in the results file, keeping everything
    else."""
    begin, end = _markers(key)
    replace_block(path, begin, end, block, DOC_HEADER)


def replace_block(path: Path, begin: str, end: str, block: str, new_file: str) -> None:
    """Put ``block`` between the ``begin`` and ``end`` marker lines of ``path``, replacing what
    was there and keeping everything else; without the markers, append them with the block
    (to ``new_file``'s text when the file does not exist)."""
    wrapped = f"{begin}\n\n{block.rstrip()}\n\n{end}\n"
    text = path.read_text() if path.exists() else new_file
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        text = head + wrapped + ("\n" + tail if tail else "")
    else:
        text = text.rstrip() + "\n\n" + wrapped
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def render(results: Results) -> str:
    out = [
        f"## End-to-end triage: {results.devices:,} simulated devices, "
        f"{BACKEND_NAMES[results.backend]}"
        + (f", {results.api.workers} benches" if results.api is not None else ""),
        "",
        f"Command (from the repository root): `{results.command}`",
        "",
        "| Machine | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in results.machine.items()),
        f"| Total run time | {_duration(results.total_s)} |",
        "",
        "### Target",
        "",
        "| Target | Measured | Result |",
        "|---|---|---|",
    ]
    for mark in marks(results):
        verdict = "not judged" if mark.met is None else "**met**" if mark.met else "**not met**"
        out.append(f"| {mark.target} | {mark.measured} | {verdict} |")
    api = results.api
    out += ["", "### Correctness (checked after the runs, not timed)", "", *_checks_rows(results)]
    if api is not None:
        polls = api.polls / max(1, api.steps.get("whole device", Stats.of([0])).count)
        if api.wait > 0:
            agent_options = f"`--wait {api.wait:g}`"
            how_polled = f"waiting reads, each held up to {api.wait:g} s"
        else:
            agent_options = f"`--wait 0 --interval {api.agent_interval:g}`"
            how_polled = f"every {api.poll_interval:g} s"
        out += [
            "",
            f"### HTTP API: `triage serve` ({results.backend}), {api.agents} `triage agent run`, "
            f"{api.workers} bench workers",
            "",
            "| | |",
            "|---|---|",
            f"| Devices | {api.devices:,} |",
            f"| Wall time, import start to last release | {_duration(api.wall_s)} |",
            f"| Devices/s, overall | {api.devices / api.wall_s:,.1f} |",
            f"| Devices/s, after the import | {api.devices / max(api.lifecycle_s, 1e-9):,.1f} |",
            f"| Import of the whole manifest (one request) | {_duration(api.import_s)} |",
            f"| Bench workers (threads, one bench operator each) | {api.workers} |",
            f"| Agents (one tool each, {agent_options}) | {api.agents} |",
            f"| Job and security-log polls per device ({how_polled}) | {polls:.1f} |",
            f"| Failed devices | {len(api.failures)} |",
            *_cpu_rows(api),
            f"| Setup, not counted (`triage init`, operators, tools, server start) | "
            f"{api.setup_s:.1f} s |",
        ]
        if api.stopped_early:
            out.append(f"| Stopped early | {api.stopped_early} |")
        out += ["", "Per-step latency, ms, as the bench worker sees it:", ""]
        out += _steps_table(api.steps)
        if api.requests:
            total = sum(api.requests.values())
            out += [
                "",
                f"Requests the server answered (its access log): {total:,} in all, "
                f"{total / api.devices:.1f} per device.",
                "",
                "| Request | Count | Per device |",
                "|---|---:|---:|",
                *(f"| `{k}` | {v:,} | {v / api.devices:.2f} |" for k, v in api.requests.items()),
            ]
        if api.failures:
            out += ["", "First failures:", "", *(f"- {f}" for f in api.failures[:10])]
    if results.service is not None:
        s = results.service
        out += [
            "",
            f"### Service layer: `triage.services` in process ({results.backend}), one thread",
            "",
            "| | |",
            "|---|---|",
            f"| Devices | {s.devices:,} |",
            f"| Import of the manifest (parse + `import_manifest`) | {_duration(s.import_s)} |",
            f"| Lifecycle of every device, scan to release | {_duration(s.lifecycle_s)} |",
            f"| Devices/s, overall (import + lifecycle) | {s.devices / s.total_s:,.1f} |",
            f"| Devices/s, lifecycle only | {s.devices / s.lifecycle_s:,.1f} |",
            f"| Service layer CPU per device: the use-case calls only (the thread's CPU inside "
            f"their steps; what the mark judges) | {s.service_ms_per_device:.2f} ms "
            f"({s.service_cpu_s:.1f} s in all) |",
            f"| Devices/s of the use-case calls alone (their wall time, one after another) | "
            f"{s.service_devices_per_s:,.1f} |",
            f"| Whole process CPU per device: service layer, simulated tool and bench "
            f"bookkeeping, scan to release | {1000 * s.cpu_s / s.devices:.1f} ms "
            f"({s.cpu_s:.1f} s in all, {s.cpu_s / s.lifecycle_s:.0%} of the wall time) |",
            f"| Setup, not counted | {s.setup_s:.1f} s |",
            "",
            "Per-step latency, ms:",
            "",
            *_steps_table(s.steps),
        ]
    if results.fleet:
        out += [
            "",
            "### The simulated device's own cost, by fleet size (why each bench holds only its "
            "devices in hand)",
            "",
            "| Devices in the fleet file | File size | attach | read_state | factory_reset |",
            "|---:|---:|---:|---:|---:|",
            *(
                f"| {f.devices:,} | {f.file_bytes / 1e6:.1f} MB | {_ms(f.attach_ms)} ms | "
                f"{_ms(f.read_ms)} ms | {_ms(f.reset_ms)} ms |"
                for f in results.fleet
            ),
        ]
    out += [
        "",
        "### How it was measured",
        "",
        "- Each run uses a fresh installation (`initialise`, or `triage init`) in a temporary "
        "directory; the devices are a mix of types (ESME 45 %, GSME 30 %, CHF, GPF, PPMID, "
        "TYPE2 and HCALCS 5 % each) in one consignment manifest (CSV), all eligible, no "
        "simulated failures.",
        "- Service layer: one thread calls the use cases in `triage.services` directly. The tool "
        "steps do what the agent does without HTTP: for the read order, verify it, attach the "
        "simulated device, read its GBCS security log and sign the `SecurityLogReading`; for "
        "the work order, verify it, attach the device, read its state, factory-reset it, read "
        "it again and sign the `ToolResult` with the tool key.",
        "- HTTP API: `triage serve` (uvicorn, one process) on a free loopback port; operator "
        "tokens from `triage operator add --token --json`; each agent is `triage agent run` "
        "with its own enrolled tool and its own simulated bench. Each bench worker thread takes "
        "the next device and drives it through scan, a read order for its security log (then "
        "waits on `GET /api/v1/jobs/{id}/security-log` until the agent has uploaded it; a Type 2 "
        "device keeps none), inspection, work order, then waits on "
        "`GET /api/v1/jobs/{id}` until `verified`, then seal and release. Each wait is a "
        "waiting read (`Prefer: wait` with the last `ETag`: the server answers when the answer "
        "changes), as the agents' requests for work orders are; with `--wait 0`, a poll every "
        "interval instead. The reset turnaround runs from the work-order response to the read "
        "that first sees `verified`.",
        "- Latencies are measured in the benchmark process around each call (for the API: the "
        "whole HTTP request, with the bench workers' threads sharing one interpreter). "
        "Percentiles are nearest-rank; the last column compares the median of the first and "
        "last tenth of the devices, so that work growing with the data shows.",
        "- The simulated fleet rewrites its whole JSON file (with fsync) on every reset and "
        "re-reads it on every read, so a device is put on its tool's bench (added to that "
        "tool's fleet file) just before the work order and taken off once verified; that "
        "bookkeeping is not timed. The table above shows what one shared fleet of every device "
        "would cost per operation.",
        f"- Other benchmark processes running at the start: {results.others}.",
    ]
    return "\n".join(out) + "\n"


# --- main ------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.triage_bench",
        description="End-to-end triage of simulated devices: service layer and HTTP API.",
    )
    p.add_argument("--devices", type=int, default=TARGET_DEVICES)
    p.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--quick", action="store_true", help=f"{QUICK_DEVICES} devices, a smoke check")
    p.add_argument(
        "--workers", type=int, default=4, help="bench worker threads: bench operators (API run)"
    )
    p.add_argument(
        "--agents",
        type=int,
        default=2,
        help="`triage agent run` processes, one tool each; worker w works at the bench of tool "
        "w %% agents (make bench-triage gives every bench its own: --agents = --workers)",
    )
    p.add_argument(
        "--server-workers",
        type=int,
        help="worker processes of `triage serve` (its --workers; default: its own default)",
    )
    p.add_argument(
        "--wait",
        type=float,
        default=20.0,
        help="waiting reads: the longest the server holds a bench worker's read of a job or its "
        "security log, and an agent's of its work orders, until the answer changes, s "
        "(0: poll every --poll-interval and --agent-interval instead)",
    )
    p.add_argument(
        "--agent-interval",
        type=float,
        default=0.05,
        help="agent poll interval with --wait 0 (else its pause after a failure), s",
    )
    p.add_argument(
        "--poll-interval",
        type=float,
        default=0.05,
        help="job and security-log poll interval with --wait 0 (else the pause between reads "
        "the server did not hold), s",
    )
    p.add_argument("--timeout", type=float, default=1800, help="bound on the API run, s")
    p.add_argument("--skip-service", action="store_true", help="only the API run")
    p.add_argument("--skip-api", action="store_true", help="only the service-layer run")
    p.add_argument("--profile", type=Path, help="cProfile the service-layer lifecycle into FILE")
    p.add_argument("--write", type=Path, help="also write the Markdown results to FILE")
    args = p.parse_args(argv)
    if args.quick:
        args.devices = min(args.devices, QUICK_DEVICES)
        args.timeout = min(args.timeout, 120)
    if args.devices < 1 or args.workers < 1 or args.agents < 1:
        p.error("--devices, --workers and --agents must be at least 1")
    return args


@contextlib.contextmanager
def databases(backend: str, info: dict[str, str]) -> Iterator[tuple[str | None, str | None]]:
    """Database URLs for the service run and the API run (None: SQLite in the data dir)."""
    if backend == "sqlite":
        yield None, None
        return
    from tests.pgserver import running_cluster

    with running_cluster() as cluster:
        service_url = cluster.create_database("triage_service")
        api_url = cluster.create_database("triage_api")
        engine = sqlalchemy.create_engine(service_url)
        with engine.connect() as conn:
            info["PostgreSQL"] = str(conn.exec_driver_sql("SHOW server_version").scalar())
        engine.dispose()
        yield service_url, api_url


def run(args: argparse.Namespace, command: str) -> Results:
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="triage-bench-"))
    try:
        info = machine(workdir)
        results = Results(command, info, args.devices, args.backend, others=_other_benchmarks())
        devices = make_devices(args.devices)
        catalogue = device_catalogue(devices, workdir)
        sizes = sorted({s for s in (100, 1_000, 10_000) if s <= max(args.devices, 1_000)})
        log(f"simulated fleet cost at {', '.join(f'{s:,}' for s in sizes)} devices")
        results.fleet = fleet_costs(sizes, workdir)
        with databases(args.backend, info) as (service_url, api_url):
            if not args.skip_service:
                results.service = run_service(
                    devices, catalogue, workdir, service_url, args.profile
                )
                log(f"service layer: {args.devices:,} devices in {results.service.total_s:.1f} s")
            if not args.skip_api:
                results.api = run_api(devices, catalogue, workdir, api_url, args)
                log(f"API: {args.devices:,} devices in {results.api.wall_s:.1f} s")
        info["Load average at end (1/5/15 min)"] = _loadavg()
        results.total_s = time.perf_counter() - started
        return results
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(raw)
    if args.write:  # before anything is measured
        require_committed(args.write)
    command = shlex.join([".venv/bin/python", "-m", "bench.triage_bench", *raw])
    results = run(args, command)
    if results.service and results.service.profile_top:
        print(results.service.profile_top, file=sys.stderr)
    text = render(results)
    print(text)
    if args.write:
        key = section_key(args.backend, args.workers)
        write_doc(args.write, key, text)
        log(f"results written to {args.write} (the {key} section)")
    runs = [r for r in (results.service, results.api) if r is not None]
    ok = all(
        r.released == r.devices and all(c.exit_code == 0 for c in r.checks.values()) for r in runs
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
