"""The write hold: after the facility refused to sign its ledger, writes wait for an administrator.

A refused checkpoint (the ledger is not the history last signed) is recorded with a security
alert (``services.ledger.record_refusal``). Until an administrator acknowledges it with a
reason, every write request (POST, PUT, PATCH, DELETE: the API's and the web forms') is
answered 503 with the reason; signing in and out, and the acknowledgement itself, still work,
and so does every read. The hold lives in the ledger, so the server learns of a refusal
recorded by another process (the CLI's) and of an acknowledgement made there too; this process
re-reads it at most every ``REFRESH_SECONDS``, and at once after its own checks.
"""

from __future__ import annotations

import logging
import threading
import time

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.entrypoints.api import problems
from triage.entrypoints.api.routing import ThreadedRoute
from triage.entrypoints.api.security import operator_dependency, requires
from triage.entrypoints.statuses import status_of
from triage.errors import WritesHeld
from triage.services import ledger as ledger_service

log = logging.getLogger(__name__)

REFRESH_SECONDS = 5.0
ACKNOWLEDGE_PATH = "/api/v1/ledger/integrity/acknowledge"
# Writes that go on while writes are held: signing in and out, and the acknowledgement.
EXEMPT = frozenset(
    {"/api/v1/auth/login", "/api/v1/auth/logout", "/login", "/logout", ACKNOWLEDGE_PATH}
)
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class WriteHold:
    """Why writes are held (None: they are not), as last read from the ledger."""

    def __init__(self, application: App) -> None:
        self._application = application
        self._lock = threading.Lock()
        self._reason: str | None = None
        self._read_at: float | None = None

    def refresh(self) -> str | None:
        """Read the hold from the ledger now."""
        reason = ledger_service.writes_held(self._application.uow)
        with self._lock:
            self._reason = reason
            self._read_at = time.monotonic()
        return reason

    def remembered(self) -> tuple[bool, str | None]:
        """(fresh, reason): the last reading, and whether it is recent enough to stand;
        no database read (safe on the event loop)."""
        with self._lock:
            fresh = self._read_at is not None and time.monotonic() - self._read_at < REFRESH_SECONDS
            return fresh, self._reason

    def current(self) -> str | None:
        """The hold, re-read when the last reading is older than ``REFRESH_SECONDS``."""
        fresh, reason = self.remembered()
        if fresh:
            return reason
        try:
            return self.refresh()
        except Exception:  # the database is unreachable: the request itself will say so
            log.warning("write hold: could not read it from the ledger", exc_info=True)
            return reason


class HoldWrites:
    """ASGI middleware answering write requests 503 while the hold is on."""

    def __init__(self, app: ASGIApp, hold: WriteHold) -> None:
        self.app = app
        self.hold = hold

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in _WRITES
            and scope["path"] not in EXEMPT
            and (reason := await self._reason()) is not None
        ):
            status, title = status_of(WritesHeld), WritesHeld.title
            response = (
                problems.error_page(status, title, reason)
                if problems.for_a_page(scope["path"])
                else problems.problem(status, title, reason)
            )
            response.headers["Retry-After"] = str(problems.RETRY_AFTER_SECONDS)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _reason(self) -> str | None:
        # A recent reading answers at once; only a stale one costs a trip to the thread pool
        # (a database read), at most once every REFRESH_SECONDS.
        fresh, reason = self.hold.remembered()
        return reason if fresh else await run_in_threadpool(self.hold.current)


class IntegrityOut(BaseModel):
    writes_held: bool = Field(description="True while write requests are answered 503.")
    refusal: dict[str, object] | None = Field(
        description="The latest refusal to sign the ledger: alert id, first bad index, reason, "
        "when, and whether an administrator acknowledged it."
    )


class AcknowledgeIn(BaseModel):
    reason: str = Field(
        min_length=1,
        max_length=2000,
        description="What was found and what is being done (at least 10 characters).",
    )


def build_integrity_router(application: App, hold: WriteHold) -> APIRouter:
    """GET the write hold; POST an administrator's acknowledgement of a refused checkpoint."""
    router = APIRouter(prefix="/api/v1", tags=["ledger"], route_class=ThreadedRoute)
    uow = application.uow
    operator = Depends(operator_dependency(application))

    @router.get("/ledger/integrity", **requires(application, Permission.LEDGER_READ))
    def integrity(caller: Caller = operator) -> IntegrityOut:
        """Whether writes are held after the facility refused to sign its ledger, and why."""
        found = ledger_service.latest_refusal(uow, caller)
        return IntegrityOut(
            writes_held=found is not None and not found.acknowledged,
            refusal=None if found is None else dict(found.to_json()),
        )

    @router.post(
        "/ledger/integrity/acknowledge",
        responses=problems.responses(409),
        **requires(application, Permission.FACILITY_MANAGE),
    )
    def acknowledge(body: AcknowledgeIn, caller: Caller = operator) -> IntegrityOut:
        """An administrator acknowledges the refusal holding writes, with a reason (recorded;
        the alert is resolved with it): writes resume. Checkpoints stay refused while the
        ledger still fails the check."""
        found = ledger_service.acknowledge_refusal(uow, caller, body.reason)
        hold.refresh()
        return IntegrityOut(writes_held=False, refusal=dict(found.to_json()))

    return router
