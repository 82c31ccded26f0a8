"""The witness's HTTP interface (C2SP tlog-witness): ``POST /add-checkpoint`` and the
monitoring read ``GET /<origin hash>/checkpoint``, with the server's root URL as both the
submission and the monitoring prefix.

There is no authentication (the spec's: the log's signature on the checkpoint is what
authenticates a request), so every input is bounded: a body over 64 KiB is refused with 413
before it is read in full. Bodies of errors are plain text saying what is wrong.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from triage.witness.errors import WitnessBusy
from triage.witness.keys import load_key
from triage.witness.service import MAX_REQUEST_BYTES, Witness
from triage.witness.store import WitnessStore


def create_app(directory: Path) -> Starlette:
    """The witness of ``directory`` (its key and database) as an ASGI application; the
    ``Witness`` it serves is ``app.state.witness``.

    The key is read now, so that a missing or unreadable key stops the server at start rather
    than at its first request.
    """
    witness = Witness(load_key(directory), WitnessStore(directory))

    async def home(request: Request) -> Response:
        return PlainTextResponse(witness.describe())

    async def add_checkpoint(request: Request) -> Response:
        too_large = PlainTextResponse(
            f"request body over {MAX_REQUEST_BYTES} bytes: an add-checkpoint request is a "
            "checkpoint and at most 63 proof hashes\n",
            status_code=413,
        )
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_REQUEST_BYTES):
            return too_large
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_REQUEST_BYTES:
                return too_large
        # SQLite and Ed25519 are blocking: off the event loop, one worker thread per request.
        try:
            answer = await run_in_threadpool(witness.add_checkpoint, bytes(body))
        except WitnessBusy as exc:
            return PlainTextResponse(f"{exc}\n", status_code=503, headers={"retry-after": "1"})
        return Response(
            answer.body, status_code=answer.status, headers={"content-type": answer.content_type}
        )

    async def checkpoint(request: Request) -> Response:
        hashed_origin = request.path_params["origin_hash"]
        found = await run_in_threadpool(witness.checkpoint, hashed_origin)
        if found is None:
            return PlainTextResponse(
                f"this witness has cosigned no checkpoint of a log whose origin hashes to "
                f"{hashed_origin!r} (lowercase hex SHA-256 of the origin)\n",
                status_code=404,
            )
        return PlainTextResponse(found)

    application = Starlette(
        routes=[
            Route("/", home, methods=["GET"]),
            Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
            Route("/{origin_hash}/checkpoint", checkpoint, methods=["GET"]),
        ]
    )
    application.state.witness = witness
    return application
