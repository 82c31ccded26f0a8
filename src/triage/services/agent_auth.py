"""Authenticating bench agents by their tool keys, and recording their refusals."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime

from triage.domain.agent_request import request_message, time_problem
from triage.domain.caller import Caller
from triage.domain.tool import Tool, ToolStatus
from triage.errors import TooManyAttempts, Unauthenticated
from triage.ledger import note
from triage.ledger.entry import Ref, parse_time
from triage.ledger.errors import VerificationError
from triage.services import anomaly
from triage.services.common import record_refusal
from triage.services.ports import UnitOfWorkFactory

SAFE_METHODS = frozenset({"GET", "HEAD"})
_NONCE = re.compile(r"[0-9a-f]{32}")


def authenticate_tool(
    uow_factory: UnitOfWorkFactory,
    tool_id: str,
    method: str,
    target: str,
    sent_time: str,
    nonce: str,
    signature: str,
    body: bytes,
    source: str | None = None,
) -> Caller:
    """The tool a signed request comes from; Unauthenticated when it does not verify.

    A request that changes state must also carry a nonce never seen before; a read (GET) needs
    only a fresh signed time, so an agent's polling does not cost a durable write each time.

    Only a refusal of a request the tool's key signed (a replayed nonce, a time off the
    server's clock) counts against the tool's thresholds and is recorded every time: it shows
    the tool or its key misbehaving. A request that proves nothing (unknown tool, tool out of
    use, a signature that does not verify) is anyone's: it never counts, is recorded at most
    once a minute per tool id, and past a burst from one ``source`` address is answered 429
    (TooManyAttempts) with nothing written. A genuine agent sharing that address is still
    heard: its signature is checked before the limit applies. The burst and its window are
    settings (``agent_unverified_burst``, ``agent_unverified_window``).
    """
    changes_state = method.upper() not in SAFE_METHODS
    limits = uow_factory.settings
    at = uow_factory.clock.now()
    # Checked in a read transaction: a forged request takes no write lock.
    with uow_factory(write=False) as uow:
        tool = uow.tools.get(tool_id) if tool_id else None
        problem, signed = _check(
            tool, tool_id, method, target, sent_time, nonce, signature, body, at
        )
    throttle = None
    if problem is not None and not signed and source is not None:
        throttle = uow_factory.throttles.named(
            "agent-unverified", limits.agent_unverified_burst, limits.agent_unverified_window
        )
        retry = throttle.retry_after(source, at)
        if retry is not None:
            raise TooManyAttempts(
                f"too many agent requests from {source[:64]} that do not verify: "
                f"wait {retry} s before trying again",
                retry,
            )
    if problem is None and changes_state:
        with uow_factory(write=True) as uow:
            tool = uow.tools.get(tool_id)
            if tool is None or tool.status is not ToolStatus.ACTIVE:
                problem, signed = f"tool {tool_id} is no longer active", False
            elif not uow.tools.use_agent_nonce(tool_id, nonce):
                problem = "nonce already used: the request is a replay"
            else:
                uow.commit()
    if problem is None:
        return Caller.tool(tool_id)
    if signed:
        record_refusal(
            uow_factory,
            _AGENT_AUTH,
            "auth.refused",
            Ref("tool", tool_id),
            f"{method} {target}: {problem}",
            then=anomaly.after_refusal(tool_id),
        )
    else:
        if throttle is not None and source is not None:
            throttle.add(source, at)
        known = tool is not None and tool.status is ToolStatus.ACTIVE
        record_refusal(
            uow_factory,
            _AGENT_AUTH,
            # Not "auth.refused": that is what the thresholds count.
            "auth.signature_refused" if known else "auth.refused",
            Ref("tool", tool_id if tool is not None else "unknown"),
            f"{method} {target}: {problem}",
            once_per=limits.refusal_record_interval,
        )
    raise Unauthenticated(f"agent request refused: {problem}")


_AGENT_AUTH = Caller.system("agent-auth")


def _check(
    tool: Tool | None,
    tool_id: str,
    method: str,
    target: str,
    sent_time: str,
    nonce: str,
    signature: str,
    body: bytes,
    at: datetime,
) -> tuple[str | None, bool]:
    """Why the request does not verify (None when it does), and whether the tool's key
    signed it all the same (a time off the server's clock at ``at``)."""
    if tool is None:
        return f"unknown tool {tool_id[:64]!r}", False
    if tool.status is not ToolStatus.ACTIVE:
        return f"tool {tool_id} is {tool.status}", False
    if not _NONCE.fullmatch(nonce):
        return "nonce must be 32 lower-case hex digits", False
    try:
        raw = base64.b64decode(signature, validate=True)
        message = request_message(method, target, sent_time, nonce, body)
        note.verify_message(message, raw, tool.verifier_key)
    except (ValueError, binascii.Error, VerificationError) as exc:
        return f"signature does not verify: {exc}", False
    try:
        problem = time_problem(parse_time(sent_time), at)
    except ValueError as exc:
        problem = f"time does not parse: {exc}"
    return problem, True
