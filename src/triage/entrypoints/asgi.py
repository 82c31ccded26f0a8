"""The HTTP application of one facility: the API's routers, the pages, the static files and the
middleware in front of them all, and the scheduled jobs for as long as it serves."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from triage import __version__
from triage.bootstrap import App
from triage.entrypoints import scheduler
from triage.entrypoints.api import problems
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
from triage.entrypoints.api.seal_routes import build_seal_router
from triage.entrypoints.api.security_log_routes import build_security_log_router
from triage.entrypoints.api.security_routes import build_security_router
from triage.entrypoints.api.tlog_routes import build_tlog_router
from triage.entrypoints.api.triage_routes import build_router
from triage.entrypoints.web.pages import STATIC, build_web_router


def create_app(
    application: App,
    checkpoint_interval: int = 0,
    warm_cache: bool = False,
    evidence_interval: int = 0,
    sweep_interval: int = 0,
) -> FastAPI:
    """Build the HTTP application for one facility; a positive interval starts periodic
    checkpoints (and, for ``evidence_interval``, automatic assurance evidence; for
    ``sweep_interval``, the closing of work orders that expired without a result), and
    ``warm_cache`` reads the ledger's tiles into memory in the background at start."""
    schedule = scheduler.Schedule(
        checkpoint_interval=checkpoint_interval,
        evidence_interval=evidence_interval,
        sweep_interval=sweep_interval,
        warm_cache=warm_cache,
    )
    hold = WriteHold(application)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with scheduler.running(application, schedule, after_checkpoint=hold.refresh):
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
    )
    problems.install(api)
    routers = (
        build_ledger_router(application),
        build_tlog_router(application),
        build_integrity_router(application, hold),
        build_router(application),
        build_security_log_router(application),
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
    for router in routers:
        api.include_router(router)
    api.mount("/static", StaticFiles(directory=STATIC), name="static")

    @api.get("/api/v1/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return reference_page(api.openapi(), "/api/v1/openapi.json")

    return api
