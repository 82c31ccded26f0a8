"""How large a request body may be, declared on the route that reads it, and reading one
within that limit; for the API's routes and the pages alike.

Every route accepts ``DEFAULT_BODY_LIMIT``; a route that takes a file says how much more with
``@body_limit(...)`` under its route decorator. The hardening middleware refuses a larger body
before the route runs, from the route's own declaration.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.requests import Request
from starlette.routing import BaseRoute

from triage.errors import InvalidInput

KiB = 1024
MiB = 1024 * KiB

# JSON bodies and web forms: the largest is a receipt pasted on the auditor's page, a few
# hundred KiB for a long-lived device.
DEFAULT_BODY_LIMIT = 1 * MiB

_ATTRIBUTE = "body_limit"
Endpoint = TypeVar("Endpoint", bound=Callable[..., object])


def body_limit(limit: int) -> Callable[[Endpoint], Endpoint]:
    """Declare that the route of this endpoint accepts bodies up to ``limit`` bytes."""

    def declare(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _ATTRIBUTE, limit)
        return endpoint

    return declare


def declared_limit(route: BaseRoute) -> int | None:
    """The body limit a route declared, if it declared one."""
    limit = getattr(getattr(route, "endpoint", None), _ATTRIBUTE, None)
    return limit if isinstance(limit, int) else None


async def limited_body(request: Request, limit: int) -> bytes:
    """The request body, refused before it is read past ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise InvalidInput(f"body: larger than {limit} bytes")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InvalidInput(f"body: larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
