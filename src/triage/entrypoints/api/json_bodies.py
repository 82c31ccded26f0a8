"""JSON request bodies checked before any route parses them: nested at most ``MAX_DEPTH`` deep
and holding only valid text.

FastAPI parses a JSON body itself, before the route and its model run: a body nested deeper
than Python's recursion limit became an unexplained 400, one nested a few hundred levels deep
reached the route, and a lone surrogate (``"\\ud800"``) in any text field reached the ledger,
where it cannot be written as UTF-8. Here every such body is refused first, 422 with the
place named, whatever route it was sent to. Bodies that are not JSON at all are left to the
route, which says so in its own words.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from triage.domain.bounded import NestedTooDeep, NotValidText, load_json
from triage.entrypoints.api.problems import problem

# Bodies larger than this are files (manifests, evidence uploads) that their routes read with
# their own bounded parsers; JSON bodies are far smaller.
CHECKED_UP_TO = 4 * 1024 * 1024


class BoundedJson:
    """Refuses (422) a JSON body nested too deep or holding a lone surrogate; passes the rest
    on unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _json_body(scope["method"], Headers(scope=scope)):
            await self.app(scope, receive, send)
            return
        held: list[Message] = []
        size = 0
        more = True
        while more and size <= CHECKED_UP_TO:
            message = await receive()
            held.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            more = bool(message.get("more_body", False))
        if not more and size <= CHECKED_UP_TO and held and held[-1]["type"] == "http.request":
            body = b"".join(m.get("body", b"") for m in held)
            refusal = _refusal(body)
            if refusal is not None:
                await problem(422, "Invalid input", refusal)(scope, receive, send)
                return

        async def replay() -> Message:
            if held:
                return held.pop(0)
            return await receive()

        await self.app(scope, replay, send)


def _json_body(method: str, headers: Headers) -> bool:
    if method not in ("POST", "PUT", "PATCH", "DELETE"):
        return False
    kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > CHECKED_UP_TO:
        return False
    # FastAPI reads a body without a content type as JSON too.
    return kind in ("", "application/json") or (
        kind.startswith("application/") and kind.endswith("+json")
    )


def _refusal(body: bytes) -> str | None:
    if not body.strip():
        return None
    try:
        load_json(body, "body", max_bytes=CHECKED_UP_TO)
    except (NestedTooDeep, NotValidText) as exc:
        return str(exc)
    except ValueError:  # not JSON at all: the route says so in its own words
        return None
    return None
