"""The auditor's pages: the ledger's status, the witnesses that cosign its checkpoints (their
last outcomes, the quorum of the latest checkpoint), a full verification and replay check
started from the page (run in the background, its progress followed by the page), and a
receipt checked by upload, offline against the facility's verifier key (nothing the facility's
database says is trusted for it)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from fastapi import APIRouter
from fastapi.responses import Response

from triage.domain.assurance_records import Evidence
from triage.domain.roles import Permission
from triage.errors import NotFound, TriageError
from triage.ledger.errors import VerificationError
from triage.ledger.receipt import verify_receipt
from triage.services import automatic_evidence, security_log, witnessing
from triage.services.proof_encoding import inclusion_json
from triage.services.views import assurance, devices

if TYPE_CHECKING:
    from collections.abc import Callable

    from triage.entrypoints.web.pages import Form, Site, Visit

log = logging.getLogger(__name__)
# How often the page looks again while a verification runs (seconds).
REFRESH = 2


@dataclass
class Run:
    """One verification started from the page: who started it, how far it is, and how it
    ended (the evidence recorded, or why it could not be done)."""

    started_by: str
    started_at: datetime
    step: str = "verify"
    checked: int = 0
    total: int = 0
    finished: bool = False
    made: list[Evidence] = field(default_factory=list)
    error: str | None = None

    def told(self, step: str, done: int, total: int) -> None:
        self.step = step
        if step == "verify":
            self.checked, self.total = done, total


class Verifications:
    """The one verification a facility runs at a time, in a thread of the server process; a
    second start while one runs gives the running one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current: Run | None = None

    def start(self, started_by: str, work: Callable[[Run], list[Evidence]]) -> tuple[Run, bool]:
        """The verification started now (and True), or the one running (and False)."""
        with self._lock:
            if self.current is not None and not self.current.finished:
                return self.current, False
            run = Run(started_by, datetime.now(UTC))
            self.current = run
        threading.Thread(target=self._run, args=(run, work), name="verify-now", daemon=True).start()
        return run, True

    @staticmethod
    def _run(run: Run, work: Callable[[Run], list[Evidence]]) -> None:
        try:
            run.made = work(run)
        except TriageError as exc:
            run.error = str(exc)
        except Exception as exc:  # the page must say it stopped, whatever stopped it
            log.exception("verify now: the verification stopped")
            run.error = f"the verification stopped: {type(exc).__name__}: {exc}"
        finally:
            run.finished = True


def register(router: APIRouter, site: Site) -> None:
    application = site.application
    uow = application.uow
    page = site.page

    verifications = Verifications()

    def status(visit: Visit) -> assurance.LedgerOverview:
        return assurance.ledger_overview(uow, visit.caller, application.verifier_key())

    def shown(visit: Visit, status_code: int = 200, **context: object) -> Response:
        run = verifications.current
        return site.render(
            "auditor.html",
            visit,
            status_code,
            ledger=status(visit),
            witnesses=witnessing.status(uow, visit.caller),
            run=run,
            refresh=REFRESH if run is not None and not run.finished else None,
            **{"verified": None, "problem": None, **context},
        )

    @router.get("/auditor")
    @page(Permission.ASSURANCE_READ)
    def overview(visit: Visit, form: dict[str, str]) -> Response:
        return shown(visit)

    @router.post("/auditor/verify")
    @page(Permission.ASSURANCE_READ, back=overview)
    def verify_now(visit: Visit, form: dict[str, str]) -> Response:
        """Start the full verification and replay check (or show the one running)."""
        caller = visit.caller

        def work(run: Run) -> list[Evidence]:
            return automatic_evidence.verify_now(
                uow,
                caller,
                application.issuer(),
                application.replay_check,
                application.evidence_store(),
                run.told,
            )

        run, started = verifications.start(caller.id, work)
        done = (
            "Verification started: this page follows it"
            if started
            else f"A verification started by {run.started_by} is running: it is shown below"
        )
        return site.redirect("/auditor", done=done)

    @router.get("/auditor/assessments")
    @page(Permission.ASSURANCE_READ)
    def assessments_page(visit: Visit, form: dict[str, str]) -> Response:
        shown = assurance.assessments_overview(uow, visit.caller, application.evidence_store())
        return site.render(
            "auditor_assessments.html",
            visit,
            assessments=shown.assessments,
            readiness=shown.readiness,
            summary=shown.summary,
        )

    @router.get("/auditor/device")
    @page(Permission.HISTORY_READ)
    def device_page(visit: Visit, form: dict[str, str]) -> Response:
        return site.render("auditor_device.html", visit, story=None, proofs={})

    @router.post("/auditor/device")
    @page(Permission.HISTORY_READ)
    def device_story(visit: Visit, form: dict[str, str]) -> Response:
        shown = devices.proven_history(uow, visit.caller, form.get("device_id", ""))
        proofs = {index: inclusion_json(proof) for index, proof in shown.proofs.items()}
        return site.render("auditor_device.html", visit, story=shown.story, proofs=proofs)

    @router.get("/jobs/{job_id}/security-log/{sha256}/raw")
    # The raw bytes a decision's digest names, for whoever may read a device's history.
    @page(Permission.HISTORY_READ)
    def raw_security_log(visit: Visit, form: Form, job_id: str, sha256: str) -> Response:
        try:
            content = security_log.raw(
                uow, visit.caller, application.evidence_store(), job_id, sha256
            )
        except NotFound:
            return site.render("error.html", visit, 404, title="No such log", message=sha256)
        return Response(
            content,
            media_type="application/octet-stream",
            headers={
                "Content-Disposition": f'attachment; filename="security-log-{sha256}.gbcs"',
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "private",
            },
        )

    @router.post("/auditor/receipt")
    @page(Permission.ASSURANCE_READ)
    def check_receipt(visit: Visit, form: Form) -> Response:
        uploaded = form.files.get("receipt_file", b"")
        text = uploaded.decode("utf-8", errors="replace") or form.get("receipt", "")
        try:
            verified = verify_receipt(text, [application.verifier_key()])
        except VerificationError as exc:
            return shown(visit, 422, problem=str(exc))
        return shown(visit, verified=verified)
