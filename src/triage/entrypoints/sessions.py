"""The web session as HTTP carries it, for the API and the pages alike: the cookie that holds
its secret, and the CSRF token a request that changes state must send back with it.

A browser sends cookies by itself, so a cookie alone never authorises a change: the API wants
the session's CSRF token in the ``X-CSRF-Token`` header, a server-rendered form in its
``csrf_token`` field.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE = "triage_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def session_secret(request: Request) -> str | None:
    """The session secret the request's cookie carries, if any."""
    return request.cookies.get(SESSION_COOKIE) or None


def open_session(response: Response, secret: str, lifetime: timedelta) -> None:
    """Give the browser the session's cookie: sent back over HTTPS only, never to scripts,
    never with a request from another site, and gone when the session could no longer last
    (``lifetime``: the setting ``session_absolute_timeout``)."""
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(lifetime.total_seconds()),
        path="/",
        secure=True,
        httponly=True,
        samesite="strict",
    )


def close_session(response: Response) -> None:
    """Tell the browser to forget the session's cookie."""
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True)


def changes_state(method: str) -> bool:
    """Whether a request of this method may change something (and so needs the CSRF token)."""
    return method.upper() not in SAFE_METHODS


def csrf_matches(sent: str, expected: str) -> bool:
    """Whether the CSRF token sent is the session's (compared in constant time)."""
    return bool(sent) and hmac.compare_digest(sent.encode(), expected.encode())
