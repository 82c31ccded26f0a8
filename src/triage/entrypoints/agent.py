"""The bench agent: runs beside one Triage Tool and carries out only work orders it can verify.

It authenticates every request with the tool's own key, fetches the work orders issued to its
tool, refuses (and reports) any it cannot verify, and drives the device through a connector.
For a factory reset it returns a result signed by the tool with digests of the device state
before and after; for a security-log read, the raw GBCS bytes the device answered with, signed
by the tool (a ``SecurityLogReading``).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import fcntl
import json
import logging
import os
import secrets
import signal
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from triage.adapters.devices.base import (
    AGENT_OPTIONS,
    AttachedDevice,
    DeviceConnector,
    DeviceNotPresent,
    LogReadFailed,
    ResetFailed,
    load_connector,
)
from triage.domain import agent_request
from triage.domain.device import DeviceId, DeviceType, FieldError
from triage.domain.security_log_reading import SecurityLogReading
from triage.domain.tool import tool_key_name
from triage.domain.work_order import (
    FACTORY_RESET,
    READ_SECURITY_LOG,
    ResetOutcome,
    ToolResult,
    WorkOrder,
    WorkOrderRefused,
)
from triage.entrypoints.quiet_logs import Heartbeat, agent_log_config
from triage.errors import InvalidInput, TriageError
from triage.ledger import note
from triage.ledger.entry import format_time

if TYPE_CHECKING:
    import httpx  # loaded by the client only: `triage agent keygen` needs no HTTP

log = logging.getLogger("triage.agent")

# How long a request may take before the agent gives up on it (plus the wait, for a waiting
# request for work orders).
TIMEOUT_SECONDS = 30.0
WORK_ORDERS = "/api/v1/agent/work-orders"


class AgentError(Exception):
    """The agent cannot talk to the server, or the server refused it; the message says why.

    ``status`` is the server's HTTP status, or None when no answer came.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AgentClient:
    """Signed HTTP requests to the facility's server as one tool."""

    def __init__(
        self,
        server: str,
        tool_id: str,
        signer_key: str,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx

        self._tool_id = tool_id
        self._signer_key = signer_key
        self._http = httpx.Client(
            base_url=server.rstrip("/"), timeout=TIMEOUT_SECONDS, transport=transport
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """A signed request; returns the decoded JSON or raises AgentError with the detail."""
        return self._send(method, path, body).json()

    def work_orders(self, known: Sequence[str] = (), wait: float = 0) -> Orders:
        """The signed work orders waiting for this tool. With ``wait`` seconds the server may
        hold the request until the list is not one of the ``known`` answers (their ETags): then
        ``items`` is None when nothing changed in the wait (304)."""
        headers: dict[str, str] = {}
        timeout = TIMEOUT_SECONDS
        if wait > 0:
            headers["Prefer"] = f"wait={wait:g}"
            if known:
                headers["If-None-Match"] = ", ".join(known)
            timeout += wait  # the server may hold the answer for the whole wait
        response = self._send("GET", WORK_ORDERS, headers=headers, timeout=timeout)
        applied = response.headers.get("preference-applied", "")
        waited = any(p.strip().lower().startswith("wait=") for p in applied.split(","))
        tag = response.headers.get("etag")
        if response.status_code == 304:
            return Orders(None, tag, waited)
        return Orders([str(signed) for signed in response.json()["items"]], tag, waited)

    def _send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> httpx.Response:
        """A signed request's answer; AgentError with the detail when it is an error."""
        import httpx

        raw = b"" if body is None else json.dumps(body).encode("utf-8")
        sent = format_time(datetime.now(UTC))
        nonce = secrets.token_hex(16)
        message = agent_request.request_message(method, path, sent, nonce, raw)
        signature = base64.b64encode(note.sign_message(message, self._signer_key)).decode()
        signed = {
            agent_request.HEADER_TOOL: self._tool_id,
            agent_request.HEADER_TIME: sent,
            agent_request.HEADER_NONCE: nonce,
            agent_request.HEADER_SIGNATURE: signature,
            "Content-Type": "application/json",
            **(headers or {}),
        }
        try:
            response = self._http.request(
                method, path, content=raw, headers=signed, timeout=timeout
            )
        except httpx.HTTPError as exc:
            raise AgentError(f"cannot reach the server: {exc}") from exc
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise AgentError(
                f"server refused {method} {path} ({response.status_code}): {detail}",
                response.status_code,
            )
        return response


@dataclass(frozen=True)
class Orders:
    """The server's answer to a request for work orders: the signed orders (None: the same as
    an answer the agent already has), the answer's ETag, and whether the server held the
    request as asked (``Preference-Applied: wait``)."""

    items: list[str] | None
    tag: str | None
    waited: bool


class Journal:
    """The agent's durable record of the work orders it has acted on (one JSON line each step).

    ``started`` is written, and synced, before the device is touched: it claims the order's
    nonce, so that no restart can carry out the same order twice, and keeps the device's state
    before the reset. ``result`` keeps the signed result before it is sent, and ``reported``
    marks the server's acknowledgement. An order started but not reported was interrupted (the
    agent was stopped, or the server could not be reached); the agent reports it when it
    restarts, from the journal and the device's state, instead of losing it.

    A security-log read order goes through the same steps (its ``started`` record has no state
    before, and its ``result`` is the signed reading): the nonce claim keeps the agent from
    reading under the same order twice, and a reading kept but not acknowledged is sent again
    unchanged when the agent restarts (the server records one reading per order).

    ``refused`` marks an order the tool refused and the server was told of: it is neither
    carried out nor refused again while the server still lists it (until it expires or is
    replaced), so one unreadable device does not count against the tool at every poll.
    """

    def __init__(self, path: Path, legacy_nonces: Path | None = None) -> None:
        self._path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        self._offset = 0
        self._nonces: set[str] = set()
        self._refused: set[str] = set()
        self._open: dict[str, dict[str, Any]] = {}
        if legacy_nonces is not None and legacy_nonces.exists():
            self._nonces |= {line.strip() for line in legacy_nonces.read_text().splitlines()}

    def claim(self, order: WorkOrder, signed: str, before: Mapping[str, str]) -> bool:
        """Record that ``order`` is about to be carried out; False when its nonce was used."""
        record = {
            "event": "started",
            "work_order_id": order.id,
            "action": order.action,
            "nonce": order.nonce,
            "device_id": order.device_id,
            "before": dict(before),
            "order": signed,
        }
        with self._locked() as f:
            if order.nonce in self._nonces:
                return False
            self._append(f, record)
            return True

    def result(self, work_order_id: str, signed_result: str) -> None:
        """Keep the signed result (or reading), before it is sent, so a retry sends the very
        same bytes."""
        with self._locked() as f:
            record = {"event": "result", "work_order_id": work_order_id, "signed": signed_result}
            self._append(f, record)

    def reported(self, work_order_id: str, how: str) -> None:
        """The server acknowledged (or finally refused) the result: the order is closed."""
        with self._locked() as f:
            self._append(f, {"event": "reported", "work_order_id": work_order_id, "how": how})

    def refused(self, work_order_id: str) -> None:
        """The server has this tool's refusal of the order: never act on it, nor refuse it
        again (the server keeps handing an order out until it expires or is replaced)."""
        with self._locked() as f:
            self._append(f, {"event": "refused", "work_order_id": work_order_id})

    def was_refused(self, work_order_id: str) -> bool:
        """Whether this tool has already refused the order, and told the server."""
        with self._locked():
            return work_order_id in self._refused

    def unfinished(self) -> list[dict[str, Any]]:
        """Orders started and not reported, oldest first (with their ``result`` if kept)."""
        with self._locked():
            return [dict(record) for record in self._open.values()]

    @contextlib.contextmanager
    def _locked(self) -> Iterator[IO[bytes]]:
        with self._path.open("r+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            self._catch_up(f)
            yield f

    def _catch_up(self, f: IO[bytes]) -> None:
        """Read what was appended since the last look (by this or an earlier process)."""
        f.seek(self._offset)
        complete, newline, torn = f.read().rpartition(b"\n")
        if torn:
            # A line cut short by a crash: it was never synced as complete, so the step it
            # began did not happen. Cut it off, so the next line starts cleanly.
            f.truncate(self._offset + len(complete) + len(newline))
        for line in complete.splitlines():
            self._apply(line)
        f.seek(0, os.SEEK_END)
        self._offset = f.tell()

    def _apply(self, line: bytes) -> None:
        if not line.strip():
            return
        record = json.loads(line)
        order_id = record["work_order_id"]
        if record["event"] == "started":
            self._nonces.add(record["nonce"])
            self._open[order_id] = record
        elif record["event"] == "result" and order_id in self._open:
            self._open[order_id]["result"] = record["signed"]
        elif record["event"] == "reported":
            self._open.pop(order_id, None)
        elif record["event"] == "refused":
            self._refused.add(order_id)

    def _append(self, f: IO[bytes], record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":")).encode("utf-8") + b"\n"
        f.seek(0, os.SEEK_END)
        f.write(line)
        f.flush()
        os.fsync(f.fileno())
        self._apply(line)
        self._offset = f.tell()


@dataclass
class Agent:
    """One tool's agent: verify, act, report."""

    client: AgentClient
    connector: DeviceConnector
    tool_id: str
    tool_signer_key: str
    facility_verifier_key: str
    journal: Journal
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    heartbeat: Heartbeat = field(default_factory=Heartbeat)
    # True only while the agent waits (a request for work orders held by the server, or a
    # pause): nothing is half done then, so a stop may cut the wait short (``run_agent``).
    idle: bool = field(default=False, init=False)

    def run_once(self) -> int:
        """Report interrupted orders, then process every work order waiting for this tool;
        returns how many new orders were handled."""
        self.resume()
        orders = self.client.request("GET", WORK_ORDERS)["items"]
        for signed in orders:
            self.process(signed)
        return len(orders)

    def run(
        self, interval: float, stop: Callable[[], bool] = lambda: False, wait: float = 0
    ) -> None:
        """Ask the server for work orders until ``stop`` says so: every ``interval`` seconds,
        or, with ``wait``, in requests the server holds up to ``wait`` seconds until there is
        something new (asked again at once; ``interval`` is then the pause after a failure, or
        between requests a server did not hold). A request that finds nothing logs nothing: an
        order handled or refused, the server failing or answering again is logged when it
        happens (a failure repeated, once), and a heartbeat says the agent is alive at most
        every ``heartbeat.interval`` seconds."""
        if wait > 0:
            log.info(
                "tool %s: waiting for work orders (requests held up to %g s)", self.tool_id, wait
            )
        else:
            log.info("tool %s: asking for work orders every %g s", self.tool_id, interval)
        listed = 0
        failing: str | None = None
        failures = 0
        # The ETags of answers with nothing left to do: the last list handled, and the empty
        # list; the server holds a request while its answer is one of them.
        known: tuple[str, ...] = ()
        empty: str | None = None
        while not stop():
            pause = interval
            try:
                if wait > 0:
                    self.resume()
                    answer = self._wait_for_orders(known, wait)
                    if answer.items is not None:
                        for signed in answer.items:
                            self.process(signed)
                        listed += len(answer.items)
                        if answer.tag is not None:
                            empty = answer.tag if not answer.items else empty
                            known = tuple(dict.fromkeys(t for t in (answer.tag, empty) if t))
                    if answer.waited:
                        pause = 0
                else:
                    listed += self.run_once()
                if failing is not None:
                    log.info("the server answers again (after %d failed polls)", failures)
                    failing, failures = None, 0
            except AgentError as exc:
                failures += 1
                if str(exc) != failing:
                    log.warning("%s", exc)
                    failing = str(exc)
            polls = self.heartbeat.count()
            if polls is not None:
                minutes = round(self.heartbeat.interval / 60)
                if failing is None:
                    log.info(
                        "tool %s: alive; %d polls and %d work orders listed in %d minutes",
                        self.tool_id,
                        polls,
                        listed,
                        minutes,
                    )
                else:
                    log.warning(
                        "tool %s: still failing after %d polls: %s", self.tool_id, failures, failing
                    )
                listed = 0
            if pause > 0:
                with self._idle():
                    time.sleep(pause)

    def _wait_for_orders(self, known: Sequence[str], wait: float) -> Orders:
        """One waiting request for work orders, ``idle`` while the server holds it."""
        with self._idle():
            return self.client.work_orders(known, wait)

    @contextlib.contextmanager
    def _idle(self) -> Iterator[None]:
        self.idle = True
        try:
            yield
        finally:
            self.idle = False

    def process(self, signed: str) -> str:
        """Carry out one signed work order, or refuse it; returns what happened."""
        if self.journal.was_refused(_claimed_id(signed)):
            return "refused before"
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
        if order.action == READ_SECURITY_LOG:
            return self._read_log(order, signed, attached)
        before = attached.read_state()
        if not self.journal.claim(order, signed, before):
            return self._refuse(order.id, f"work order {order.id} was already carried out (replay)")
        outcome, detail = ResetOutcome.COMPLETED, "factory reset carried out"
        try:
            attached.factory_reset(signed)
        except ResetFailed as exc:
            outcome, detail = ResetOutcome.FAILED, f"reset failed: {exc}"
        except WorkOrderRefused as exc:
            self.journal.reported(order.id, "refused by the device")
            return self._refuse(order.id, f"the device refused the work order: {exc}")
        signed_result = self._result(order, attached, before, outcome, detail).sign(
            self.tool_signer_key
        )
        self.journal.result(order.id, signed_result)
        return self._report(order.id, signed_result)

    def _read_log(self, order: WorkOrder, signed: str, attached: AttachedDevice) -> str:
        """Read the device's security log under a verified read order and send it, signed."""
        if not self.journal.claim(order, signed, {}):
            return self._refuse(order.id, f"work order {order.id} was already carried out (replay)")
        try:
            signed_reading = self._reading(order, attached)
        except (LogReadFailed, InvalidInput) as exc:
            self.journal.reported(order.id, "security log not read")
            return self._refuse(order.id, f"the device's security log could not be read: {exc}")
        self.journal.result(order.id, signed_reading)
        return self._send_reading(order.id, signed_reading)

    def _reading(self, order: WorkOrder, attached: AttachedDevice) -> str:
        """The device's answer to the security-log read, signed by the tool."""
        reading = SecurityLogReading(
            work_order_id=order.id,
            nonce=order.nonce,
            tool_id=self.tool_id,
            device_id=attached.device_id,
            read_at=self.clock(),
            gbcs=attached.read_security_log(),
        )
        log.info(
            "work order %s: read %d bytes of security log from %s (sha256 %s)",
            order.id,
            len(reading.gbcs),
            reading.device_id,
            reading.sha256,
        )
        return reading.sign(self.tool_signer_key)

    def resume(self) -> int:
        """Report every order that was started but not reported (the agent was stopped, or the
        server was unreachable); returns how many were reported.

        A result already signed is sent again unchanged (the server takes an identical result
        once). Without one, the reset was interrupted: the device's state now is the evidence.
        A device that changed reports the reset as done, and the server's verification against
        the reset profile decides; a device that did not change reports a failed reset. Either
        way the job moves on visibly (verified, or failed and retryable), nothing is left
        silently half-done.
        """
        reported = 0
        for record in self.journal.unfinished():
            order_id = str(record["work_order_id"])
            reading = record.get("action", FACTORY_RESET) == READ_SECURITY_LOG
            signed_result = record.get("result")
            if signed_result is None:
                try:
                    signed_result = (
                        self._interrupted_reading(record)
                        if reading
                        else self._interrupted_result(record)
                    )
                except WorkOrderRefused as exc:  # its signature no longer verifies
                    log.error("interrupted work order %s cannot be read: %s", order_id, exc)
                    self.journal.reported(order_id, f"unreadable: {exc}")
                    continue
                if signed_result is None:
                    continue  # refused: the device could not be read
            try:
                if reading:
                    self._send_reading(order_id, signed_result)
                else:
                    self._report(order_id, signed_result)
            except AgentError as exc:
                if exc.status is None or exc.status >= 500:
                    raise  # the server is not reachable yet: the order stays open
                log.warning("interrupted work order %s: the server refused it: %s", order_id, exc)
                self.journal.reported(order_id, f"refused by the server ({exc.status})")
            reported += 1
        return reported

    def _interrupted_result(self, record: Mapping[str, Any]) -> str:
        order = WorkOrder.open(str(record["order"]), self.facility_verifier_key)
        before = {str(k): str(v) for k, v in record["before"].items()}
        try:
            attached = self.connector.attach(order.device_id)
        except DeviceNotPresent as exc:
            log.warning(
                "interrupted work order %s: device gone (%s); reporting it failed", order.id, exc
            )
            detail = f"reset interrupted by an agent restart, and the device is gone: {exc}"
            result = dataclasses.replace(
                self._result(order, None, before, ResetOutcome.FAILED, detail), after=before
            )
        else:
            changed = attached.read_state() != before
            outcome = ResetOutcome.COMPLETED if changed else ResetOutcome.FAILED
            detail = (
                "reset interrupted by an agent restart; the device's state after it was read "
                + ("and has changed" if changed else "and is unchanged: the reset did not happen")
            )
            result = self._result(order, attached, before, outcome, detail)
        signed = result.sign(self.tool_signer_key)
        self.journal.result(order.id, signed)
        log.info("work order %s was interrupted; reporting %s", order.id, result.outcome.value)
        return signed

    def _interrupted_reading(self, record: Mapping[str, Any]) -> str | None:
        """A read interrupted before its reading was kept: reading a security log changes
        nothing on the device, so the log is read again under the same (already claimed) order;
        None when it cannot be, after refusing the order."""
        order = WorkOrder.open(str(record["order"]), self.facility_verifier_key)
        try:
            attached = self.connector.attach(order.device_id)
            if attached.device_id != order.device_id:
                raise DeviceNotPresent(f"device {attached.device_id} is on the bench instead")
            signed = self._reading(order, attached)
        except (DeviceNotPresent, LogReadFailed, InvalidInput) as exc:
            self.journal.reported(order.id, "security log not read")
            self._refuse(
                order.id, f"security log read interrupted, and it cannot be read again: {exc}"
            )
            return None
        self.journal.result(order.id, signed)
        return signed

    def _result(
        self,
        order: WorkOrder,
        attached: AttachedDevice | None,
        before: Mapping[str, str],
        outcome: ResetOutcome,
        detail: str,
    ) -> ToolResult:
        return ToolResult(
            work_order_id=order.id,
            nonce=order.nonce,
            tool_id=self.tool_id,
            device_id=order.device_id if attached is None else attached.device_id,
            outcome=outcome,
            before=before,
            after=dict(before) if attached is None else attached.read_state(),
            detail=detail,
            completed_at=self.clock(),
        )

    def _report(self, order_id: str, signed_result: str) -> str:
        """Send a signed result (already kept in the journal) and close the order."""
        job = self.client.request("POST", "/api/v1/agent/results", {"result": signed_result})
        state = str(job["state"])
        self.journal.reported(order_id, f"job {state}")
        log.info("work order %s reported, job now %s", order_id, state)
        return state

    def _send_reading(self, order_id: str, signed_reading: str) -> str:
        """Send a signed reading (already kept in the journal) and close the order."""
        self.client.request("POST", "/api/v1/agent/security-logs", {"reading": signed_reading})
        self.journal.reported(order_id, "security log recorded")
        log.info("work order %s: security log recorded", order_id)
        return "security log recorded"

    def _refuse(self, work_order_id: str, reason: str) -> str:
        log.warning("refused work order %s: %s", work_order_id, reason)
        self.client.request(
            "POST", "/api/v1/agent/refusals", {"work_order_id": work_order_id, "reason": reason}
        )
        self.journal.refused(work_order_id)
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
    write_signer_key(signer, path)
    return verifier


def write_signer_key(signer: str, path: Path) -> None:
    """Keep a signing key in a new file only its owner can read (mode 0600, never overwritten:
    FileExistsError)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(signer + "\n")


def load_tool_key(path: Path) -> str:
    """Read the tool's signing key, refusing a file others can read."""
    mode = path.stat().st_mode & 0o077
    if mode:
        raise AgentError(f"{path} is readable by others; chmod 600 {path}")
    return path.read_text().strip()


def simulate_fleet(path: Path, devices: Sequence[str], *, add: bool) -> list[tuple[str, str, str]]:
    """Make a simulated fleet for the ``simulated`` connector (or, with ``add``, put devices in
    an existing one) from ``DEVICE[:TYPE[:SCENARIO]]`` items (type ESME and scenario clean by
    default; scenarios as in ``adapters.devices.scenarios``); returns (device, type, scenario)
    for each. AgentError says what is wrong, and nothing is written then."""
    # The simulator is imported only here: a bench with real hardware never loads it.
    from triage.adapters.devices import scenarios
    from triage.adapters.devices.simulated import DeviceSpec, SimulatedFleet

    if not devices:
        raise AgentError("name at least one device: DEVICE[:TYPE[:SCENARIO]]")
    specs: list[DeviceSpec] = []
    made: list[tuple[str, str, str]] = []
    for item in devices:
        device_id, _, rest = item.partition(":")
        device_type, _, scenario = rest.partition(":")
        device_type, scenario = device_type or "ESME", scenario or "clean"
        build = scenarios.SCENARIOS.get(scenario)
        if build is None:
            known = ", ".join(scenarios.SCENARIOS)
            raise AgentError(f"{item}: unknown scenario {scenario!r}; known scenarios: {known}")
        try:
            kind = DeviceType.parse(device_type)
            spec = build(DeviceId.parse(device_id).value, kind)
        except FieldError as exc:
            raise AgentError(f"{item}: {exc}") from exc
        specs.append(spec)
        made.append((spec.device_id, kind.name, scenario))
    try:
        if add:
            SimulatedFleet(path).add_devices(specs)
        else:
            SimulatedFleet.create(path, specs)
    except (ValueError, OSError) as exc:
        raise AgentError(str(exc)) from exc
    return made


class _Stopped(Exception):
    """SIGTERM while the agent was idle (waiting for work orders, or pausing): it stops at
    once."""


def run_agent(
    server: str,
    tool_id: str,
    key: Path,
    facility_key: str,
    state_dir: Path,
    connector: str,
    options: Mapping[str, str],
    *,
    once: bool,
    interval: float,
    wait: float = 0,
) -> None:
    """Wire the agent (the bench's own composition root) and run it until SIGTERM, or handle
    the waiting orders ``once``; with ``wait``, its requests for work orders are held by the
    server up to ``wait`` seconds until there is one. AgentError says why it cannot start or
    go on."""
    agent_log_config()
    reserved = [name for name in options if name in AGENT_OPTIONS]
    if reserved:
        raise AgentError(
            f"--option {reserved[0]}: the agent gives the connector its {reserved[0]} itself "
            "(from --tool-id and --facility-key)"
        )
    try:
        signer = load_tool_key(key)
        device_connector = load_connector(
            connector, facility_verifier_key=facility_key, tool_id=tool_id, **options
        )
    except (TriageError, OSError, TypeError) as exc:
        raise AgentError(str(exc)) from exc
    client = AgentClient(server, tool_id, signer)
    agent = Agent(
        client,
        device_connector,
        tool_id,
        signer,
        facility_key,
        Journal(state_dir / "journal", legacy_nonces=state_dir / "used-nonces"),
    )
    stopping: list[bool] = []

    def on_stop(_signal: int, _frame: object) -> None:
        stopping.append(True)
        if agent.idle:  # waiting: nothing is half done, so the wait is given up at once
            raise _Stopped

    signal.signal(signal.SIGTERM, on_stop)
    try:
        if once:
            agent.run_once()
        else:
            agent.run(interval, stop=lambda: bool(stopping), wait=wait)
    except _Stopped:
        log.info("tool %s: stopped", tool_id)
    finally:
        client.close()
