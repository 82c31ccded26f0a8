"""Waiting reads: a GET that the client may ask to hold until its answer changes, instead of
asking again and again (HTTP's conditional request, RFC 9110, with RFC 7240's ``Prefer:
wait``).

Every answer carries a strong ``ETag``, a digest of its body as sent. A request with
``If-None-Match`` naming the current tag is answered ``304 Not Modified``; with ``Prefer:
wait=N`` as well, it is held until the answer's tag differs (then ``200`` with the new body) or
N seconds have passed (then ``304``), and ``Preference-Applied: wait=N`` says the wait was
honoured. A read of something not there yet (the security log of a job before the tool has
read it) is held, with ``Prefer: wait``, until it is there, and answered as usual otherwise
(``404``). Without ``Prefer: wait`` the answer is the plain read's.

Who may read was checked before: the route's dependencies authenticate the caller (a tool's
signed request, an operator's token) once, and an error of the first read (404, 403) is
answered at once; a waiting request only reads again. The wait itself is awaited on the event
loop, never in a worker thread. Each read is quick (``routing.Quick``: on the event loop on
SQLite, in the thread pool on PostgreSQL), with a unit of work of its own, when the hub wakes
the request (``ChangeHub``: something it waits on was committed in this process) or every
``recheck`` seconds (a change made by another process).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.entrypoints.api import problems
from triage.entrypoints.api.routing import Quick
from triage.entrypoints.statuses import status_of
from triage.errors import NotFound

# The longest a request is held, whatever it asks: below the usual 30 s timeouts of clients
# and proxies, so that a held request is answered before anything gives up on it.
MAX_WAIT_SECONDS = 25.0
# How often a held request reads again when nothing in this process woke it (a change recorded
# by the CLI, or by another process of `triage serve --workers N`).
RECHECK_SECONDS = 1.0

JSON = "application/json"

# What the OpenAPI document says about a route that may hold its answer (the headers are read
# from the request, not declared as parameters: a client that sends neither gets the plain
# read).
WAITING_DOC = (
    "\n\nA waiting read: the answer has an `ETag`; send it back in `If-None-Match` with "
    f"`Prefer: wait=N` (seconds, at most {MAX_WAIT_SECONDS:g}) and the request is held until "
    "the answer changes (200) or N seconds have passed (304); `Preference-Applied` says when "
    "the wait was honoured."
)
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {
        "description": "Not Modified: the answer still has the ETag named in If-None-Match.",
        "headers": {"ETag": {"schema": {"type": "string"}}},
    }
}

# A reader: the answer's body as sent, or None when there is nothing to show yet.
Read = Callable[[], bytes | None]


def entity_tag(body: bytes) -> str:
    """The strong entity tag of an answer: a digest of its bytes, quoted."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def requested_wait(values: Iterable[str]) -> float | None:
    """The seconds a request asks to be held (``Prefer: wait=N``, RFC 7240), capped at
    ``MAX_WAIT_SECONDS``; None when it asks for no wait, or for one that cannot be read (a
    preference a server does not understand is ignored). Fractions of a second are taken."""
    for value in values:
        for preference in value.split(","):
            token, _, _parameters = preference.partition(";")
            name, equals, raw = token.partition("=")
            if name.strip().lower() != "wait" or not equals:
                continue
            try:
                seconds = float(raw.strip().strip('"'))
            except ValueError:
                return None
            if not math.isfinite(seconds) or seconds <= 0:
                return None
            return min(seconds, MAX_WAIT_SECONDS)
    return None


def named_tags(values: Iterable[str]) -> frozenset[str] | None:
    """The entity tags of ``If-None-Match`` (weak ones by their opaque tag, as the header's weak
    comparison says); None for ``*``, any answer at all."""
    tags: set[str] = set()
    for value in values:
        for item in value.split(","):
            tag = item.strip()
            if tag == "*":
                return None
            if tag.startswith("W/"):
                tag = tag[2:]
            if tag:
                tags.add(tag)
    return frozenset(tags)


class WaitingReads:
    """Answers the waiting reads of one application."""

    def __init__(self, application: App, recheck: float | None = None) -> None:
        self._hub = application.changes
        self._quick = Quick.of(application.database)
        self._recheck = RECHECK_SECONDS if recheck is None else recheck

    async def answer(
        self,
        request: Request,
        caller: Caller,
        read: Read,
        keys: Iterable[tuple[str, str]],
        missing: Callable[[], NotFound] | None = None,
    ) -> Response:
        """The answer of ``read`` (quick: ``routing.Quick``) as JSON with its ETag, held as the
        request asks while it is the one the client has (or, with ``missing``, not there yet:
        then the error ``missing`` makes is the answer)."""
        wait = requested_wait(request.headers.getlist("prefer"))
        tags = named_tags(request.headers.getlist("if-none-match"))
        if wait is None:
            return _response(await self._quick.read(read), tags, missing, None)
        with self._hub.wait_on(keys, f"{caller.kind.value}:{caller.id}") as waiter:
            body = await self._quick.read(read)
            if waiter is None:  # too many wait, or the server is stopping: a plain read
                return _response(body, tags, missing, None)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + wait
            with _watching_for_disconnect(request, waiter.wake) as gone:
                while _unchanged(body, tags) and not gone() and not self._hub.closed:
                    left = deadline - loop.time()
                    if left <= 0:
                        break
                    await waiter.woken(min(left, self._recheck))
                    if gone():
                        break
                    waiter.rearm()
                    body = await self._quick.read(read)
        return _response(body, tags, missing, wait)


def _unchanged(body: bytes | None, tags: frozenset[str] | None) -> bool:
    """Whether the client already has this answer: nothing there yet, or a tag it named."""
    if body is None:
        return True
    return tags is None or entity_tag(body) in tags


def _response(
    body: bytes | None,
    tags: frozenset[str] | None,
    missing: Callable[[], NotFound] | None,
    waited: float | None,
) -> Response:
    headers = {} if waited is None else {"Preference-Applied": f"wait={waited:g}"}
    if body is None:
        if missing is None:
            raise RuntimeError("a read that may find nothing needs its NotFound")
        error = missing()
        found = problems.problem(status_of(error), error.title, str(error))
        found.headers.update(headers)
        return found
    tag = entity_tag(body)
    headers["ETag"] = tag
    if tags is None or tag in tags:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=JSON, headers=headers)


@contextlib.contextmanager
def _watching_for_disconnect(
    request: Request, wake: Callable[[], None]
) -> Iterator[Callable[[], bool]]:
    """Whether the client has gone (a callable), watched for the block: a held request whose
    client disconnected is not held any longer (``wake`` is called when it goes)."""
    gone = False

    async def watch() -> None:
        nonlocal gone
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                gone = True
                wake()
                return

    task = asyncio.get_running_loop().create_task(watch())
    try:
        yield lambda: gone
    finally:
        task.cancel()
