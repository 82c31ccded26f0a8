"""RFC 9457 problem details for every error the API returns, and their place in the published
OpenAPI document: each operation lists the problems it can answer with."""

from __future__ import annotations

import logging
from collections.abc import Callable
from html import escape
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match

from triage.entrypoints.statuses import status_of
from triage.errors import DatabaseUnavailable, TooManyAttempts, TriageError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)

# What each status means to a client, as the OpenAPI document describes it.
PROBLEM_STATUSES = {
    400: "The request could not be read.",
    401: "No valid credentials: sign in, or send an API token (tools: a signed request).",
    403: "The caller may not do this (permission, scope, bench, CSRF token or a lock).",
    404: "Something the request names does not exist.",
    409: "The request clashes with the current state (lifecycle, seal, duplicate).",
    413: "The request body is larger than this endpoint accepts.",
    422: "Invalid input: `detail` names each field and its problem.",
    429: "Too many failed attempts: try again after Retry-After seconds.",
    501: "It exists but cannot be given in this form: `detail` says where it can be had.",
    503: "The database cannot be reached, or the facility is not set up.",
}
_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What is wrong, and what to do."},
        "errors": {
            "type": "array",
            "description": "Each invalid field (422).",
            "items": {
                "type": "object",
                "required": ["field", "problem"],
                "properties": {"field": {"type": "string"}, "problem": {"type": "string"}},
            },
        },
        "rows": {
            "type": "array",
            "description": "Each refused row of a manifest (422), by line.",
            "items": {
                "type": "object",
                "required": ["line", "problem"],
                "properties": {
                    "line": {"type": "integer"},
                    "field": {"type": ["string", "null"]},
                    "problem": {"type": "string"},
                },
            },
        },
    },
}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_HEADERS = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}}},
    429: {"Retry-After": {"schema": {"type": "string"}}},
    503: {"Retry-After": {"schema": {"type": "string"}}},
}


def problem(status: int, title: str, detail: str, **extra: object) -> JSONResponse:
    """A problem-details response."""
    body: dict[str, object] = {"type": "about:blank", "title": title, "status": status}
    body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Route options' ``responses`` for problems a route answers beyond the usual ones (which
    every operation gets from the rules in ``_usual``)."""
    return {status: _response(status) for status in statuses}


def _response(status: int) -> dict[str, Any]:
    found: dict[str, Any] = {
        "description": PROBLEM_STATUSES[status],
        "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}},
    }
    if status in _HEADERS:
        found["headers"] = _HEADERS[status]
    return found


def _usual(method: str, operation: dict[str, Any]) -> set[int]:
    """The problems any operation of this kind can answer with."""
    statuses = {422, 503}
    access = operation.get("x-access")
    if access != "public":
        statuses |= {401, 403}
    if "requestBody" in operation:
        statuses |= {400, 413}
    if method != "get":
        statuses |= {404, 409}
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        statuses.add(404)
    return statuses


def _document(spec: dict[str, Any]) -> None:
    """Give every operation of ``spec`` its problem responses, as problem+json."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = _PROBLEM_SCHEMA
    # FastAPI's own 422 shape is not what this API answers: the problem above is.
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for methods in spec.get("paths", {}).values():
        for method, operation in methods.items():
            documented = operation.setdefault("responses", {})
            for status in sorted(_usual(method, operation)):
                documented[str(status)] = _response(status)
            for status, response in documented.items():
                if status.isdigit() and int(status) >= 400:
                    response.setdefault("content", {PROBLEM_JSON: {"schema": _PROBLEM_REF}})


# How long a client should wait before trying again when the database is unavailable.
RETRY_AFTER_SECONDS = 5
# A web page's own policy: this site's stylesheet, nothing else.
PAGE_POLICY = "default-src 'self'; frame-ancestors 'none'"


def for_a_page(path: str) -> bool:
    """Whether a request is for a web page (a person's browser), not the API or a file."""
    return not path.startswith(("/api/", "/static/"))


def error_page(status: int, title: str, detail: str) -> HTMLResponse:
    """An error as a plain page for a person, where the API would answer a problem: the same
    status and words, the site's stylesheet, a way back (no template: it must work when
    nothing else does)."""
    body = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        '<link rel="stylesheet" href="/static/app.css"></head>'
        f'<body><main id="main"><h1>{escape(title)}</h1>'
        f'<p class="error" role="alert">{escape(detail)}</p>'
        '<p><a href="/">Back to the start</a></p></main></body></html>\n'
    )
    response = HTMLResponse(body, status_code=status)
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    return response


def database_unavailable(exc: DatabaseUnavailable, path: str = "/api/") -> Response:
    """503 when the database cannot be used: down, unreachable, or its disk full.

    The transaction was rolled back (the unit of work does that on any error), so nothing of
    the request was written; the client may try again after ``Retry-After`` seconds, and the
    connection pool replaces broken connections by itself once the database is back.
    """
    if exc.disk_full:
        log.error("database disk full: %s", exc)
        detail = (
            "The disk holding the database is full, so nothing was recorded; free space on it, "
            "then try again."
        )
    else:
        log.warning("database unavailable: %s", exc)
        detail = "The database cannot be reached, so nothing was recorded; try again shortly."
    response: Response = (
        error_page(503, "Service unavailable", detail)
        if for_a_page(path)
        else problem(503, "Service unavailable", detail)
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _allowed(app: FastAPI, request: Request) -> list[str]:
    """Every method the requested path answers (RFC 9110: a 405 lists them in Allow).

    The router's own 405 names only the first route on the path, and here one path often has
    a GET and a POST route, from different routers: every route is asked once whether the path
    is its own (a full or partial match), and the methods of those that are make the answer; a
    route that names no methods (a mount) answers them all.
    """
    allowed: set[str] = set()
    for route in app.router.routes:
        if route.matches(request.scope)[0] is not Match.NONE:
            methods = getattr(route, "methods", None)
            allowed |= set(_METHODS) if methods is None else set(methods)
    return [method for method in _METHODS if method in allowed]


def amend_openapi(app: FastAPI, amend: Callable[[dict[str, Any]], None]) -> None:
    """Have ``amend`` complete the application's OpenAPI document once, when FastAPI first
    builds it (FastAPI keeps the document once built)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        built = app.openapi_schema is not None
        spec = build()
        if not built:
            amend(spec)
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    """Register handlers so that no error leaves the API in another shape, and publish each
    operation's problems in the OpenAPI document."""

    amend_openapi(app, _document)

    @app.exception_handler(TriageError)
    async def _triage(_: Request, exc: TriageError) -> JSONResponse:
        status = status_of(exc)
        response = problem(status, exc.title, str(exc))
        if status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, TooManyAttempts):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                # A body that is not JSON at all is named "body", not by a character position.
                "field": "body"
                if e.get("type") == "json_invalid"
                else ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body",
                "problem": e["msg"],
            }
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['problem']}" for e in errors)
        return problem(422, "Invalid input", detail, errors=errors)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        response = problem(exc.status_code, _phrase(exc.status_code), str(exc.detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(_allowed(app, request))
        return response

    @app.exception_handler(DatabaseUnavailable)
    async def _database(request: Request, exc: DatabaseUnavailable) -> Response:
        return database_unavailable(exc, request.url.path)
