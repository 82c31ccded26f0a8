"""The API's routes: a plain (synchronous) endpoint runs in the thread pool once per request,
and its answer is checked and written on the event loop.

FastAPI runs a plain ``def`` endpoint in its thread pool, and then, because the endpoint was
not a coroutine, sends the check of its answer against the response model to the thread pool
too: two hand-offs to a worker thread and back for every request, each waking a thread and
passing the interpreter's lock between threads, which cost more CPU than the check itself (a
few microseconds in pydantic's compiled core). ``ThreadedRoute`` hands such an endpoint to the
thread pool itself, as a coroutine FastAPI awaits: one hand-off, and the answer is checked,
exactly as before, on the event loop. What the endpoint receives, what it may raise and how its
answer is checked and encoded are unchanged.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool


def in_thread_pool(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint`` as a coroutine running it in the thread pool, when it is a plain function;
    anything else (a coroutine, a generator) unchanged. The coroutine keeps the endpoint's
    signature, annotations and attributes (``functools.wraps``), which FastAPI reads to build
    the route (FastAPI follows ``__wrapped__`` for the parameters and their module)."""
    if not inspect.isfunction(endpoint) or (
        inspect.iscoroutinefunction(endpoint)
        or inspect.isgeneratorfunction(endpoint)
        or inspect.isasyncgenfunction(endpoint)
    ):
        return endpoint

    @functools.wraps(endpoint)
    async def threaded(**values: Any) -> Any:
        return await run_in_threadpool(endpoint, **values)

    return threaded


class ThreadedRoute(APIRoute):
    """An API route whose plain endpoint costs one hand-off to the thread pool, not two."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, in_thread_pool(endpoint), **kwargs)
