"""The HTTP application of one facility: the API's routers, the pages, the static files and the
middleware in front of them all, and the scheduled jobs for as long as it serves; and the same
application built by each worker process of a server of several (``worker_app``)."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.telemetry import TelemetryConfig

from triage import __version__, bootstrap
from triage.bootstrap import App
from triage.config import Settings
from triage.entrypoints import scheduler
from triage.entrypoints.api import problems, security
from triage.entrypoints.api.asset_owner_routes import build_asset_owner_router
from triage.entrypoints.api.assurance_routes import build_assurance_router
from triage.entrypoints.api.auth_routes import build_auth_router
from triage.entrypoints.api.bench_routes import build_bench_router
from triage.entrypoints.api.custody_routes import build_custody_router
from triage.entrypoints.api.dispatch_routes import build_dispatch_router
from triage.entrypoints.api.disposal_routes import build_disposal_router
from triage.entrypoints.api.duis_routes import build_duis_router
from triage.entrypoints.api.hardening import ClientAddress, Hardening
from triage.entrypoints.api.hub_return_routes import build_hub_return_router
from triage.entrypoints.api.incident_report_routes import build_incident_report_router
from triage.entrypoints.api.incident_routes import build_incident_router
from triage.entrypoints.api.integrity import HoldWrites, WriteHold, build_integrity_router
from triage.entrypoints.api.inventory_routes import build_inventory_router
from triage.entrypoints.api.json_bodies import BoundedJson
from triage.entrypoints.api.ledger_routes import build_ledger_router
from triage.entrypoints.api.people_routes import build_people_router
from triage.entrypoints.api.reference import reference_page
from triage.entrypoints.api.retention_routes import build_retention_router
from triage.entrypoints.api.routing import Quick
from triage.entrypoints.api.seal_routes import build_seal_router
from triage.entrypoints.api.security_log_routes import build_security_log_router
from triage.entrypoints.api.security_routes import build_security_router
from triage.entrypoints.api.tlog_routes import build_tlog_router
from triage.entrypoints.api.triage_routes import build_router
from triage.entrypoints.web.pages import STATIC, build_web_router
from triage.services import throttle

# How `triage serve --workers N` tells each of its worker processes what it was asked (JSON):
# a worker is a new process, which builds its own application from its environment.
WORKER_OPTIONS = "TRIAGE_SERVE_WORKER"
# In the data directory: held by the one process of a server that does the periodic work.
PERIODIC_LOCK_FILE = "serve-periodic.lock"

_Handler = Callable[[int, FrameType | None], Any]


def create_app(
    application: App,
    checkpoint_interval: int = 0,
    warm_cache: bool = False,
    evidence_interval: int = 0,
    sweep_interval: int = 0,
    periodic_lock: Path | None = None,
) -> FastAPI:
    """Build the HTTP application for one facility; a positive interval starts periodic
    checkpoints (and, for ``evidence_interval``, automatic assurance evidence; for
    ``sweep_interval``, the closing of work orders that expired without a result), and
    ``warm_cache`` reads the ledger's tiles into memory in the background at start. With a
    ``periodic_lock`` file (one process of several), the periodic work runs only in the process
    holding it (``scheduler.PeriodicLock``)."""
    schedule = scheduler.Schedule(
        checkpoint_interval=checkpoint_interval,
        evidence_interval=evidence_interval,
        sweep_interval=sweep_interval,
        warm_cache=warm_cache,
    )
    hold = WriteHold(application)
    lock = None if periodic_lock is None else scheduler.PeriodicLock(periodic_lock)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        with releasing_waiters_on_exit(application):
            async with (
                scheduler.running(application, schedule, after_checkpoint=hold.refresh, lock=lock),
                watching_other_processes(application),
            ):
                yield

    api = FastAPI(
        title="device-triage",
        version=__version__,
        description="API of a smart-meter Triage Facility. Errors are RFC 9457 problem details.",
        openapi_url="/api/v1/openapi.json",
        # The reference page below replaces Swagger UI, which loads its code from a CDN.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        telemetry=telemetry(os.environ),
    )
    problems.install(api)
    routers = (
        # The routes a device's path and its polls take first: a request is matched against
        # the routes in this order, and these two routers share no path with the next three.
        build_router(application),
        build_security_log_router(application),
        build_ledger_router(application),
        build_tlog_router(application),
        build_integrity_router(application, hold),
        build_auth_router(application),
        build_bench_router(application),
        build_people_router(application),
        build_security_router(application),
        build_seal_router(application),
        build_assurance_router(application),
        build_asset_owner_router(application),
        build_dispatch_router(application),
        build_disposal_router(application),
        build_custody_router(application),
        build_retention_router(application),
        build_inventory_router(application),
        build_duis_router(application),
        build_hub_return_router(application),
        build_incident_router(application),
        build_incident_report_router(application),
        # The pages for people (the home page is the web application's).
        build_web_router(application),
    )
    api.add_middleware(HoldWrites, hold=hold)
    api.add_middleware(BoundedJson)
    # Each route's body limit, from the routes themselves.
    api.add_middleware(Hardening, routes=[route for r in routers for route in r.routes])
    # Outermost: everything inside sees the client's real address (and scheme).
    api.add_middleware(ClientAddress, trusted=application.settings.trusted_proxies)
    # The routes themselves, in this order, not the routers: FastAPI keeps an included router
    # as a router of its own, and matched a request against every router's routes before its
    # own, then against its own router's a second time (tests/integration/test_routing.py).
    # Each route was built whole by its router (prefix, tags, dependencies, route class).
    api.router.routes.extend(route for router in routers for route in router.routes)
    # Which operations need an operator's token or session, as the document says.
    problems.amend_openapi(api, lambda spec: security.document(spec, api.router.routes))
    api.mount("/static", StaticFiles(directory=STATIC), name="static")

    @api.get("/api/v1/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return reference_page(api.openapi(), "/api/v1/openapi.json")

    return api


@contextlib.asynccontextmanager
async def watching_other_processes(application: App) -> AsyncIterator[None]:
    """While the server serves, the changes other processes record (another worker, the CLI)
    wake this process's waiting reads within milliseconds (``ChangeWatcher``)."""
    watcher = application.change_watcher(Quick.of(application.database).read)
    task = asyncio.get_running_loop().create_task(watcher.watch())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# FastAPI's own OpenTelemetry hooks: configured by environment variables of these prefixes
