"""Who is calling the API: an operator by bearer token or by web session, and what they may do.

One dependency for every operator endpoint. A bearer token is checked as issued (scopes, expiry,
revocation, bench). A web session comes from the session cookie; because a browser sends
cookies by itself, a request that changes state must also carry the session's CSRF token
(``triage.entrypoints.sessions``).

The dependency reads the ``Authorization`` header and the session cookie itself, and a request
is authenticated once however many of a route's dependencies ask for its operator (the result
is kept in the request's scope): FastAPI solves every sub-dependency of a route anew on each
request, and the bearer and cookie schemes as sub-dependencies, with a permission's check as a
third level, made eight trees a guarded request (measured in process: 30 to 40 µs a request,
against about 100 for the token's two reads). The OpenAPI document still names both
schemes, for exactly the operations whose route asks for the operator (``document``).
"""

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import APIKeyCookie, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.entrypoints.api.routing import Quick
from triage.entrypoints.sessions import CSRF_HEADER, SESSION_COOKIE, changes_state, csrf_matches
from triage.errors import PermissionDenied, Unauthenticated
from triage.services import auth, tokens

# The two ways to authenticate, as the OpenAPI document describes them (``document``); the
# dependency below reads the header and the cookie itself, as these schemes would.
_bearer = HTTPBearer(auto_error=False, description="An operator's API token.")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="A web session (from POST /api/v1/auth/login); changes need X-CSRF-Token.",
)

# What the OpenAPI document says each route needs, under this key: a Permission value, or
# "tool" (a signed agent request), "self" (any signed-in operator, about their own account),
# "service" (the service decides, from several permissions) or "public". The access test reads
# it and tries every route with every role.
ACCESS_KEY = "x-access"

# In a request's scope: the operator it was authenticated as, once it has been.
_AUTHENTICATED = "triage.operator"


class _Operator:
    """The dependency giving the authenticated operator of one application, or 401/403; with a
    ``permission``, only an operator holding it (403 otherwise).

    However many of them a route has (a permission required of the route, the caller asked for
    by its endpoint), the request is authenticated once: the first keeps the operator in the
    request's scope for the others.
    """

    def __init__(self, application: App, permission: Permission | None = None) -> None:
        self._application = application
        self._permission = permission
        self._quick = Quick.of(application.database)

    async def __call__(self, request: Request) -> Caller:
        caller: Caller | None = request.scope.get(_AUTHENTICATED)
        if caller is None:
            caller = await self._authenticate(request)
            request.scope[_AUTHENTICATED] = caller
        if self._permission is not None:
            caller.require(self._permission)
        return caller

    async def _authenticate(self, request: Request) -> Caller:
        uow = self._application.uow
        # As HTTPBearer reads it: another scheme, or none, is no token (the session may still be).
        scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
        if scheme.lower() == "bearer" and token:
            # Two indexed reads and nothing written: quick (routing.Quick).
            return await self._quick.read(tokens.authenticate_token, uow, token)
        session = request.cookies.get(SESSION_COOKIE)
        if session:
            # A session is touched (written) now and then: in the thread pool.
            found = await run_in_threadpool(auth.authenticate_session, uow, session)
            if changes_state(request.method) and not csrf_matches(
                request.headers.get(CSRF_HEADER, ""), found.csrf_token
            ):
                raise PermissionDenied(
                    f"this request changes state and needs the session's CSRF token in the "
                    f"{CSRF_HEADER} header"
                )
            return found.caller
        raise Unauthenticated(
            "sign in (POST /api/v1/auth/login) or send an API token as 'Authorization: Bearer ...'"
        )


def operator_dependency(application: App) -> Callable[..., Awaitable[Caller]]:
    """A FastAPI dependency giving the authenticated operator, or 401/403."""
    return _Operator(application)


def permission_dependency(
    application: App, permission: Permission
) -> Callable[..., Awaitable[Caller]]:
    """A dependency giving the operator only when they hold ``permission``."""
    return _Operator(application, permission)


def requires(application: App, permission: Permission) -> dict[str, Any]:
    """Route options: refuse before anything else unless the caller holds ``permission``.

    Checked before the body is read, so a caller without the permission learns nothing from
    validation errors; and published in the OpenAPI document under ``x-access``.
    """
    return {
        "dependencies": [Depends(permission_dependency(application, permission))],
        "openapi_extra": {ACCESS_KEY: permission.value},
    }


def access(kind: str) -> dict[str, Any]:
    """Route options for routes not guarded by one permission: 'tool', 'self' (one's own
    account), 'service' (the service decides from several permissions) or 'public'."""
    if kind not in ("tool", "self", "service", "public"):
        raise ValueError(f"access kind {kind!r}")
    return {"openapi_extra": {ACCESS_KEY: kind}}


def _asks_for_operator(dependant: Dependant) -> bool:
    return any(
        isinstance(d.call, _Operator) or _asks_for_operator(d) for d in dependant.dependencies
    )


def document(spec: dict[str, Any], routes: Iterable[BaseRoute]) -> None:
    """Name the two ways to authenticate in ``spec`` (the OpenAPI document of ``routes``) and,
    for each operation whose route asks for the operator, that either will do."""
    schemes = {scheme.scheme_name: scheme.model for scheme in (_bearer, _cookie)}
    components = spec.setdefault("components", {})
    components["securitySchemes"] = {
        name: model.model_dump(mode="json", by_alias=True, exclude_none=True)
        for name, model in schemes.items()
    }
    paths = spec.get("paths", {})
    for route in routes:
        if not (isinstance(route, APIRoute) and route.include_in_schema):
            continue
        if not _asks_for_operator(route.dependant):
            continue
        for method in route.methods or ():
            operation = paths.get(route.path_format, {}).get(method.lower())
            if operation is not None:
                operation["security"] = [{name: []} for name in schemes]
