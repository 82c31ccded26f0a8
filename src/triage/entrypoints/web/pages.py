"""Server-rendered pages for the people at the facility, on top of the same services as the API.

Signing in opens the same web session as the API's login (cookie ``triage_session``); every
form that changes something carries the session's CSRF token, checked before anything else.
Every page names the permission it needs and refuses (403, with what the page is for) anyone
without it: a page is never merely hidden from the menu. Nothing is loaded from elsewhere:
the stylesheet is served from this package.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.lifecycle import JobState, allowed_actions
from triage.domain.roles import Permission, roles_with
from triage.domain.tamper_policy import Cover, SecuritySealState
from triage.entrypoints.api.security import SESSION_COOKIE
from triage.errors import InvalidInput, TooManyAttempts, TriageError, Unauthenticated
from triage.ledger.entry import format_time
from triage.services import anomaly, assessment, auth, bench, history, intake, people, seals
from triage.services.auth import SessionCaller
from triage.services.common import now

HERE = Path(__file__).parent
MAX_FORM_BYTES = 1024 * 1024  # a receipt of a long-lived device can be a few hundred KiB
_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

# The pages, the permission each needs, and its place in the menu.
MENU = (
    ("/bench", "Bench", Permission.DEVICE_SCAN),
    ("/supervisor", "Reviews", Permission.DECISION_OVERRIDE),
    ("/stores", "Seals", Permission.SEAL_STOCK),
    ("/security/tools", "Tools and alerts", Permission.ALERT_READ),
    ("/security/people", "People", Permission.ALERT_READ),
    ("/admin", "Facility", Permission.FACILITY_MANAGE),
    ("/auditor", "Ledger and receipts", Permission.ASSURANCE_READ),
)


@dataclass(frozen=True)
class Visit:
    """The signed-in person looking at a page."""

    caller: Caller
    csrf_token: str


class _Redirect(Exception):
    def __init__(self, to: str) -> None:
        self.to = to


def _render(name: str, visit: Visit | None, status: int = 200, **context: Any) -> HTMLResponse:
    menu = []
    if visit is not None:
        menu = [(href, label) for href, label, needed in MENU if visit.caller.can(needed)]
    html = _templates.get_template(name).render(visit=visit, menu=menu, **context)
    return HTMLResponse(
        html,
        status_code=status,
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        },
    )


def _problem(visit: Visit | None, exc: TriageError) -> HTMLResponse:
    return _render("error.html", visit, exc.status, title=exc.title, message=str(exc))


class Form(dict[str, str]):
    """A submitted form's fields, and its files (as bytes) apart."""

    def __init__(self, fields: dict[str, str], files: dict[str, bytes] | None = None) -> None:
        super().__init__(fields)
        self.files = files or {}


async def _form(request: Request, limit: int = MAX_FORM_BYTES) -> Form:
    """A form (urlencoded, or multipart with at most one file), refused past ``limit`` bytes."""
    from starlette.datastructures import UploadFile

    from triage.entrypoints.api.triage_routes import limited_body

    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise InvalidInput(f"form: larger than {limit // 1024} KiB")
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        fields: dict[str, str] = {}
        files: dict[str, bytes] = {}
        async with request.form(max_files=1, max_fields=20, max_part_size=limit) as multipart:
            for key, value in multipart.items():
                if isinstance(value, UploadFile):
                    data = await value.read(limit + 1)
                    if len(data) > limit:
                        raise InvalidInput(f"{key}: larger than {limit // 1024} KiB")
                    files[key] = data
                else:
                    fields[key] = value
        return Form(fields, files)
    body = await limited_body(request, limit)
    pairs = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return Form({key: values[-1] for key, values in pairs.items()})


