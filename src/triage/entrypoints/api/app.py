"""The FastAPI application: health, ledger status, checkpoints and proofs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from triage import __version__
from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.entrypoints.api import problems
from triage.entrypoints.api.assurance_routes import build_assurance_router
from triage.entrypoints.api.auth_routes import build_auth_router
from triage.entrypoints.api.bench_routes import build_bench_router
from triage.entrypoints.api.fields import Limit, Offset
from triage.entrypoints.api.hardening import ClientAddress, Hardening
from triage.entrypoints.api.integrity import HoldWrites, WriteHold, build_integrity_router
from triage.entrypoints.api.json_bodies import BoundedJson
from triage.entrypoints.api.reference import reference_page
from triage.entrypoints.api.seal_routes import build_seal_router
from triage.entrypoints.api.security import access, operator_dependency, requires
from triage.entrypoints.api.security_routes import build_security_router
from triage.entrypoints.api.triage_routes import build_router
from triage.entrypoints.encoding import consistency_json, inclusion_json, status_json
from triage.errors import IntegrityFailure, InvalidInput
from triage.services import assurance, bench
from triage.services import ledger as ledger_service

EXPORT_MEDIA_TYPE = "application/jsonl"

log = logging.getLogger(__name__)


class Health(BaseModel):
    status: str = Field(description="'ok' when the database answers.")
    version: str
    facility: str


class LedgerInfo(BaseModel):
    origin: str = Field(description="The log's origin: first line of every checkpoint.")
    size: int
    root: str = Field(description="Root hash, standard base64.")
    checkpoint: str | None = Field(description="Latest signed checkpoint (a C2SP signed note).")
    checkpoint_size: int | None


class InclusionProofOut(BaseModel):
    index: int
    size: int
    leaf_hash: str
    root: str
    proof: list[str] = Field(description="Sibling hashes from the leaf up, standard base64.")


class ConsistencyProofOut(BaseModel):
    size1: int
    size2: int
    root1: str
    root2: str
    proof: list[str]


class CheckpointOut(BaseModel):
    size: int
    checkpoint: str


class CheckpointPage(BaseModel):
    items: list[CheckpointOut]
    total: int
    offset: int
    limit: int


def _warm(application: App) -> None:
    # Proofs work without it (a tile missing from memory is read on demand), so a failure
    # here is only logged.
    try:
        started = time.perf_counter()
        tiles = ledger_service.warm_tile_cache(application.uow)
        log.info("tile cache: %d tiles read in %.1f s", tiles, time.perf_counter() - started)
    except Exception:  # any failure leaves proofs reading tiles on demand
        log.exception("tile cache: warming failed; proofs will read tiles on demand")


def create_app(
    application: App,
    checkpoint_interval: int = 0,
    warm_cache: bool = False,
    evidence_interval: int = 0,
    sweep_interval: int = 0,
) -> FastAPI:
    """Build the API for one facility; a positive interval starts periodic checkpoints (and,
    for ``evidence_interval``, automatic assurance evidence; for ``sweep_interval``, the
    closing of work orders that expired without a result), and ``warm_cache`` reads the
    ledger's tiles into memory in the background at start."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if warm_cache:
            threading.Thread(
                target=_warm, args=(application,), name="tile-cache-warmer", daemon=True
            ).start()
        tasks = []
        if checkpoint_interval > 0:
            tasks.append(
                asyncio.create_task(_checkpoint_loop(application, checkpoint_interval, hold))
            )
        if evidence_interval > 0:
            tasks.append(asyncio.create_task(_evidence_loop(application, evidence_interval)))
        if sweep_interval > 0:
            tasks.append(asyncio.create_task(_sweep_loop(application, sweep_interval)))
        yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

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
    hold = WriteHold(application)
    api.add_middleware(HoldWrites, hold=hold)
    api.add_middleware(BoundedJson)
    api.add_middleware(Hardening)
    # Outermost: everything inside sees the client's real address (and scheme).
    api.add_middleware(ClientAddress, trusted=application.settings.trusted_proxies)
    router = APIRouter(prefix="/api/v1")
    uow = application.uow

    reader = requires(application, Permission.LEDGER_READ)

    @router.get("/health", tags=["system"], **access("public"))
    def health() -> Health:
        """Liveness and database reachability (the one endpoint that needs no credentials)."""
        ledger_service.status(uow)
        return Health(status="ok", version=__version__, facility=application.facility.id)

    @router.get("/ledger", tags=["ledger"], **reader)
    def ledger() -> LedgerInfo:
        """Size, root and latest signed checkpoint of the facility's ledger."""
        return LedgerInfo(**status_json(ledger_service.status(uow), application.origin))

    @router.get("/ledger/checkpoints", tags=["ledger"], **reader)
    def checkpoints(
        offset: Offset = 0,
        limit: Limit = 100,
    ) -> CheckpointPage:
        """Stored signed checkpoints, oldest first."""
        with uow(write=False) as unit:
            stored = unit.ledger.storage.read_checkpoints()
        page = stored[offset : offset + limit]
        return CheckpointPage(
            items=[CheckpointOut(size=c.size, checkpoint=c.note) for c in page],
            total=len(stored),
            offset=offset,
            limit=limit,
        )

    beyond = problems.responses(404)  # a size or index beyond the log

    @router.get("/ledger/proofs/inclusion", tags=["ledger"], responses=beyond, **reader)
    def inclusion(
        index: Annotated[int, Query(ge=0, description="Entry index, 0-based.")],
        size: Annotated[int | None, Query(ge=1, description="Tree size; default current.")] = None,
    ) -> InclusionProofOut:
        """Inclusion proof of one entry in the tree of a given size."""
        if size is not None and index >= size:
            raise InvalidInput(f"index: {index} is not below size {size}")
        return InclusionProofOut(**inclusion_json(ledger_service.prove_inclusion(uow, index, size)))

    @router.get("/ledger/proofs/consistency", tags=["ledger"], responses=beyond, **reader)
    def consistency(
        size1: Annotated[int, Query(alias="from", ge=1, description="Older tree size.")],
        size2: Annotated[int | None, Query(alias="to", ge=1, description="Newer size.")] = None,
    ) -> ConsistencyProofOut:
        """Consistency proof that the older tree is a prefix of the newer one."""
        if size2 is not None and size1 > size2:
            raise InvalidInput(f"from: {size1} is larger than to ({size2})")
        return ConsistencyProofOut(
            **consistency_json(ledger_service.prove_consistency(uow, size1, size2))
        )

    operator = Depends(operator_dependency(application))

    @router.get(
        "/ledger/export",
        tags=["ledger"],
        response_class=FileResponse,
        responses={200: {"content": {EXPORT_MEDIA_TYPE: {}}}, **problems.responses(404)},
        **requires(application, Permission.ASSURANCE_READ),
    )
    def export(caller: Caller = operator) -> FileResponse:
        """The whole ledger up to its latest signed checkpoint, in one file that anyone with the
        verifier key checks offline (`triage verify FILE --key VKEY`): a header line with the
        checkpoint, then every entry as the exact bytes the ledger hashed, one a line."""
        checkpoint, lines = ledger_service.export(
            uow, caller, application.origin, application.verifier_key()
        )
        # Written out first, so that a failure is a proper error and not a cut-off download;
        # beside the database, where there is room for a file about its size (/tmp may be small).
        with tempfile.NamedTemporaryFile(
            "wb", prefix=".ledger-export-", dir=application.settings.data_dir, delete=False
        ) as file:
            try:
                file.writelines(lines)
            except BaseException:
                os.unlink(file.name)
                raise
        name = f"ledger-{application.facility.id}-{checkpoint.size}.jsonl"
        return FileResponse(
            file.name,
            media_type=EXPORT_MEDIA_TYPE,
            filename=name,
            background=BackgroundTask(os.unlink, file.name),
        )

    api.include_router(router)
    api.include_router(build_integrity_router(application, hold))
    api.include_router(build_router(application))
    api.include_router(build_auth_router(application))
    api.include_router(build_bench_router(application))
    api.include_router(build_security_router(application))
    api.include_router(build_seal_router(application))
    api.include_router(build_assurance_router(application))

    # The pages for people (the home page is the web application's).
    from fastapi.staticfiles import StaticFiles

    from triage.entrypoints.web.pages import HERE, build_web_router

    api.include_router(build_web_router(application))
    api.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @api.get("/api/v1/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return reference_page(api.openapi(), "/api/v1/openapi.json")

    return api


def generate_scheduled_evidence(application: App) -> int:
    """One scheduled round of automatic evidence, by the system; returns how many were made."""
    made = assurance.generate(
        application.uow,
        assurance.ASSURANCE,
        application.evidence_sources(),
        application.evidence_store(),
    )
    return len(made)


async def _evidence_loop(application: App, interval: int) -> None:
    while True:
        await asyncio.sleep(interval)  # the first round after one interval, not at start
        try:
            made = await asyncio.to_thread(generate_scheduled_evidence, application)
            log.info("scheduled evidence: %d documents recorded", made)
        except Exception:  # a failed round must not stop later ones
            log.exception("scheduled evidence failed")


async def _sweep_loop(application: App, interval: int) -> None:
    while True:  # the first sweep at start: orders may have expired while the server was down
        try:
            moved = await asyncio.to_thread(bench.sweep_expired_orders, application.uow)
            if moved:
                log.warning("%d work orders expired without a result: %s", len(moved), moved)
        except Exception:  # a failed round must not stop later ones
            log.exception("work order sweep failed")
        await asyncio.sleep(interval)


def periodic_checkpoint(application: App, hold: WriteHold | None = None) -> None:
    """One round of the periodic checkpoint: the ledger is vouched for, then signed if it grew.

    A ledger that is not the history last signed is refused (IntegrityFailure): the refusal is
    recorded with an alert, and ``hold`` learns at once that writes are held.
    """
    try:
        ledger_service.issue_checkpoint_if_grown(
            application.uow, application.origin, application.signer_key()
        )
    except IntegrityFailure as exc:
        log.error("periodic checkpoint refused: %s", exc)
        raise
    finally:
        if hold is not None:
            hold.refresh()


async def _checkpoint_loop(application: App, interval: int, hold: WriteHold) -> None:
    while True:
        try:
            await asyncio.to_thread(periodic_checkpoint, application, hold)
        except IntegrityFailure:
            pass  # logged, recorded and alerted; the next round checks again
        except Exception:  # a failed round must not stop later ones
            log.exception("periodic checkpoint failed")
        await asyncio.sleep(interval)
