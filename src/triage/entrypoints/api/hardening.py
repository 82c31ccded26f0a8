"""HTTP hardening in front of everything the server answers (API, pages, static files, errors):
security headers on every response, request bodies refused past the limit their route declares
(``triage.entrypoints.request_bodies``) before the application reads them, and the client's
address taken from the socket unless a trusted proxy forwarded it.

A pure ASGI middleware, so that it sees the raw request: a declared ``Content-Length`` over the
limit is answered 413 before the application runs at all, and a body sent without one (chunked)
is counted as it streams in and cut off with 413 as soon as it passes the limit, so a client
cannot make the server buffer more than the limit. (Starlette's own RequestBodyLimitMiddleware
runs the application until it reads, and answers in plain text.)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from triage.config import Network, trusted_networks
from triage.entrypoints.api.problems import error_page, for_a_page, problem
from triage.entrypoints.request_bodies import DEFAULT_BODY_LIMIT, KiB, MiB, declared_limit

# The headers every response carries. Content-Security-Policy is set only where the response
# has none: the web pages send their own (scripts and styles from this site, nothing from
# elsewhere); everything else (JSON, PDF, images, redirects) needs to load nothing at all.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
DEFAULT_POLICY = "default-src 'none'; frame-ancestors 'none'"
# Answers are about people, devices and keys, often behind a token or a session: no cache keeps
# them (a bench tablet is shared). Only the stylesheet may be cached.
NO_STORE = "no-store"
CACHEABLE_PREFIX = "/static/"
# The ledger's tile API (C2SP tlog-tiles) says itself how long an answer may be kept: a tile
# never changes and is meant to be cached (privately when it needs a token); its errors are not.
OWN_CACHING_PREFIX = "/api/v1/ledger/tlog/"
# Strict-Transport-Security only on a request that came over HTTPS (uvicorn with TLS, or a
# proxy trusted with --proxy-headers): `triage serve` speaks plain HTTP on loopback, where the
# header means nothing (RFC 6797 8.1: browsers ignore it over HTTP) and would wrongly pin
# "localhost" to HTTPS for every other program served there.
HSTS = "max-age=31536000"


class _BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes its limit; as an HTTPException it
    passes through FastAPI's body parsing unchanged and becomes a 413 problem."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _too_large(limit), {"Connection": "close"})


def _too_large(limit: int) -> str:
    size = f"{limit // MiB} MiB" if limit % MiB == 0 else f"{limit // KiB} KiB"
    return f"body: larger than {size}, the most this endpoint accepts"


class Hardening:
    """Security headers on every response; request bodies refused past their limit."""

    def __init__(
        self,
        app: ASGIApp,
        default_limit: int = DEFAULT_BODY_LIMIT,
        routes: Iterable[BaseRoute] = (),
    ) -> None:
        """``routes``: the application's routes, of which those that declare a body limit
        (``request_bodies.body_limit``) get theirs; every other request gets the default."""
        self.app = app
        self.default_limit = default_limit
        # Each with the literal start of its path (up to its first parameter): a request whose
        # path does not start so is not the route's, found without asking the route (which
        # costs a regular expression and FastAPI's bookkeeping, on every request).
        self.declared = tuple(
            (route, limit, str(getattr(route, "path", "")).split("{", 1)[0])
            for route in routes
            if (limit := declared_limit(route)) is not None
        )
        # The methods those routes answer (None: one answers any): a request by another method
        # matches none of them, and gets the default without trying each (on every request).
        methods: set[str] | None = set()
        for route, _, _ in self.declared:
            answers = getattr(route, "methods", None)
            methods = None if methods is None or answers is None else methods | set(answers)
        self.declared_methods = None if methods is None else frozenset(methods)

    def limit_for(self, scope: Scope) -> int:
        """The largest body accepted for a request: what its route declared, else the default."""
        if self.declared_methods is not None and scope["method"] not in self.declared_methods:
            return self.default_limit
        # The path the routes see: behind a proxy's prefix (root_path), without it.
        path, root = scope["path"], scope.get("root_path", "")
        path = path[len(root) :] if root and path.startswith(root) else path
        for route, limit, start in self.declared:
            if path.startswith(start) and route.matches(scope)[0] is Match.FULL:
                return limit
        return self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        started = False
        exceeded = False

        async def send_hardened(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                if exceeded and message["status"] != 413:
                    # The application turned the cut-off body into another answer.
                    raise _BodyTooLarge(limit)
                started = True
                _harden(MutableHeaders(scope=message), scope)
            await send(message)

        # (A malformed length never gets here: the HTTP server refuses it.)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _answer(scope, send, 413, _too_large(limit))
            return

        received = 0

        async def receive_counted() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise _BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _BodyTooLarge(limit)
            return message

        try:
            await self.app(scope, receive_counted, send_hardened)
        except Exception:
            if started:
                raise
            if exceeded:
                await _answer(scope, send, 413, _too_large(limit))
                return
            # Never a stack trace or a plain-text page: a problem, with the headers; the error
            # then goes on to the server, which logs it.
            await _answer(
                scope, send, 500, "The server failed to answer; the error has been logged."
            )
            raise


def _harden(headers: MutableHeaders, scope: Scope) -> None:
    for name, value in SECURITY_HEADERS.items():
        headers[name] = value
    if "content-security-policy" not in headers:
        headers["Content-Security-Policy"] = DEFAULT_POLICY
    path = scope["path"]
    own = path.startswith(OWN_CACHING_PREFIX) and "cache-control" in headers
    if not path.startswith(CACHEABLE_PREFIX) and not own:
        headers["Cache-Control"] = NO_STORE
    if scope.get("scheme") == "https":
        headers["Strict-Transport-Security"] = HSTS


async def _answer(scope: Scope, send: Send, status: int, detail: str) -> None:
    titles = {413: "Content too large", 500: "Internal server error"}
    # A person's browser gets a page; everything else a problem document.
    page = for_a_page(scope["path"])
    response = (error_page if page else problem)(status, titles[status], detail)
    _harden(response.headers, scope)
    if status != 500:
        # The rest of the body is never read: the connection cannot carry another request.
        response.headers["Connection"] = "close"

    async def nothing() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, nothing, send)


# -- the client's address ---------------------------------------------------------------------


class ClientAddress:
    """The client's address is the socket's peer, unless that peer is a trusted proxy.

    Sign-in failures are counted and locked per address, and the address is recorded in the
    ledger: a header anyone can write must not choose it. Only when the peer is one of
    ``trusted`` (Settings.trusted_proxies) is ``X-Forwarded-For`` read, from the right: each
    proxy appends the address it received from, so the right-most address that is not itself
    a trusted proxy is the client; anything left of it was written by the client and is
    ignored. ``X-Forwarded-Proto`` from a trusted proxy likewise gives the scheme. (uvicorn's
    own proxy-header handling, which believes any loopback peer, is switched off by ``serve``.)
    """

    def __init__(self, app: ASGIApp, trusted: Iterable[str] = ()) -> None:
        self.app = app
        self.trusted = trusted_networks(tuple(trusted))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.trusted and scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            if client and _within(client[0], self.trusted):
                headers = Headers(scope=scope)
                forwarded = client_from_forwarded(headers.getlist("x-forwarded-for"), self.trusted)
                scope = dict(scope)
                if forwarded is not None:
                    scope["client"] = (forwarded, 0)
                proto = headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
                if proto in ("http", "https"):
                    scope["scheme"] = proto if scope["type"] == "http" else f"ws{proto[4:]}"
        await self.app(scope, receive, send)


def client_from_forwarded(values: Iterable[str], trusted: tuple[Network, ...]) -> str | None:
    """The right-most address in X-Forwarded-For that is not a trusted proxy; None when the
    header names no valid address before (to the right of) a malformed one."""
    hops = [hop.strip() for value in values for hop in value.split(",")]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return None  # garbage from here leftwards was not written by our proxies
        if not _within(address, trusted):
            return address
    return None


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _within(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)