def build_web_router(application: App) -> APIRouter:
    """The pages of one facility."""
    uow = application.uow
    router = APIRouter(include_in_schema=False)

    def visit_of(request: Request) -> Visit:
        secret = request.cookies.get(SESSION_COOKIE)
        if not secret:
            raise _Redirect("/login")
        try:
            found: SessionCaller = auth.authenticate_session(uow, secret)
        except Unauthenticated:
            raise _Redirect("/login?expired=1") from None
        return Visit(found.caller, found.csrf_token)

    def page(
        permission: Permission | None, limit: int = MAX_FORM_BYTES
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """A page needing ``permission``: signed in, else to the login; refused, else shown."""

        def wrap(handler: Callable[..., Any]) -> Callable[..., Any]:
            async def run(request: Request) -> Response:
                params = dict(request.path_params)
                try:
                    visit = visit_of(request)
                except _Redirect as go:
                    return RedirectResponse(go.to, status_code=303)
                if permission is not None and not visit.caller.can(permission):
                    holders = ", ".join(r.value.replace("_", " ") for r in roles_with(permission))
                    mine = ", ".join(sorted(r.value.replace("_", " ") for r in visit.caller.roles))
                    return _render(
                        "error.html",
                        visit,
                        403,
                        title="Not your page",
                        message=f"This page is for: {holders}. You are signed in as "
                        f"{visit.caller.id} ({mine}).",
                    )
                form = Form({})
                if request.method == "POST":
                    try:
                        form = await _form(request, limit)
                    except TriageError as exc:
                        return _problem(visit, exc)
                    sent = form.get("csrf_token", "")
                    if not hmac.compare_digest(sent.encode(), visit.csrf_token.encode()):
                        return _render(
                            "error.html",
                            visit,
                            403,
                            title="Form expired",
                            message="This form is out of date or not from this site: go back, "
                            "reload the page and try again.",
                        )
                try:
                    result: Response = handler(visit, form, **params)
                    return result
                except TriageError as exc:
                    return _problem(visit, exc)

            return run

        return wrap

    # -- signing in -------------------------------------------------------------------------
    @router.get("/login")
    def login_page(request: Request, expired: int = 0) -> HTMLResponse:
        note = "Your session ended; sign in again." if expired else None
        return _render("login.html", None, note=note, bench=request.query_params.get("bench", ""))

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await _form(request)
        source = request.client.host if request.client else "unknown"
        try:
            session = auth.login(
                uow,
                form.get("operator_id", "").strip(),
                form.get("password", ""),
                form.get("second_factor", "").strip(),
                source,
                form.get("bench", "").strip() or None,
                box=application.secret_box(),
            )
        except TooManyAttempts as exc:
            return _render("login.html", None, 429, error=str(exc), bench=form.get("bench", ""))
        except TriageError as exc:
            return _render(
                "login.html", None, exc.status, error=str(exc), bench=form.get("bench", "")
            )
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            session.secret,
            max_age=int(auth.SESSION_ABSOLUTE_TIMEOUT.total_seconds()),
            path="/",
            secure=True,
            httponly=True,
            samesite="strict",
        )
        return response

    @router.post("/logout")
    async def logout_full(request: Request) -> Response:
        try:
            visit = visit_of(request)
        except _Redirect:
            return RedirectResponse("/login", status_code=303)
        form = await _form(request)
        if not hmac.compare_digest(form.get("csrf_token", "").encode(), visit.csrf_token.encode()):
            return _render(
                "error.html", visit, 403, title="Form expired", message="Reload and try again."
            )
        auth.logout(uow, request.cookies.get(SESSION_COOKIE, ""))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True)
        return response

    # -- the dashboard ----------------------------------------------------------------------
    @router.get("/")
    @page(None)
    def home(visit: Visit, form: dict[str, str]) -> Response:
        """The dashboard: what this person may see, as charts where looking beats reading."""
        caller = visit.caller
        context: dict[str, Any] = {
            "counts": {},
            "outcomes": None,
            "benches": None,
            "fitted": None,
            "seal_sums": [],
            "open_alerts": None,
            "next_assessment": None,
        }
        if caller.can(Permission.TRIAGE_READ):
            since = now() - timedelta(days=14)
            with uow(write=False) as unit:
                for state in JobState:
                    _, total = unit.triage.jobs(state, 0, 1)
                    if total:
                        context["counts"][state.value.replace("_", " ")] = total
                context["outcomes"] = [
                    (f"{r['day'][5:]} {r['outcome'].replace('_', ' ')}", r["count"])
                    for r in unit.assurance.outcomes_per_day(since)
                ]
                context["benches"] = [
                    (f"bench {r['bench']}", r["count"])
                    for r in unit.assurance.resets_per_bench(since)
                ]
        if caller.can(Permission.SEAL_READ):
            report = seals.fitted_report(uow, caller, now() - timedelta(days=14), now())
            per_day: dict[str, int] = {}
            for row in report["rows"]:
                per_day[row["day"]] = per_day.get(row["day"], 0) + row["fitted"]
            context["fitted"] = sorted(per_day.items())
            sums = seals.reconciliation(uow, caller, "facility").to_json()["equations"]
            context["seal_sums"] = sums[:2]
        if caller.can(Permission.ALERT_READ):
            _, context["open_alerts"] = anomaly.alerts(uow, caller, "open", 0, 1)
        if caller.can(Permission.ASSURANCE_READ):
            context["next_assessment"] = assessment.schedule(uow, caller)
        return _render("home.html", visit, **context)

    # -- the bench --------------------------------------------------------------------------
    @router.get("/bench")
    @page(Permission.DEVICE_SCAN)
    def bench_page(visit: Visit, form: dict[str, str]) -> Response:
        return _render("bench_scan.html", visit)

    @router.post("/bench/scan")
    @page(Permission.DEVICE_SCAN)
    def bench_scan(visit: Visit, form: dict[str, str]) -> Response:
        scanned = intake.scan_device(uow, visit.caller, form.get("device_id", ""))
        if scanned.job is None:
            return _render("bench_scan.html", visit, 409, error=scanned.message)
        return RedirectResponse(f"/bench/jobs/{scanned.job.id}", status_code=303)

    @router.get("/bench/jobs/{job_id}")
    @page(Permission.DEVICE_SCAN)
    def bench_job(visit: Visit, form: dict[str, str], job_id: str) -> Response:
        with uow(write=False) as unit:
            job = unit.triage.job(job_id)
            tools = [t for t in unit.security.tools() if t["status"] == "active"]
        if job is None:
            return _render("error.html", visit, 404, title="No such job", message=job_id)
        story = history.device_history(uow, visit.caller, job.device_id)
        entries = [(i, e) for i, e in story.entries if e.data.get("job_id") in (None, job.id)]
        decisions = [e for _, e in entries if e.type in ("device.decided", "decision.overridden")]
        photos = [e.data["sha256"] for _, e in entries if e.type == "device.photo_attached"]
        return _render(
            "bench_job.html",
            visit,
            job=job,
            entries=entries,
            decision=decisions[-1] if decisions else None,
            photos=photos,
            next_steps=sorted(a.value for a in allowed_actions(job.state)),
            tools=[t for t in tools if t["bench"] == visit.caller.bench] or tools,
            covers=[c.value for c in Cover],
            seal_states=[s.value for s in SecuritySealState],
        )

    @router.post("/bench/jobs/{job_id}/inspect")
    @page(Permission.DEVICE_INSPECT)
    def bench_inspect(visit: Visit, form: dict[str, str], job_id: str) -> Response:
        evidence = {
            "metrology_seal_intact": form.get("metrology_seal_intact") == "yes",
            "cpa_boundary_intact": form.get("cpa_boundary_intact") == "yes",
            "outer_covers_opened": [c.value for c in Cover if form.get(f"cover_{c.value}")],
            "security_seal": form.get("security_seal", "none_fitted"),
        }
        if form.get("other_findings", "").strip():
            evidence["other_findings"] = form["other_findings"].strip()[:2000]
        codes = form.get("alert_codes", "").replace(",", " ").split()
        if codes:
            # Alerts read from the device's security log now, at the bench.
            at = format_time(now())
            evidence["alerts"] = [{"code": code, "at": at} for code in codes[:50]]
        bench.inspect(uow, visit.caller, job_id, evidence)
        return RedirectResponse(f"/bench/jobs/{job_id}", status_code=303)

    @router.post("/bench/jobs/{job_id}/photo")
    @page(Permission.DEVICE_INSPECT, limit=bench.MAX_PHOTO_BYTES + 64 * 1024)
    def bench_photo(visit: Visit, form: Form, job_id: str) -> Response:
        content = form.files.get("photo", b"")
        media = bench.photo_type(content)
        sha256, size = application.evidence_store().put(content)
        bench.attach_photo(uow, visit.caller, job_id, sha256, media, size)
        return RedirectResponse(f"/bench/jobs/{job_id}", status_code=303)

    @router.get("/bench/jobs/{job_id}/photos/{sha256}")
    @page(Permission.HISTORY_READ)
    def bench_photo_file(visit: Visit, form: Form, job_id: str, sha256: str) -> Response:
        with uow(write=False) as unit:
            job = unit.triage.job(job_id)
        if job is None:
            return _render("error.html", visit, 404, title="No such job", message=job_id)
        story = history.device_history(uow, visit.caller, job.device_id)
        recorded = [
            e.data
            for _, e in story.entries
            if e.type == "device.photo_attached"
            and e.data["job_id"] == job_id
            and e.data["sha256"] == sha256
        ]
        store = application.evidence_store()
        if not recorded or store.check(sha256) != "ok":
            return _render("error.html", visit, 404, title="No such photo", message=sha256)
        return Response(
            store.read(sha256),
            media_type=recorded[0]["media_type"],
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private"},
        )

    @router.post("/bench/jobs/{job_id}/reset")
    @page(Permission.RESET_REQUEST)
    def bench_reset(visit: Visit, form: dict[str, str], job_id: str) -> Response:
        bench.authorise_reset(
            uow, visit.caller, job_id, form.get("tool_id", ""), application.signer_key()
        )
        return RedirectResponse(f"/bench/jobs/{job_id}", status_code=303)

    @router.post("/bench/jobs/{job_id}/seal")
    @page(Permission.DEVICE_SEAL)
    def bench_seal(visit: Visit, form: dict[str, str], job_id: str) -> Response:
        bench.seal(uow, visit.caller, job_id, form.get("serial", ""))
        return RedirectResponse(f"/bench/jobs/{job_id}", status_code=303)

    @router.post("/bench/jobs/{job_id}/release")
    @page(Permission.DEVICE_RELEASE)
    def bench_release(visit: Visit, form: dict[str, str], job_id: str) -> Response:
        bench.release(uow, visit.caller, job_id)
        return RedirectResponse(f"/bench/jobs/{job_id}", status_code=303)

    # -- the security office ----------------------------------------------------------------
    @router.get("/security/tools")
    @page(Permission.ALERT_READ)
    def security_tools(visit: Visit, form: dict[str, str]) -> Response:
        with uow(write=False) as unit:
            tools = unit.security.tools()
        alerts, _ = anomaly.alerts(uow, visit.caller, "open", 0, 100)
        return _render("security_tools.html", visit, tools=tools, alerts=alerts)

    @router.post("/security/tools/{tool_id}/reinstate")
    @page(Permission.SUSPENSION_REINSTATE)
    def security_reinstate(visit: Visit, form: dict[str, str], tool_id: str) -> Response:
        people.reinstate_tool(uow, visit.caller, tool_id, form.get("reason", ""))
        return RedirectResponse("/security/tools", status_code=303)

    site = Site(application, page)
    for module in (supervisor, stores, security, admin, auditor):
        module.register(router, site)
    return router


@dataclass(frozen=True)
class Site:
    """What the pages of each area need: the application and the page decorator."""

    application: App
    page: Callable[..., Callable[[Callable[..., Any]], Callable[..., Any]]]

    def render(self, name: str, visit: Visit, status: int = 200, **context: Any) -> HTMLResponse:
        return _render(name, visit, status, **context)

    @staticmethod
    def redirect(to: str) -> Response:
        return RedirectResponse(to, status_code=303)


# Imported last: the areas' modules use ``Site`` and ``Visit`` above.
from triage.entrypoints.web import admin, auditor, security, stores, supervisor  # noqa: E402
