"""Authenticating bench agents by their tool keys, and recording their refusals."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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
from triage.services.ports import UnitOfWork, UnitOfWorkFactory

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
    """The tool a signed request comes from, its nonce claimed at once in a transaction of
    its own; Unauthenticated when it does not verify (see ``verify_tool_request``). The API
    claims the nonce in the transaction that acts on the request instead
    (``SignedToolRequest.acting``)."""
    request = verify_tool_request(
        uow_factory, tool_id, method, target, sent_time, nonce, signature, body, source
    )
    with request.acting(uow_factory) as acting, acting(write=True) as uow:
        uow.commit()
    return request.caller


def verify_tool_request(
    uow_factory: UnitOfWorkFactory,
    tool_id: str,
    method: str,
    target: str,
    sent_time: str,
    nonce: str,
    signature: str,
    body: bytes,
    source: str | None = None,
) -> SignedToolRequest:
    """The tool a signed request comes from; Unauthenticated when it does not verify.

    A request that changes state must also carry a nonce never seen before, claimed by
    ``SignedToolRequest.acting`` in the first transaction that writes; a read (GET) needs only
    a fresh signed time, so an agent's polling does not cost a durable write each time.

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
    request = SignedToolRequest(
        Caller.tool(tool_id), f"{method} {target}", nonce if changes_state else None
    )
    if problem is None:
        return request
    throttle = None
    if not signed and source is not None:
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
        throttle.add(source, at)
    raise request.refused(uow_factory, problem, signed, tool)


class _NotClaimed(Exception):
    """A signed request's nonce could not be claimed (raised inside the transaction that
    tried, so that it rolls back; ``SignedToolRequest.acting`` answers it)."""

    def __init__(self, problem: str, signed: bool, tool: Tool | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.signed = signed
        self.tool = tool


@dataclass
class SignedToolRequest:
    """A tool's request whose signature verified: who sent it, and the nonce it must claim
    before it may change anything (None for a read)."""

    caller: Caller
    what: str  # "METHOD target", as refusals are recorded
    nonce: str | None
    claimed: bool = field(default=False, compare=False)

    @contextmanager
    def acting(self, uow_factory: UnitOfWorkFactory) -> Iterator[UnitOfWorkFactory]:
        """The units of work that act on this request: the first that writes claims the
        nonce before anything else, in its own transaction, so that a request is acted on at
        most once and one write transaction does both. The claim is committed even when
        that transaction is not (the request was refused): a refused request cannot be
        replayed later either. A request that writes nothing has its nonce claimed when the
        block ends. A nonce already used, or a tool put out of use since its signature was
        checked, is answered Unauthenticated and recorded as before."""
        if self.nonce is None:
            yield uow_factory
            return
        acting = uow_factory.first_write(self._claim)
        try:
            try:
                yield acting
            finally:
                if not self.claimed:  # nothing was written: a write of the claim alone
                    with acting(write=True) as uow:
                        uow.commit()
        except _NotClaimed as exc:
            raise self.refused(uow_factory, exc.problem, exc.signed, exc.tool) from None

    def _claim(self, uow: UnitOfWork) -> None:
        assert self.nonce is not None
        self.claimed = True  # tried: never again, whatever the answer
        tool = uow.tools.get(self.caller.id)
        if tool is None or tool.status is not ToolStatus.ACTIVE:
            raise _NotClaimed(f"tool {self.caller.id} is no longer active", False, tool)
        if not uow.tools.use_agent_nonce(self.caller.id, self.nonce):
            raise _NotClaimed("nonce already used: the request is a replay", True, tool)

    def refused(
        self, uow_factory: UnitOfWorkFactory, problem: str, signed: bool, tool: Tool | None
    ) -> Unauthenticated:
        """Record the refusal of this request (``problem``) and give the error to raise: a
        refusal of what the tool's key ``signed`` counts against the tool's thresholds; one
        that proves nothing is recorded at most once a minute per tool id (``tool``: the
        tool of that id as read, None when there is none)."""
        tool_id = self.caller.id
        known = tool is not None and tool.status is ToolStatus.ACTIVE
        if signed:
            record_refusal(
                uow_factory,
                _AGENT_AUTH,
                "auth.refused",
                Ref("tool", tool_id),
                f"{self.what}: {problem}",
                then=anomaly.after_refusal(tool_id),
            )
        else:
            record_refusal(
                uow_factory,
                _AGENT_AUTH,
                # Not "auth.refused": that is what the thresholds count.
                "auth.signature_refused" if known else "auth.refused",
                Ref("tool", tool_id if tool is not None else "unknown"),
                f"{self.what}: {problem}",
                once_per=uow_factory.settings.refusal_record_interval,
            )
        return Unauthenticated(f"agent request refused: {problem}")


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
