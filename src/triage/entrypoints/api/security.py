"""Who is calling the API: an operator by bearer token or by web session, and what they may do.

One dependency for every operator endpoint. A bearer token is checked as issued (scopes, expiry,
revocation, bench). A web session comes from the ``triage_session`` cookie; because a browser
sends cookies by itself, a request that changes state must also carry the session's CSRF token
in the ``X-CSRF-Token`` header (or the ``csrf_token`` form field of a server-rendered page).
"""

import hmac
import weakref
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.errors import PermissionDenied, Unauthenticated
from triage.services import people

SESSION_COOKIE = "triage_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="An operator's API token.")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="A web session (from POST /api/v1/auth/login); changes need X-CSRF-Token.",
)


# One dependency per application, so that FastAPI's per-request cache authenticates once even
# when a route both requires a permission and asks for the caller. Keyed by id (App is not
# hashable); an entry goes when its application does, so an id reused later finds nothing.
_OPERATORS: dict[int, Callable[..., Caller]] = {}

# What the OpenAPI document says each route needs, under this key: a Permission value, or
# "tool" (a signed agent request), "self" (any signed-in operator, about their own account),
# "service" (the service decides, from several permissions) or "public". The access test reads
# it and tries every route with every role.
ACCESS_KEY = "x-access"


def operator_dependency(application: App) -> Callable[..., Caller]:
    """A FastAPI dependency giving the authenticated operator, or 401/403."""
    key = id(application)
    found = _OPERATORS.get(key)
    if found is None:
        found = _OPERATORS[key] = _operator_dependency(application)
        weakref.finalize(application, _OPERATORS.pop, key, None)
    return found


def _operator_dependency(application: App) -> Callable[..., Caller]:
    uow = application.uow

    def operator(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        session: Annotated[str | None, Depends(_cookie)],
    ) -> Caller:
        if credentials is not None:
            if credentials.scheme.lower() != "bearer":
                raise Unauthenticated("send an operator's API token as 'Authorization: Bearer ...'")
            return people.authenticate_token(uow, credentials.credentials)
        if session:
            from triage.services import auth  # the login use cases

            found = auth.authenticate_session(uow, session)
            if request.method.upper() not in SAFE_METHODS:
                sent = request.headers.get(CSRF_HEADER, "")
                if not sent or not hmac.compare_digest(sent, found.csrf_token):
                    raise PermissionDenied(
                        f"this request changes state and needs the session's CSRF token in the "
                        f"{CSRF_HEADER} header"
                    )
            return found.caller
        raise Unauthenticated(
            "sign in (POST /api/v1/auth/login) or send an API token as 'Authorization: Bearer ...'"
        )

    return operator


def permission_dependency(application: App, permission: Permission) -> Callable[..., Caller]:
    """A dependency giving the operator only when they hold ``permission``."""
    operator = operator_dependency(application)

    def allowed(caller: Annotated[Caller, Depends(operator)]) -> Caller:
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
