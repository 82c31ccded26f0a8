"""The ledger's read API per C2SP tlog-tiles: checkpoint, hash tiles and entry bundles.

Under ``/api/v1/ledger/tlog`` (the log's *prefix*): ``checkpoint``, ``tile/<L>/<N>[.p/<W>]`` and
``tile/entries/<N>[.p/<W>]``, paths exactly as https://c2sp.org/tlog-tiles writes them. Tiles
and bundles are immutable and cached for long; the checkpoint for a few seconds. Readable with
the token of who may read assurance data, or by anyone when ``TRIAGE_TLOG_PUBLIC`` is on: then
the routes are declared public in the OpenAPI document and no token is looked at.
"""

from __future__ import annotations

import gzip
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.entrypoints.api import problems
from triage.entrypoints.api.routing import ThreadedRoute
from triage.entrypoints.api.security import access, operator_dependency, requires
from triage.errors import NotFound
from triage.services import tlog

PREFIX = "/api/v1/ledger/tlog"
TILE_MEDIA_TYPE = "application/octet-stream"
CHECKPOINT_MEDIA_TYPE = "text/plain; charset=utf-8"
# A tile never changes: a year, and "immutable" so that a browser does not even revalidate.
IMMUTABLE_SECONDS = 365 * 24 * 3600
# The checkpoint changes with every new one: C2SP asks for caching of a few seconds at most.
CHECKPOINT_SECONDS = 5
T = TypeVar("T")

Index = Annotated[
    str,
    Path(
        description="The tile index as C2SP writes it: three-digit groups, all but the last "
        "starting with `x` (1234067 is `x001/x234/067`), then `.p/<W>` for a partial tile of "
        "W (1 to 255) hashes or entries.",
    ),
]
Level = Annotated[str, Path(description="The tile level, 0 to 63 (0: leaf hashes).")]


def build_tlog_router(application: App) -> APIRouter:
    """The tile read API of one facility's ledger."""
    router = APIRouter(prefix=PREFIX, tags=["tlog"], route_class=ThreadedRoute)
    uow = application.uow
    public = application.settings.tlog_public
    served = tlog.ServedTiles()
    visibility = "public" if public else "private"
    immutable = f"{visibility}, max-age={IMMUTABLE_SECONDS}, immutable"
    if public:
        guard = access("public")
        reader: Callable[..., Awaitable[Caller | None]] = _nobody
    else:
        guard = requires(application, Permission.ASSURANCE_READ)
        reader = operator_dependency(application)
    who = Depends(reader)
    binary: dict[int | str, dict[str, Any]] = {
        200: {"content": {TILE_MEDIA_TYPE: {}}, "description": "The tile's bytes."},
        **problems.responses(400),
    }

    @router.get(
        "/checkpoint",
        response_class=Response,
        responses={200: {"content": {CHECKPOINT_MEDIA_TYPE: {}}}, **problems.responses(404)},
        **guard,
    )
    def checkpoint(caller: Caller | None = who) -> Response:
        """The published checkpoint: the latest signed one, a C2SP signed note, with the
        witnesses' cosignatures gathered for it."""
        text = _beyond_uncached(lambda: tlog.checkpoint(uow, caller))
        if isinstance(text, Response):
            return text
        return Response(
            text.encode("utf-8"),
            media_type=CHECKPOINT_MEDIA_TYPE,
            headers={"Cache-Control": f"{visibility}, max-age={CHECKPOINT_SECONDS}"},
        )

    # Before the hash tiles: "entries" would otherwise be read as a level.
    @router.get(
        "/tile/entries/{index:path}",
        response_class=Response,
        responses={**binary, **problems.responses(501)},
        **guard,
    )
    def entry_bundle(index: Index, request: Request, caller: Caller | None = who) -> Response:
        """An entry bundle: the entries of a level-0 tile, each behind its big-endian uint16
        length; gzip-compressed when the client accepts gzip."""
        number, width = tlog.parse_index(index)
        data = _beyond_uncached(lambda: tlog.entry_bundle(uow, caller, number, width, served))
        if isinstance(data, Response):
            return data
        headers = {"Cache-Control": immutable, "Vary": "Accept-Encoding"}
        if _accepts_gzip(request.headers.get("accept-encoding", "")):
            data = _compressed(served, number, width, data)
            headers["Content-Encoding"] = "gzip"
        return Response(data, media_type=TILE_MEDIA_TYPE, headers=headers)

    @router.get(
        "/tile/entries-u32/{index:path}", response_class=Response, responses=binary, **guard
    )
    def wide_entry_bundle(index: Index, request: Request, caller: Caller | None = who) -> Response:
        """The same entry bundle with each entry behind a big-endian uint32 length: for a
        bundle holding an entry over 64 KiB, which the C2SP form answers 501 for (not part of
        C2SP tlog-tiles, which lets a log serve other forms at other URLs)."""
        number, width = tlog.parse_index(index)
        data = _beyond_uncached(
            lambda: tlog.entry_bundle(uow, caller, number, width, served, wide=True)
        )
        if isinstance(data, Response):
            return data
        headers = {"Cache-Control": immutable, "Vary": "Accept-Encoding"}
        if _accepts_gzip(request.headers.get("accept-encoding", "")):
            data = _compressed(served, number, width, data, wide=True)
            headers["Content-Encoding"] = "gzip"
        return Response(data, media_type=TILE_MEDIA_TYPE, headers=headers)

    @router.get("/tile/{level}/{index:path}", response_class=Response, responses=binary, **guard)
    def hash_tile(level: Level, index: Index, caller: Caller | None = who) -> Response:
        """A hash tile: 256 consecutive Merkle tree hashes of one level (fewer when partial)."""
        at = tlog.parse_level(level)
        number, width = tlog.parse_index(index)
        data = _beyond_uncached(lambda: tlog.hash_tile(uow, caller, at, number, width, served))
        if isinstance(data, Response):
            return data
        return Response(data, media_type=TILE_MEDIA_TYPE, headers={"Cache-Control": immutable})

    return router


async def _nobody() -> None:
    """The caller of a public route: nobody needs to be signed in (a coroutine, as the
    operator's dependency is: no hand-off to the thread pool for nothing)."""
    return None


def _beyond_uncached(read: Callable[[], T]) -> T | Response:
    """What ``read`` gives, or its 404 as a problem no cache keeps: what is beyond today's
    checkpoint is published later, under the same path."""
    try:
        return read()
    except NotFound as exc:
        response = problems.problem(404, exc.title, str(exc))
        response.headers["Cache-Control"] = "no-store"
        return response


def _accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header allows gzip: named (or ``*``) and not with q=0."""
    allowed: dict[str, bool] = {}
    for item in header.split(","):
        name, *params = (part.strip() for part in item.split(";"))
        if name:
            allowed[name.lower()] = all(_quality(p) != 0 for p in params)
    return allowed.get("gzip", allowed.get("x-gzip", allowed.get("*", False)))


def _quality(param: str) -> float | None:
    """The q value of an Accept-Encoding parameter (None: another parameter, or unreadable)."""
    key, _, value = param.partition("=")
    if key.strip().lower() != "q":
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _compressed(
    served: tlog.ServedTiles, index: int, width: int | None, data: bytes, wide: bool = False
) -> bytes:
    """The bundle gzip-compressed; a full bundle's compressed form is kept, as it never changes."""
    if width is not None:
        return gzip.compress(data, mtime=0)
    key = ("entries-u32.gz" if wide else "entries.gz", index)
    kept = served.get(key)
    if kept is None:
        kept = gzip.compress(data, mtime=0)
        served.put(key, kept)
    return kept
