"""Who is calling the API: an operator by bearer token or by web session, and what they may do.

One dependency for every operator endpoint. A bearer token is checked as issued (scopes, expiry,
revocation, bench). A web session comes from the session cookie; because a browser sends
cookies by itself, a request that changes state must also carry the session's CSRF token
(``triage.entrypoints.sessions``).
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.entrypoints.api.routing import Quick
from triage.entrypoints.sessions import CSRF_HEADER, SESSION_COOKIE, changes_state, csrf_matches
from triage.errors import PermissionDenied, Unauthenticated
from triage.services import auth, tokens

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


class _Operator:
    """The dependency giving the authenticated operator of one application, or 401/403.

    Two of them for the same application are equal, so that FastAPI's per-request cache
    authenticates once even when a route both requires a permission and asks for the caller.
    """

    def __init__(self, application: App) -> None:
        self._application = application
        self._quick = Quick.of(application.database)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Operator) and other._application is self._application

    def __hash__(self) -> int:
        return object.__hash__(self._application)  # by identity, as __eq__ compares

    async def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        session: Annotated[str | None, Depends(_cookie)],
    ) -> Caller:
        uow = self._application.uow
        if credentials is not None:
            if credentials.scheme.lower() != "bearer":
                raise Unauthenticated("send an operator's API token as 'Authorization: Bearer ...'")
            # Two indexed reads and nothing written: quick (routing.Quick).
            return await self._quick.read(tokens.authenticate_token, uow, credentials.credentials)
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
    operator = operator_dependency(application)

    # A coroutine, though it does no I/O: FastAPI runs a plain function dependency in its
    # thread pool, a hand-off (and back) costing more than the check itself on every request.
    async def allowed(caller: Annotated[Caller, Depends(operator)]) -> Caller:
        caller.require(permission)
        return caller

    return allowed


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
