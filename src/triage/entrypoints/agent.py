"""The bench agent: runs beside one Triage Tool and carries out only work orders it can verify.

It authenticates every request with the tool's own key, fetches the work orders issued to its
tool, refuses (and reports) any it cannot verify, drives the device through a connector, and
returns a result signed by the tool with digests of the device state before and after.
"""

from __future__ import annotations

import base64
import fcntl
import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from triage.adapters.devices.base import DeviceConnector, DeviceNotPresent, ResetFailed
from triage.domain import agent_request
from triage.domain.tool import tool_key_name
from triage.domain.work_order import ResetOutcome, ToolResult, WorkOrder, WorkOrderRefused
from triage.ledger import note
from triage.ledger.entry import format_time

log = logging.getLogger("triage.agent")


class AgentError(Exception):
    """The agent cannot talk to the server, or the server refused it; the message says why."""


class AgentClient:
    """Signed HTTP requests to the facility's server as one tool."""

    def __init__(
        self,
        server: str,
        tool_id: str,
        signer_key: str,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._tool_id = tool_id
        self._signer_key = signer_key
        self._http = httpx.Client(base_url=server.rstrip("/"), timeout=30, transport=transport)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """A signed request; returns the decoded JSON or raises AgentError with the detail."""
        raw = b"" if body is None else json.dumps(body).encode("utf-8")
        sent = format_time(datetime.now(UTC))
        nonce = secrets.token_hex(16)
        message = agent_request.request_message(method, path, sent, nonce, raw)
        signature = base64.b64encode(note.sign_message(message, self._signer_key)).decode()
        headers = {
            agent_request.HEADER_TOOL: self._tool_id,
            agent_request.HEADER_TIME: sent,
            agent_request.HEADER_NONCE: nonce,
            agent_request.HEADER_SIGNATURE: signature,
            "Content-Type": "application/json",
        }
        try:
            response = self._http.request(method, path, content=raw, headers=headers)
        except httpx.HTTPError as exc:
            raise AgentError(f"cannot reach the server: {exc}") from exc
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise AgentError(f"server refused {method} {path} ({response.status_code}): {detail}")
        return response.json()


class NonceStore:
    """Work-order nonces this agent has acted on, kept on disk so a restart cannot replay one."""

    def __init__(self, path: Path) -> None:
        self._path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)

    def claim(self, nonce: str) -> bool:
        """Record ``nonce``; False when it was already used."""
        with self._path.open("r+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            seen = {line.strip() for line in f}
            if nonce in seen:
                return False
            f.write(nonce + "\n")
            f.flush()
            os.fsync(f.fileno())
            return True


@dataclass
class Agent:
    """One tool's agent: verify, act, report."""

    client: AgentClient
    connector: DeviceConnector
    tool_id: str
    tool_signer_key: str
    facility_verifier_key: str
    nonces: NonceStore
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def run_once(self) -> int:
        """Process every work order waiting for this tool; returns how many were handled."""
        orders = self.client.request("GET", "/api/v1/agent/work-orders")["items"]
        for signed in orders:
            self.process(signed)
        return len(orders)

    def run(self, interval: float, stop: Callable[[], bool] = lambda: False) -> None:
        """Poll the server until ``stop`` says so."""
        while not stop():
            try:
                self.run_once()
            except AgentError as exc:
                log.warning("%s", exc)
            time.sleep(interval)

    def process(self, signed: str) -> str:
        """Carry out one signed work order, or refuse it; returns what happened."""
        try:
            order = WorkOrder.open(signed, self.facility_verifier_key)
        except WorkOrderRefused as exc:
            return self._refuse(_claimed_id(signed), str(exc))
        try:
            order.check(self.tool_id, order.device_id, self.clock())
        except WorkOrderRefused as exc:
            return self._refuse(order.id, str(exc))
        try:
            attached = self.connector.attach(order.device_id)
        except DeviceNotPresent as exc:
            return self._refuse(order.id, f"device {order.device_id} is not at this bench: {exc}")
        try:
            order.check(self.tool_id, attached.device_id, self.clock())
        except WorkOrderRefused as exc:
            return self._refuse(order.id, str(exc))
        if not self.nonces.claim(order.nonce):
            return self._refuse(order.id, f"work order {order.id} was already carried out (replay)")
        before = attached.read_state()
        outcome, detail = ResetOutcome.COMPLETED, "factory reset carried out"
        try:
            attached.factory_reset(signed)
        except ResetFailed as exc:
            outcome, detail = ResetOutcome.FAILED, f"reset failed: {exc}"
        except WorkOrderRefused as exc:
            return self._refuse(order.id, f"the device refused the work order: {exc}")
        result = ToolResult(
            work_order_id=order.id,
            nonce=order.nonce,
            tool_id=self.tool_id,
            device_id=attached.device_id,
            outcome=outcome,
            before=before,
            after=attached.read_state(),
            detail=detail,
            completed_at=self.clock(),
        )
        job = self.client.request(
            "POST", "/api/v1/agent/results", {"result": result.sign(self.tool_signer_key)}
        )
        state = str(job["state"])
        log.info("work order %s: %s, job now %s", order.id, outcome.value, state)
        return state

    def _refuse(self, work_order_id: str, reason: str) -> str:
        log.warning("refused work order %s: %s", work_order_id, reason)
        self.client.request(
            "POST", "/api/v1/agent/refusals", {"work_order_id": work_order_id, "reason": reason}
        )
        return "refused"


def _claimed_id(signed: str) -> str:
    """The id an unverifiable order claims, only to name it in the refusal."""
    try:
        claimed = json.loads(signed.split("\n\n", 1)[0]).get("id", "unknown")
    except (ValueError, AttributeError, RecursionError):
        return "unknown"
    return str(claimed)[:64]


def generate_tool_key(tool_id: str, path: Path) -> str:
    """Create the tool's signing key file (mode 0600, never overwritten); returns the verifier."""
    signer, verifier = note.generate_key(tool_key_name(tool_id))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(signer + "\n")
    return verifier


def load_tool_key(path: Path) -> str:
    """Read the tool's signing key, refusing a file others can read."""
    mode = path.stat().st_mode & 0o077
    if mode:
        raise AgentError(f"{path} is readable by others; chmod 600 {path}")
    return path.read_text().strip()
