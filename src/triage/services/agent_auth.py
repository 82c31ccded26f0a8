"""Authenticating bench agents by their tool keys, and recording every refusal."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import timedelta

from triage.domain.agent_request import request_message, time_problem
from triage.domain.caller import Caller
from triage.domain.tool import ToolStatus
from triage.errors import Unauthenticated
from triage.ledger import note
from triage.ledger.entry import Ref, parse_time
from triage.ledger.errors import VerificationError
from triage.services import anomaly
from triage.services.common import now, record_refusal
from triage.services.unit_of_work import UnitOfWorkFactory

SAFE_METHODS = frozenset({"GET", "HEAD"})
_NONCE = re.compile(r"[0-9a-f]{32}")
REFUSAL_RECORD_INTERVAL = timedelta(minutes=1)


def authenticate_tool(
    uow_factory: UnitOfWorkFactory,
    tool_id: str,
    method: str,
    target: str,
    sent_time: str,
    nonce: str,
    signature: str,
    body: bytes,
) -> Caller:
    """The tool a signed request comes from; Unauthenticated (recorded) when it does not verify.

    A request that changes state must also carry a nonce never seen before; a read (GET) needs
    only a fresh signed time, so an agent's polling does not cost a durable write each time.
    """
    changes_state = method.upper() not in SAFE_METHODS
    with uow_factory(write=changes_state) as uow:
        tool = uow.triage.tool(tool_id) if tool_id else None
        problem = None
        # Requests naming no tool we know, or one already out of use, are recorded once a
        # minute (all under one subject for unknown ids): nobody may make the ledger grow
        # per request. Refusals for an active tool are all recorded, as the thresholds
        # count them; past a threshold the tool is suspended, and so throttled in turn.
        throttled = tool is None or tool.status is not ToolStatus.ACTIVE
        if tool is None:
            problem = f"unknown tool {tool_id[:64]!r}"
        elif tool.status is not ToolStatus.ACTIVE:
            problem = f"tool {tool_id} is {tool.status}"
        elif not _NONCE.fullmatch(nonce):
            problem = "nonce must be 32 lower-case hex digits"
        else:
            try:
                sent = parse_time(sent_time)
                problem = time_problem(sent, now())
                raw = base64.b64decode(signature, validate=True)
                if problem is None:
                    message = request_message(method, target, sent_time, nonce, body)
                    note.verify_message(message, raw, tool.verifier_key)
                    if changes_state and not uow.triage.use_agent_nonce(tool_id, nonce):
                        problem = "nonce already used: the request is a replay"
            except (ValueError, binascii.Error, VerificationError) as exc:
                problem = f"signature or time does not verify: {exc}"
        if problem is None:
            if changes_state:
                uow.commit()
            return Caller.tool(tool_id)
    record_refusal(
        uow_factory,
        Caller.system("agent-auth"),
        "auth.refused",
        Ref("tool", "unknown" if tool is None else tool_id),
        f"{method} {target}: {problem}",
        then=anomaly.after_refusal(tool_id),
        once_per=REFUSAL_RECORD_INTERVAL if throttled else None,
    )
    raise Unauthenticated(f"agent request refused: {problem}")
