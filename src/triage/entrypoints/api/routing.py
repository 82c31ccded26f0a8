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

The device path's endpoints are quick (``Quick``): a few indexed reads and at most one short
write each. Handing them to a worker thread cost more than running them: the hand-off, and then
the worker and the event loop passing the interpreter's lock back and forth at every statement
(the driver releases it for each), each pass waiting up to the switch interval while the other
thread runs. Measured with 6 benches and 6 agents on SQLite: 52 ms of server CPU a device in the
thread pool, 34 ms on the event loop, and a step's p50 from 33 to 11 ms. A quick endpoint runs on
the event loop when the facility's writer lock is free, holding it for the call, so the event
loop never waits for a writer of its own process; when a thread holds it (an import, a
scheduled job), the endpoint goes to the thread pool as any other and waits there. On SQLite
only: a PostgreSQL statement is a round trip to the server, and the event loop would wait out
every one of them (measured: 16 % less server CPU a device, but fewer devices a second, the
tool's turnarounds 290 ms instead of 160).

A quick read (``Quick.read``: a token's check, a waiting read's re-read) takes no lock at all:
SQLite's readers never wait for its writer, and a read that holds the writer lock would keep
the writers of other processes (``triage serve --workers N``) waiting for nothing. Within it the
lock refuses to be taken, so a read that would write fails at once instead of waiting on the
event loop.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, ParamSpec, Protocol, TypeVar

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

# How long quick work awaits another process's writer on the event loop (``Quick.run``) before
# it goes to the thread pool and waits there.
_LONGEST_AWAIT_S = 1.0

P = ParamSpec("P")
T = TypeVar("T")
E = TypeVar("E", bound=Callable[..., Any])

# The attribute naming the Quick that runs an endpoint (set by ``Quick.__call__``).
_QUICK = "__triage_quick__"


class Lock(Protocol):
    """A writer lock (``adapters.database.WriterLock``)."""

    async def take_soon(self, within: float) -> bool | None:
        """Taken (True); held by a thread of this process (False); or by another process still
        after ``within`` seconds of trying again (None)."""
        ...

    def release(self) -> None: ...

    def reading(self) -> AbstractContextManager[None]:
        """A block of the calling thread in which the lock may not be taken."""
        ...


class Writers(Protocol):
    """What ``Quick.of`` needs of a database (``adapters.database.Database``)."""

    @property
    def write_lock(self) -> Lock: ...

    @property
    def dialect(self) -> str: ...


class Quick:
    """Runs quick synchronous work on the event loop while ``lock`` (the facility's writer
    lock, ``Database.write_lock``) is free, holding it meanwhile; in the thread pool otherwise,
    or always when not ``inline`` (``of``: on PostgreSQL).

    Quick means bounded by a few indexed reads and one short write transaction: never a
    password hash, a report, a file or a loop over many rows. Used as a decorator (under the
    route decorator) it marks an endpoint so; ``run`` runs one call so.
    """

    def __init__(self, lock: Lock, inline: bool = True) -> None:
        self._lock = lock
        self.inline = inline

    @classmethod
    def of(cls, database: Writers) -> Quick:
        """Quick work on ``database``: on the event loop on SQLite, never on PostgreSQL."""
        return cls(database.write_lock, inline=database.dialect == "sqlite")

    def __call__(self, endpoint: E) -> E:
        setattr(endpoint, _QUICK, self)
        return endpoint

    async def run(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``func(*args, **kwargs)``, on the event loop if the lock is free at once, or once
        another process lets go of it (awaited, for a while); in the thread pool when a thread
        of this process holds it, or another process keeps it."""
        if self.inline and await self._lock.take_soon(_LONGEST_AWAIT_S):
            try:
                return func(*args, **kwargs)
            finally:
                self._lock.release()
        return await run_in_threadpool(func, *args, **kwargs)

    async def read(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``func(*args, **kwargs)``, which only reads: on the event loop without the lock when
        ``inline``, in the thread pool otherwise. Should it try to write, the lock refuses
        (RuntimeError) instead of being waited for."""
        if self.inline:
            with self._lock.reading():
                return func(*args, **kwargs)
        return await run_in_threadpool(func, *args, **kwargs)


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

    quick: Quick | None = getattr(endpoint, _QUICK, None)
    run = run_in_threadpool if quick is None else quick.run

    @functools.wraps(endpoint)
    async def threaded(**values: Any) -> Any:
        return await run(endpoint, **values)

    return threaded


class ThreadedRoute(APIRoute):
    """An API route whose plain endpoint costs one hand-off to the thread pool, not two; none
    when it is quick (``Quick``) and the writer lock is free."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, in_thread_pool(endpoint), **kwargs)