# (OpenTelemetry's, which `opentelemetry-instrument` sets from its options too, and FastAPI's).
_TELEMETRY_PREFIXES = ("OTEL_", "FASTAPI_OTEL_")
# Each signal FastAPI can send; none when OpenTelemetry is not configured.
_NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def telemetry(environment: Mapping[str, str]) -> TelemetryConfig | None:
    """FastAPI's telemetry settings: its defaults (spans, metrics and logs sent to the
    providers OpenTelemetry is configured with) when the process's environment configures
    OpenTelemetry or a tracer provider is already set, and none otherwise.

    Without a configured provider FastAPI sends nothing, but it still asks OpenTelemetry's
    global providers on every request whether one has been configured since (about 1 % of the
    server's CPU on the device path; docs/performance.md, issue 22). Nothing in this
    application configures a provider after it starts.
    """
    if any(name.startswith(_TELEMETRY_PREFIXES) for name in environment):
        return None
    from opentelemetry import trace  # FastAPI's own dependency, imported by FastAPI already

    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return None  # configured in code before the application was built
    return _NO_TELEMETRY


@contextlib.contextmanager
def releasing_waiters_on_exit(application: App) -> Iterator[None]:
    """While the server serves, SIGTERM and SIGINT also answer every request held waiting
    (``Prefer: wait``) at once. uvicorn lets the requests in flight finish before it stops, so
    a held request would otherwise hold up the stop for as long as it waits. Its own handlers,
    installed before the application starts (in each worker process of several too), are
    called as before, and put back when it stops; run elsewhere than in the main thread (a
    test's client), nothing is installed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    release = application.changes.close
    installed: dict[signal.Signals, tuple[_Handler, _Handler]] = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)
        if not callable(previous):  # the default or ignored: no server handler to chain
            continue

        def on_exit(sig: int, frame: FrameType | None, previous: _Handler = previous) -> None:
            # A signal handler must not take the hub's lock (the main thread may hold it):
            # the loop closes the hub, between two of its callbacks.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(release)
            previous(sig, frame)

        signal.signal(signum, on_exit)
        installed[signum] = (on_exit, previous)
    try:
        yield
    finally:
        for signum, (mine, previous) in installed.items():
            if signal.getsignal(signum) is mine:
                signal.signal(signum, previous)


def worker_options(
    workers: int, checkpoint_interval: int, evidence_interval: int, sweep_interval: int
) -> str:
    """What ``worker_app`` reads from ``WORKER_OPTIONS``, as `triage serve` writes it there."""
    return json.dumps(
        {
            "workers": workers,
            "checkpoint_interval": checkpoint_interval,
            "evidence_interval": evidence_interval,
            "sweep_interval": sweep_interval,
        }
    )


def worker_app() -> FastAPI:
    """The application of one worker process of `triage serve --workers N` (uvicorn calls it
    in each process it starts): the facility opened from the environment `serve` prepared
    (``TRIAGE_*`` settings, ``WORKER_OPTIONS``), the periodic work left to whichever process
    holds the data directory's ``PERIODIC_LOCK_FILE``, and each in-memory rate limit allowing
    this process its share (``throttle.share_among``), so that together the processes allow no
    more than one process did."""
    options = json.loads(os.environ[WORKER_OPTIONS])
    _end_with_parent()
    throttle.share_among(int(options["workers"]))
    application = bootstrap.bootstrap(Settings.from_env())
    return create_app(
        application,
        checkpoint_interval=int(options["checkpoint_interval"]),
        warm_cache=True,
        evidence_interval=int(options["evidence_interval"]),
        sweep_interval=int(options["sweep_interval"]),
        periodic_lock=application.settings.data_dir / PERIODIC_LOCK_FILE,
    )


def _end_with_parent() -> None:
    """Ask Linux to end this process when the `triage serve` that started it ends, however it
    ends (a worker left behind would keep answering on the port and writing to the database).
    Elsewhere nothing is done: uvicorn still stops its workers when it stops normally."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
