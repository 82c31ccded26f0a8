"""Server-rendered pages for the people at the facility, on top of the same services as the API.

Signing in opens the same web session as the API's login (cookie ``triage_session``); every
form that changes something carries the session's CSRF token, checked before anything else.
Every page names the permission it needs and refuses (403, with what the page is for) anyone
without it: a page is never merely hidden from the menu. Nothing is loaded from elsewhere:
the stylesheet is served from this package.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from starlette.datastructures import UploadFile

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.local_time import format_local, local
from triage.domain.roles import Permission, roles_with
from triage.domain.tamper_policy import Cover, LogSource, SecuritySealState
from triage.entrypoints.downloads import attachment, pdf
from triage.entrypoints.request_bodies import DEFAULT_BODY_LIMIT, KiB, body_limit, limited_body
from triage.entrypoints.sessions import (
    CSRF_FIELD,
    close_session,
    csrf_matches,
    open_session,
    session_secret,
)
from triage.entrypoints.statuses import status_of
from triage.entrypoints.web import (
    admin,
    assessments,
    asset_owners,
    auditor,
    consignments,
    custody,
    device_page,
    devices,
    dispatches,
    disposals,
    duis_requests,
    hub_returns,
    incidents,
    inventory,
    people,
    retention,
    security,
    settings,
    stores,
    supervisor,
)
from triage.entrypoints.web.form_values import listed
from triage.errors import InvalidInput, NotFound, TriageError, Unauthenticated
from triage.ledger.entry import Entry
from triage.services import (
    auth,
    documents,
    intake,
    job_steps,
    photos,
    reinstatement,
    seal_draw,
    security_log,
)
from triage.services.security_log import LogEntryView
from triage.services.views import dashboard, jobs
from triage.services.views import people as people_views
from triage.services.withdrawal import WITHDRAWN

HERE = Path(__file__).parent
STATIC = HERE / "static"
_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _zone(context: Context) -> tzinfo:
    """The time zone of the facility the visit is to (UTC, and said so, before signing in)."""
    visit = context.get("visit")
    return visit.zone if isinstance(visit, Visit) else UTC


def _stored(at: datetime | str) -> datetime:
    """A stored time given to a template: a datetime (naive ones, as SQLite gives them back,
    are UTC like everything stored), or RFC 3339 text from a view."""
    moment = datetime.fromisoformat(at.replace("Z", "+00:00")) if isinstance(at, str) else at
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@pass_context
def _local_time(context: Context, at: datetime | str | None, seconds: bool = False) -> str:
    """``{{ at|time }}``: the facility's local time with its zone, "2026-12-06 10:15 GMT"
    (``time(seconds=True)`` for a ledger entry's time to the second)."""
    if at is None or at == "":
        return ""
    return format_local(_stored(at), _zone(context), seconds=seconds)


@pass_context
def _local_date(context: Context, at: datetime | str | None) -> str:
    """``{{ at|date }}``: the day it was at the facility, "2026-12-06"."""
    return "" if at is None or at == "" else local(_stored(at), _zone(context)).date().isoformat()


# Times on pages in the facility's time zone, with the zone (Settings.time_zone).
_templates.filters["time"] = _local_time
_templates.filters["date"] = _local_date
# A device's own clock (a GBCS log entry) keeps whole seconds: shown as the decision cites it.
_templates.filters["device_time"] = lambda at: at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

# The pages, the permission each needs, and its place in the menu.
MENU = (
    ("/bench", "Bench", Permission.DEVICE_SCAN),
    ("/devices", "Devices", Permission.TRIAGE_READ),
    ("/supervisor", "Reviews", Permission.DECISION_OVERRIDE),
    ("/consignments", "Consignments", Permission.CONSIGNMENT_IMPORT),
    ("/exceptions", "Exceptions", Permission.EXCEPTION_RESOLVE),
    ("/stores", "Seals", Permission.SEAL_STOCK),
    ("/custody", "Custody", Permission.DEVICE_MOVE),
    ("/dispatches", "Dispatches", Permission.DISPATCH_MANAGE),
    ("/inventory", "Inventory (DCC)", Permission.INVENTORY_IMPORT),
    ("/duis", "DUIS requests", Permission.DUIS_PRODUCE),
    ("/hubs", "Hubs to the DCC", Permission.DEVICE_DISPOSE),
    ("/disposals", "Destructions", Permission.DISPOSAL_WITNESS),
    ("/stores/discrepancies", "Seal discrepancies", Permission.SEAL_DISCREPANCY_RESOLVE),
    ("/security/tools", "Tools and alerts", Permission.ALERT_READ),
    ("/security/people", "Access review", Permission.ALERT_READ),
    ("/incidents", "Incidents", Permission.INCIDENT_READ),
    ("/incidents/report", "Report an incident", Permission.INCIDENT_REPORT),
    ("/people", "People", Permission.OPERATOR_MANAGE),
    ("/asset-owners", "Asset owners", Permission.ASSET_OWNER_MANAGE),
    ("/dispatches", "Dispatches", Permission.DISPATCH_ACKNOWLEDGE),
    ("/duis", "DUIS requests", Permission.OWNER_READ),
    ("/assessments", "Assessments", Permission.ASSURANCE_MANAGE),
    ("/retention", "Retention", Permission.RETENTION_MANAGE),
    ("/inventory", "Inventory (DCC)", Permission.POLICY_MANAGE),
    ("/admin", "Facility", Permission.FACILITY_MANAGE),
    ("/disposals/methods", "Destruction methods", Permission.FACILITY_MANAGE),
    ("/settings", "Settings", Permission.ACCESS_REVIEW),
    ("/auditor", "Ledger and receipts", Permission.ASSURANCE_READ),
)


# Rows of the typed fallback: codes and times copied from the device's own display.
TYPED_ROWS = 8
TYPED_HINT = "log unreadable: "
# Where the log a decision used came from, as the decision card says it.
LOG_SOURCES = {
    LogSource.TOOL.value: "tool: read from the device by the Triage Tool",
    LogSource.SUPPLIER.value: "supplier: the supplier's 6.13 response, uploaded by a supervisor",
    LogSource.TYPED.value: "typed: typed by hand from the device's display",
    LogSource.NONE.value: "none: a Type 2 device (IHD or CAD) keeps no GBCS security log",
}
# The security log's entries on the inspection page, grouped as the tamper policy classes them.
LOG_GROUPS = (
    ("tamper", "Tamper alerts"),
    ("explaining", "Battery and power events (may explain a tamper alert)"),
    ("integrity", "Integrity alerts"),
    (None, "Other entries"),
)


@dataclass(frozen=True)
class Failure:
    """A form that was refused, shown again on its own page: the path it was posted to (which
    of the page's forms it was), why, the field at fault if one was, and what was typed."""

    action: str
    message: str
    field: str | None
    typed: Mapping[str, str]
    # Whether the page drew the refused form (and so its message); base.html shows the
    # message at the top of the page when the form is no longer offered (the refusal itself
    # may have changed what the page offers: a tool suspended by the attempt).
    drawn: list[bool] = dataclasses.field(default_factory=list, compare=False)

    def typed_value(self, action: str, name: str, default: str = "") -> str:
        """What was typed into ``name`` if this form is the one refused, else ``default``."""
        return self.typed.get(name, default) if action == self.action else default

    def draw(self) -> str:
        """Note that the page shows the refusal with its form (called by _forms.html)."""
        self.drawn.append(True)
        return ""


@dataclass(frozen=True)
class Visit:
    """The signed-in person looking at a page, and the time zone of the facility it shows;
    ``failed`` is the form refused on this page, ``done`` what the last act did."""

    caller: Caller
    csrf_token: str
    zone: tzinfo = UTC
    failed: Failure | None = None
    done: str | None = None


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


# The success message of the last act, shown once on the next page (a cookie signed with the
# session's CSRF token, so that nothing but this site's own redirect can put words on a page).
DONE_COOKIE = "triage_done"
DONE_LONGEST = 400


class _Done(RedirectResponse):
    """A redirect after an act, carrying the message the next page shows."""

    def __init__(self, to: str, message: str) -> None:
        super().__init__(to, status_code=303)
        self.message = message[:DONE_LONGEST]


def _done_seal(message: str, csrf_token: str) -> str:
    text = base64.urlsafe_b64encode(message.encode()).decode().rstrip("=")
    tag = hmac.new(csrf_token.encode(), text.encode(), hashlib.sha256).hexdigest()
    return f"{text}.{tag}"


def _done_opened(cookie: str | None, csrf_token: str) -> str | None:
    """The message a ``_Done`` left, if the cookie is one this session signed."""
    text, _, tag = (cookie or "").partition(".")
    expected = hmac.new(csrf_token.encode(), text.encode(), hashlib.sha256).hexdigest()
    if not text or not hmac.compare_digest(tag, expected):
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()[:DONE_LONGEST]
    except (ValueError, UnicodeDecodeError):
        return None


def _problem(visit: Visit | None, exc: TriageError) -> HTMLResponse:
    return _render("error.html", visit, status_of(exc), title=exc.title, message=str(exc))


def _expired(visit: Visit, message: str) -> HTMLResponse:
    return _render("error.html", visit, 403, title="Form expired", message=message)


class Form(dict[str, str]):
    """A submitted form's fields, and its files (as bytes) apart."""

    def __init__(self, fields: dict[str, str], files: dict[str, bytes] | None = None) -> None:
        super().__init__(fields)
        self.files = files or {}


async def _form(request: Request, limit: int = DEFAULT_BODY_LIMIT) -> Form:
    """A form (urlencoded, or multipart with at most one file), refused past ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise InvalidInput(f"form: larger than {limit // KiB} KiB")
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        fields: dict[str, str] = {}
        files: dict[str, bytes] = {}
        async with request.form(max_files=1, max_fields=20, max_part_size=limit) as multipart:
            for key, value in multipart.items():
                if isinstance(value, UploadFile):
                    data = await value.read(limit + 1)
                    if len(data) > limit:
                        raise InvalidInput(f"{key}: larger than {limit // KiB} KiB")
                    files[key] = data
                else:
                    fields[key] = value
        return Form(fields, files)
    body = await limited_body(request, limit)
    pairs = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return Form({key: values[-1] for key, values in pairs.items()})


def _by_class(entries: Sequence[LogEntryView]) -> list[tuple[str, list[LogEntryView]]]:
    """The log's entries in the policy's classes (in the log's order within each), non-empty."""
    named = {alert_class for alert_class, _ in LOG_GROUPS if alert_class is not None}
    group_of = [e.alert_class if e.alert_class in named else None for e in entries]
    groups = []
    for alert_class, title in LOG_GROUPS:
        members = [e for e, group in zip(entries, group_of, strict=True) if group == alert_class]
        if members:
            groups.append((title, members))
    return groups


def _waiting_order(entries: Sequence[tuple[int, Entry]]) -> Entry | None:
    """The read order given since the last log was recorded, if any: the tool has yet to answer."""
    waiting = None
    for _, entry in entries:
        if entry.type == security_log.READ_ORDERED:
            waiting = entry
        elif entry.type == security_log.RECORDED or (
            entry.type == WITHDRAWN
            and waiting is not None
            and entry.data.get("work_order_id") == waiting.data["work_order_id"]
        ):
            waiting = None
    return waiting


def _decided_log(entries: Sequence[tuple[int, Entry]]) -> Mapping[str, Any] | None:
    """The security log the latest policy decision used (an override keeps that decision's)."""
    used = None
    for _, entry in entries:
        if entry.type == "device.decided":
            used = entry.data.get("security_log")
    return used


def _legitimate_reason(form: Mapping[str, str]) -> dict[str, object] | None:
    """The supplier's job entered on the inspection form, if any; its reference is required."""
    reference = form.get("job_reference", "").strip()
    covers = [c.value for c in Cover if form.get(f"job_cover_{c.value}")]
    codes = listed(form, "job_alert_codes")
    on = form.get("job_on", "").strip()
    if not reference:
        if covers or codes or on:
            raise InvalidInput(
                "supplier job: give its reference, or clear the covers, codes and date"
            )
        return None
    reason: dict[str, object] = {
        "kind": "supplier_job",
        "reference": reference[:200],
        "covers": covers,
        "alert_codes": codes[:50],
    }
    if on:
        reason["on"] = on
    return reason


def _typed_log(form: Mapping[str, str]) -> dict[str, object]:
    """The log typed from the device's display: the reason, and each code with its time."""
    alerts = []
    for row in range(1, TYPED_ROWS + 1):
        code = form.get(f"typed_code_{row}", "").strip()
        at = form.get(f"typed_at_{row}", "").strip()
        if not code and not at:
            continue
        if not code:
            raise InvalidInput(f"typed log, row {row}: the code is missing for the time {at}")
        if not at:
            raise InvalidInput(
                f"typed log, row {row}: give the time the device's display shows for {code}"
            )
        alerts.append({"code": code, "at": _display_time(at)})
    reason = form.get("typed_reason", "").strip()
    if reason.rstrip(": ").lower() in ("", TYPED_HINT.rstrip(": ")):
        raise InvalidInput(f"typed log: say why the log could not be read ({TYPED_HINT}...)")
    return {"reason": reason, "alerts": alerts}


def _display_time(text: str) -> str:
    """A time from a datetime-local field (the device's display shows UTC) as RFC 3339 UTC."""
    if len(text) == len("2026-12-01T10:00"):
        text += ":00"
    return text if text.endswith("Z") else text + "Z"


def build_web_router(application: App) -> APIRouter:
    """The pages of one facility."""
    uow = application.uow
    router = APIRouter(include_in_schema=False)

    def visit_of(request: Request) -> Visit:
        secret = session_secret(request)
        if not secret:
            raise _Redirect("/login")
        try:
            found = auth.authenticate_session(uow, secret)
        except Unauthenticated:
            raise _Redirect("/login?expired=1") from None
        return Visit(found.caller, found.csrf_token, application.settings.zone)

    def page(
        permission: Permission | None,
        limit: int = DEFAULT_BODY_LIMIT,
        back: Callable[..., Any] | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """A page needing ``permission``: signed in, else to the login; refused, else shown.
        A form larger than ``limit`` bytes is refused (the route declares it). ``back`` is the
        page a posted form lives on: a refusal shows that page again, with the error next to
        the field and what was typed kept, rather than an error page."""

        def wrap(handler: Callable[..., Any]) -> Callable[..., Any]:
            async def run(request: Request) -> Response:
                params = dict(request.path_params)
                try:
                    visit = visit_of(request)
                except _Redirect as go:
                    return RedirectResponse(go.to, status_code=303)
                done = _done_opened(request.cookies.get(DONE_COOKIE), visit.csrf_token)
                if done is not None:
                    visit = replace(visit, done=done)
                response = await answer(request, visit, params)
                if isinstance(response, _Done):
                    response.set_cookie(
                        DONE_COOKIE,
                        _done_seal(response.message, visit.csrf_token),
                        max_age=300,
                        path="/",
                        secure=True,
                        httponly=True,
                        samesite="strict",
                    )
                elif DONE_COOKIE in request.cookies:
                    response.delete_cookie(DONE_COOKIE, path="/", secure=True, httponly=True)
                return response

            def refused(visit: Visit, request: Request, form: Form, exc: TriageError) -> Response:
                """The refusal of a posted form: on its page when it has one."""
                # ``back`` is the form's page, or chooses it from the form (an act offered on
                # two pages says which one it came from).
                home = back if back is None or hasattr(back, "handler") else back(form)
                shown_by = getattr(home, "handler", None)
                needed = getattr(home, "permission", None)
                if shown_by is None or (needed is not None and not visit.caller.can(needed)):
                    return _problem(visit, exc)
                typed = {k: v for k, v in form.items() if k != CSRF_FIELD}
                field = exc.field if isinstance(exc, InvalidInput) else None
                if field is None and len(typed) == 1:
                    field = next(iter(typed))  # a one-field form: the refusal is about it
                failed = Failure(request.url.path, str(exc), field, typed)
                wanted = inspect.signature(shown_by).parameters
                params = {k: v for k, v in request.path_params.items() if k in wanted}
                try:
                    again: Response = shown_by(replace(visit, failed=failed), Form({}), **params)
                except TriageError:
                    return _problem(visit, exc)
                again.status_code = status_of(exc)
                return again

            async def answer(request: Request, visit: Visit, params: dict[str, Any]) -> Response:
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
                # A GET page's form is its query (a search form's fields); a POST's, its body.
                form = Form(dict(request.query_params))
                if request.method == "POST":
                    try:
                        form = await _form(request, limit)
                    except TriageError as exc:
                        return refused(visit, request, form, exc)
                    if not csrf_matches(form.get(CSRF_FIELD, ""), visit.csrf_token):
                        return _expired(
                            visit,
                            "This form is out of date or not from this site: go back, "
                            "reload the page and try again.",
                        )
                try:
                    result: Response = handler(visit, form, **params)
                    return result
                except TriageError as exc:
                    if request.method == "POST":
                        return refused(visit, request, form, exc)
                    return _problem(visit, exc)

            wrapped = run if limit == DEFAULT_BODY_LIMIT else body_limit(limit)(run)
            # What a form's ``back`` needs to show this page again after a refusal.
            wrapped.handler = handler  # type: ignore[attr-defined]
            wrapped.permission = permission  # type: ignore[attr-defined]
            return wrapped

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
        except TriageError as exc:
            # Who and where are kept; the secrets are typed again.
            return _render(
                "login.html",
                None,
                status_of(exc),
                error=str(exc),
                bench=form.get("bench", ""),
                operator_id=form.get("operator_id", "").strip()[:100],
            )
        response = RedirectResponse("/", status_code=303)
        open_session(response, session.secret, uow.settings.session_absolute_timeout)
        return response

    @router.post("/logout")
    async def logout_full(request: Request) -> Response:
        try:
            visit = visit_of(request)
        except _Redirect:
            return RedirectResponse("/login", status_code=303)
        form = await _form(request)
        if not csrf_matches(form.get(CSRF_FIELD, ""), visit.csrf_token):
            return _expired(visit, "Reload and try again.")
        auth.logout(uow, session_secret(request) or "")
        response = RedirectResponse("/login", status_code=303)
        close_session(response)
        return response

    # -- the dashboard ----------------------------------------------------------------------
    @router.get("/")
    @page(None)
    def home(visit: Visit, form: dict[str, str]) -> Response:
        """The dashboard: what this person may see, as charts where looking beats reading."""
        if visit.caller.asset_owner is not None:  # a person of an asset owner: its own page
            return asset_owners.home_page(uow, visit, _render)
        shown = dashboard.dashboard(uow, visit.caller)
        return _render(
            "home.html",
            visit,
            counts=shown.counts,
            outcomes=shown.outcomes,
            benches=shown.benches,
            fitted=shown.fitted,
            seal_sums=shown.seal_sums,
            open_alerts=shown.open_alerts,
            next_assessment=shown.next_assessment,
            custody=shown.custody,
            idle_days=shown.idle_days,
        )

    # -- the bench --------------------------------------------------------------------------
    @router.get("/bench")
    @page(Permission.DEVICE_SCAN)
    def bench_page(visit: Visit, form: dict[str, str]) -> Response:
        return _render("bench_scan.html", visit)

    @router.post("/bench/scan")
    @page(Permission.DEVICE_SCAN, back=bench_page)
    def bench_scan(visit: Visit, form: dict[str, str]) -> Response:
        scanned = intake.scan_device(uow, visit.caller, form.get("device_id", ""))
        if scanned.job is None:
            # Not a device to triage (unexpected, or already done): said beside what was scanned.
            typed = {"device_id": form.get("device_id", "")}
            failed = Failure("/bench/scan", scanned.message, "device_id", typed)
            return _render("bench_scan.html", replace(visit, failed=failed), 409)
        return RedirectResponse(f"/bench/jobs/{scanned.job.id}", status_code=303)

    @router.get("/bench/jobs/{job_id}")
    @page(Permission.DEVICE_SCAN)
    def bench_job(visit: Visit, form: dict[str, str], job_id: str) -> Response:
        try:
            shown = jobs.bench_job(uow, visit.caller, job_id)
        except NotFound:
            return _render("error.html", visit, 404, title="No such job", message=job_id)
        log = shown.security_log
        usable = log is not None and log.usable
        return _render(
            "bench_job.html",
            visit,
            job=shown.job,
            entries=shown.entries,
            decision=shown.decision,
            decided_log=_decided_log(shown.entries),
            log=log,
            usable_log=usable,
            keeps_log=shown.keeps_log,
            log_groups=_by_class(log.entries) if log is not None and usable else [],
            read_ordered=None if usable else _waiting_order(shown.entries),
            typed_rows=range(1, TYPED_ROWS + 1),
            typed_hint=TYPED_HINT,
            log_sources=LOG_SOURCES,
            photos=shown.photos,
            next_steps=shown.next_steps,
            attempts=shown.attempts,
            acts=shown.acts,
            stopped=shown.stopped,
            outcomes=supervisor.OUTCOMES,
            tools=shown.tools,
            tool_options=[(t.id, f"{t.id} (bench {t.bench})") for t in shown.tools],
            covers=[c.value for c in Cover],
            seal_states=[s.value for s in SecuritySealState],
            random_seals=shown.random_seals,
            drawn_seal=shown.drawn_seal,
        )

    @router.post("/bench/jobs/{job_id}/inspect")
    @page(Permission.DEVICE_INSPECT, back=bench_job)
    def bench_inspect(visit: Visit, form: dict[str, str], job_id: str) -> Response:
        evidence = {
            "metrology_seal_intact": form.get("metrology_seal_intact") == "yes",
            "cpa_boundary_intact": form.get("cpa_boundary_intact") == "yes",
            "outer_covers_opened": [c.value for c in Cover if form.get(f"cover_{c.value}")],
            "security_seal": form.get("security_seal", "none_fitted"),
        }
        if form.get("other_findings", "").strip():
            evidence["other_findings"] = form["other_findings"].strip()[:2000]
        reason = _legitimate_reason(form)
        if reason is not None:
            evidence["legitimate_reasons"] = [reason]
        if "typed_reason" in form:
            evidence["typed_log"] = _typed_log(form)
        decided = job_steps.inspect(uow, visit.caller, job_id, evidence)
        outcome = decided.outcome.value.replace("_", " ")
        return _Done(f"/bench/jobs/{job_id}", f"Inspection recorded: the policy decided {outcome}.")

    @router.post("/bench/jobs/{job_id}/security-log/read")
    @page(Permission.DEVICE_INSPECT, back=bench_job)
    def bench_read_log(visit: Visit, form: dict[str, str], job_id: str) -> Response:
        tool_id = form.get("tool_id", "")
        security_log.request_read(uow, visit.caller, job_id, tool_id, application.signer_key())
        return _Done(
            f"/bench/jobs/{job_id}#security-log", f"{tool_id} was asked to read the security log."
        )

    @router.post("/bench/jobs/{job_id}/photo")
    # A photo and the multipart form around it.
    @page(Permission.DEVICE_INSPECT, limit=photos.MAX_PHOTO_BYTES + 64 * KiB, back=bench_job)
    def bench_photo(visit: Visit, form: Form, job_id: str) -> Response:
        content = form.files.get("photo", b"")
        photos.take_photo(uow, visit.caller, application.evidence_store(), job_id, content)
        return _Done(f"/bench/jobs/{job_id}", "Photo added.")

    @router.get("/bench/jobs/{job_id}/photos/{sha256}")
    @page(Permission.HISTORY_READ)
    def bench_photo_file(visit: Visit, form: Form, job_id: str, sha256: str) -> Response:
        try:
            found = photos.photo(uow, visit.caller, application.evidence_store(), job_id, sha256)
        except NotFound:
            return _render("error.html", visit, 404, title="No such photo", message=sha256)
        return Response(
            found.content,
            media_type=found.media_type,
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private"},
        )

    @router.get("/bench/devices/{device_id}/certificate")
    @page(None)  # the service: receipt.issue, or a person of the device's asset owner
    def bench_certificate(visit: Visit, form: Form, device_id: str) -> Response:
        """The released device's triage certificate (PDF), as the API gives it."""
        found = documents.certificate(
            uow, visit.caller, device_id, application.issuer(), application.documents
        )
        return pdf(found)

    @router.get("/bench/devices/{device_id}/receipt")
    @page(None)  # the service: receipt.issue, or a person of the device's asset owner
    def bench_receipt(visit: Visit, form: Form, device_id: str) -> Response:
        """The device's offline receipt (JSON), to check with `triage verify`."""
        signed = documents.receipt(uow, visit.caller, device_id, application.issuer())
        return attachment(signed, "application/json", f"receipt-{device_id}.json")

    @router.post("/bench/jobs/{job_id}/reset")
    @page(Permission.RESET_REQUEST, back=bench_job)
    def bench_reset(visit: Visit, form: dict[str, str], job_id: str) -> Response:
        tool_id = form.get("tool_id", "")
        job_steps.authorise_reset(uow, visit.caller, job_id, tool_id, application.signer_key())
        return _Done(f"/bench/jobs/{job_id}", f"Reset ordered: {tool_id} has the work order.")

    @router.post("/bench/jobs/{job_id}/seal")
    @page(Permission.DEVICE_SEAL, back=bench_job)
    def bench_seal(visit: Visit, form: dict[str, str], job_id: str) -> Response:
        sealed = job_steps.seal(uow, visit.caller, job_id, form.get("serial", ""))
        return _Done(f"/bench/jobs/{job_id}", f"Seal {sealed.seal_serial} recorded.")

    @router.post("/bench/jobs/{job_id}/seal-draw")
    @page(Permission.DEVICE_SEAL, back=bench_job)
    def bench_seal_draw(visit: Visit, form: dict[str, str], job_id: str) -> Response:
        drawn = seal_draw.draw(uow, visit.caller, job_id)
        return _Done(f"/bench/jobs/{job_id}", f"Seal {drawn.serial} drawn: fit that one.")

    @router.post("/bench/jobs/{job_id}/release")
    @page(Permission.DEVICE_RELEASE, back=bench_job)
    def bench_release(visit: Visit, form: dict[str, str], job_id: str) -> Response:
        released = job_steps.release(uow, visit.caller, job_id)
        return _Done(f"/bench/jobs/{job_id}", f"Device {released.device_id} released.")

    # -- the security office ----------------------------------------------------------------
    @router.get("/security/tools")
    @page(Permission.ALERT_READ)
    def security_tools(visit: Visit, form: dict[str, str]) -> Response:
        shown = people_views.tools_and_alerts(uow, visit.caller)
        return _render(
            "security_tools.html",
            visit,
            tools=shown.tools,
            alerts=shown.alerts,
            limits=shown.limits,
        )

    @router.post("/security/tools/{tool_id}/reinstate")
    @page(Permission.SUSPENSION_REINSTATE, back=security_tools)
    def security_reinstate(visit: Visit, form: dict[str, str], tool_id: str) -> Response:
        reinstatement.reinstate_tool(uow, visit.caller, tool_id, form.get("reason", ""))
        return _Done("/security/tools", f"Tool {tool_id} reinstated.")

    site = Site(application, page, {"bench_job": bench_job, "security_tools": security_tools})
    for module in (
        supervisor,
        stores,
        security,
        admin,
        auditor,
        devices,
        device_page,
        consignments,
        people,
        assessments,
        settings,
        asset_owners,
        dispatches,
        disposals,
        custody,
        retention,
        inventory,
        duis_requests,
        hub_returns,
        incidents,
    ):
        module.register(router, site)
    return router


@dataclass(frozen=True)
class Site:
    """What the pages of each area need: the application and the page decorator."""

    application: App
    page: Callable[..., Callable[[Callable[..., Any]], Callable[..., Any]]]
    # Pages another area's forms may return to after a refusal (``page(back=...)``).
    pages: Mapping[str, Callable[..., Any]]

    def render(self, name: str, visit: Visit, status: int = 200, **context: Any) -> HTMLResponse:
        return _render(name, visit, status, **context)

    @staticmethod
    def redirect(to: str, done: str | None = None) -> Response:
        """On to ``to`` after an act; ``done`` says what it did, shown once there."""
        return RedirectResponse(to, status_code=303) if done is None else _Done(to, done)
