"""A simulated fleet of devices, faithful enough to test the reset workflow end to end.

The fleet lives in one JSON file so that a bench agent in another process and a test can share
it. Every change takes an exclusive ``fcntl`` lock on a sidecar ``.lock`` file and replaces the
state file atomically, so concurrent processes never lose or corrupt an update.

Like a real device, a simulated one resets only under a work order for a factory reset signed by
the facility, for itself, for the tool it is connected to, unexpired and never used before, and
it can be told to fail outright or to fail silently by clearing only half of what it should.

It keeps its security log as entries (GBCS alert code and time) and answers a security-log read
with the GBCS message a real one sends: the DUIS 6.13 response of its type (ECS35b, ECS35d or
CS10b), built by ``triage.gbcs.encode``, with its EUI-64 as originator, the supplier as
recipient and an originator counter that goes up with every read. No reset clears that log (GBCS
lets no command clear it): the reset profile keeps the item ``security_log``, whose digest is
that of the log itself, the same on every read. Named scenarios for tests and demonstrations
are in ``scenarios.py``.
"""

from __future__ import annotations

import copy
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from triage import gbcs
from triage.adapters.devices.base import DeviceNotPresent, LogReadFailed, ResetFailed
from triage.adapters.packaged_data import PackagedFiles
from triage.domain.device import DeviceId, DeviceType, FieldError
from triage.domain.work_order import FACTORY_RESET, WorkOrder, WorkOrderRefused
from triage.ledger.entry import format_time
from triage.ledger.note import parse_verifier_key

FLEET_FORMAT = "device-triage/simulated-fleet/v1"
SECURITY_LOG_ITEM = "security_log"
"""The reset-profile item whose digest is the device's security log's (see ``log_digest``)."""
SUPPLIER = "90-B3-D5-1F-30-01-00-00"
"""The remote party a simulated device addresses its security-log response to (the RTDS
supplier's EUI-64)."""


@dataclass(frozen=True)
class DeviceSpec:
    """One device to put in a new simulated fleet.

    ``security_log`` holds (GBCS alert code, time) pairs, oldest first; ``tamper`` what the
    inspector will find on the device, in the inspection's vocabulary (e.g.
    ``{"outer_covers_opened": ["terminal"]}``); ``log_unreadable`` makes the device give no
    answer to a security-log read (a broken optical port)."""

    device_id: str
    device_type: DeviceType | str
    security_log: Sequence[tuple[int, datetime]] = ()
    tamper: Mapping[str, object] = field(default_factory=dict)
    fail_times: int = 0
    half_fail_times: int = 0
    log_unreadable: bool = False


def fresh_content(device_id: str, item: str) -> str:
    """The content a new device holds for one reset-profile item: non-empty and repeatable."""
    tag = hashlib.sha256(f"simulated/{device_id}/{item}".encode()).hexdigest()[:32]
    return f"{item}:{device_id}:{tag}"


def _content_digest(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def _canonical_id(text: str) -> str:
    return DeviceId.parse(text).value


def _check_count(name: str, value: int) -> None:
    if value < 0:
        raise ValueError(f"{name} must be zero or more, not {value}")


def _new_device(spec: DeviceSpec, device_id: str) -> dict[str, Any]:
    device_type = (
        spec.device_type
        if isinstance(spec.device_type, DeviceType)
        else DeviceType.parse(spec.device_type)
    )
    _check_count("fail_times", spec.fail_times)
    _check_count("half_fail_times", spec.half_fail_times)
    for _, at in spec.security_log:
        if at.tzinfo is None:
            raise ValueError(f"security log time {at} for {device_id} has no time zone")
    entries = [
        {"code": code, "at": format_time(at.astimezone(UTC).replace(microsecond=0))}
        for code, at in spec.security_log
    ]
    profile = PackagedFiles().reset_profiles().for_type(device_type)
    if entries and SECURITY_LOG_ITEM not in profile.items:
        raise ValueError(f"{device_id} is a {device_type.name}, which keeps no security log")
    try:  # a log the device could not send in GBCS form is refused now, not at the first read
        if SECURITY_LOG_ITEM in profile.items:
            log_digest(device_id, device_type, _log_entries(entries))
    except gbcs.GbcsError as exc:
        raise ValueError(f"security log of {device_id} cannot be sent as GBCS: {exc}") from None
    return {
        "device_type": device_type.name,
        "content": {
            item: fresh_content(device_id, item)
            for item in profile.items
            if item != SECURITY_LOG_ITEM  # the log itself is its content
        },
        "security_log": entries,
        "log_reads": 0,
        "log_unreadable": spec.log_unreadable,
        "tamper": dict(spec.tamper),
        "used_nonces": [],
        "resets": 0,
        "fail_times": spec.fail_times,
        "half_fail_times": spec.half_fail_times,
    }


def _keeps_a_log(device_type: DeviceType) -> bool:
    """Whether devices of this type keep a GBCS security log (a Type 2 device does not)."""
    return SECURITY_LOG_ITEM in PackagedFiles().reset_profiles().for_type(device_type).items


def _log_entries(stored: Iterable[Mapping[str, Any]]) -> list[tuple[int, datetime]]:
    return [(int(e["code"]), _aware(datetime.fromisoformat(e["at"]))) for e in stored]


def security_log_response(
    device_id: str,
    device_type: DeviceType,
    entries: Iterable[tuple[int, datetime]],
    counter: int,
) -> gbcs.LogResponse:
    """The GBCS security-log response a device of this type sends with these entries.

    The 12-byte MAC is a stand-in derived from the device and the counter: a simulated device
    holds no key-agreement key, and the facility never checks a MAC (it cannot: see
    ``triage.gbcs``)."""
    use_case = gbcs.use_case_for(device_type.name)
    mac = hashlib.sha256(f"simulated/{device_id}/mac/{counter}".encode()).digest()[:12]
    # A ZigBee device's entries carry the Log Id (4: Security Event Log) and no event data.
    extra: tuple[int | str, ...] = (4, "") if use_case.encoding == "zigbee" else ()
    return gbcs.LogResponse(
        use_case=use_case,
        originator=device_id,
        recipient=SUPPLIER,
        originator_counter=counter,
        outcome=gbcs.ResponseOutcome.SUCCESS,
        status=None,
        entries=tuple(gbcs.LogEntry(code, at, extra) for code, at in entries),
        mac=mac,
    )


def log_digest(
    device_id: str, device_type: DeviceType, entries: Iterable[tuple[int, datetime]]
) -> str:
    """The digest a device reports for its ``security_log`` item: the SHA-256 of its log as the
    GBCS response with originator counter 0. The same on every read, unlike the digest of each
    response (whose counter goes up); it changes only when the log does."""
    response = security_log_response(device_id, device_type, entries, counter=0)
    return hashlib.sha256(gbcs.encode(response)).hexdigest()


class SimulatedFleet:
    """The devices of a simulated bench, kept in a JSON state file."""

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        if not self._path.exists():
            raise FileNotFoundError(
                f"no simulated fleet at {self._path}; create one with SimulatedFleet.create"
            )
        self.snapshot()

    @property
    def path(self) -> Path:
        """The state file."""
        return self._path

    @classmethod
    def create(
        cls,
        path: str | Path,
        devices: Iterable[DeviceSpec],
        bench_swap: Mapping[str, str] | None = None,
    ) -> SimulatedFleet:
        """Write a fleet of fresh devices to path, replacing any fleet already there."""
        state: dict[str, Any] = {"format": FLEET_FORMAT, "devices": {}, "bench_swap": {}}
        for spec in devices:
            device_id = _canonical_id(spec.device_id)
            if device_id in state["devices"]:
                raise ValueError(f"device {device_id} is listed twice in the fleet")
            state["devices"][device_id] = _new_device(spec, device_id)
        for requested, actual in (bench_swap or {}).items():
            state["bench_swap"][_canonical_id(requested)] = _canonical_id(actual)
        with _locked(Path(path)):
            _write(Path(path), state)
        return cls(path)

    def add_devices(self, devices: Iterable[DeviceSpec]) -> None:
        """Put more fresh devices in the fleet (a new consignment arriving)."""
        with self.update() as state:
            for spec in devices:
                device_id = _canonical_id(spec.device_id)
                if device_id in state["devices"]:
                    raise ValueError(f"device {device_id} is already in the fleet")
                state["devices"][device_id] = _new_device(spec, device_id)

    def device_ids(self) -> list[str]:
        """The ids of every device in the fleet."""
        return sorted(self.snapshot()["devices"])

    def device_state(self, device_id: str) -> dict[str, Any]:
        """A copy of one device's raw stored state: content, logs, nonces, counters, failures."""
        return copy.deepcopy(_device(self.snapshot(), _canonical_id(device_id)))

    def set_failure(
        self,
        device_id: str,
        *,
        fail_times: int | None = None,
        half_fail_times: int | None = None,
    ) -> None:
        """Make the device's next resets fail outright (fail_times) or only half clear."""
        with self.update() as state:
            device = _device(state, _canonical_id(device_id))
            if fail_times is not None:
                _check_count("fail_times", fail_times)
                device["fail_times"] = fail_times
            if half_fail_times is not None:
                _check_count("half_fail_times", half_fail_times)
                device["half_fail_times"] = half_fail_times

    def set_bench_swap(self, requested: str, actual: str | None) -> None:
        """Put device actual on the bench when requested is asked for; None puts it right."""
        with self.update() as state:
            if actual is None:
                state["bench_swap"].pop(_canonical_id(requested), None)
            else:
                state["bench_swap"][_canonical_id(requested)] = _canonical_id(actual)

    def snapshot(self) -> dict[str, Any]:
        """The whole fleet state as it is now on disk."""
        with _locked(self._path):
            return _read(self._path)

    @contextmanager
    def update(self) -> Iterator[dict[str, Any]]:
        """The fleet state under an exclusive lock, written back if the block raises nothing."""
        with _locked(self._path):
            state = _read(self._path)
            yield state
            _write(self._path, state)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    # The lock is on a sidecar file because the state file itself is replaced on every write.
    descriptor = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _read(path: Path) -> dict[str, Any]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeviceNotPresent(f"the simulated fleet file {path} is gone") from None
    except ValueError as exc:
        raise ValueError(f"simulated fleet {path} is not JSON: {exc}") from None
    if not isinstance(state, dict) or state.get("format") != FLEET_FORMAT:
        raise ValueError(f"{path} is not a simulated fleet ({FLEET_FORMAT})")
    return state


def _write(path: Path, state: dict[str, Any]) -> None:
    descriptor, temp_name = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as temp:
            json.dump(state, temp, indent=2, sort_keys=True)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _device(state: Mapping[str, Any], device_id: str) -> dict[str, Any]:
    devices: dict[str, dict[str, Any]] = state["devices"]
    if device_id not in devices:
        raise DeviceNotPresent(f"device {device_id} is not in the simulated fleet")
    return devices[device_id]


class SimulatedDevice:
    """One simulated device attached at the bench."""

    def __init__(
        self,
        fleet: SimulatedFleet,
        device_id: str,
        device_type: DeviceType,
        facility_verifier_key: str,
        tool_id: str,
    ) -> None:
        self._fleet = fleet
        self._device_id = device_id
        self._device_type = device_type
        self._facility_verifier_key = facility_verifier_key
        self._tool_id = tool_id

    @property
    def device_id(self) -> str:
        """The EUI-64 the device reports."""
        return self._device_id

    @property
    def device_type(self) -> DeviceType:
        """The device's GBCS type."""
        return self._device_type

    def read_state(self) -> dict[str, str]:
        """Every item the device holds, mapped to the SHA-256 hex of its content; the security
        log's item to the digest of the log (``log_digest``)."""
        device = _device(self._fleet.snapshot(), self._device_id)
        state = {item: _content_digest(content) for item, content in device["content"].items()}
        if _keeps_a_log(self._device_type):
            entries = _log_entries(device["security_log"])
            state[SECURITY_LOG_ITEM] = log_digest(self._device_id, self._device_type, entries)
        return state

    def read_security_log(self) -> bytes:
        """The device's GBCS answer to a security-log read (its counter goes up every time);
        LogReadFailed when the device is set to give no answer."""
        with self._fleet.update() as state:
            device = _device(state, self._device_id)
            if not _keeps_a_log(self._device_type):
                raise LogReadFailed(
                    f"device {self._device_id} is a {self._device_type.name}, which keeps no "
                    "GBCS security log"
                )
            if device.get("log_unreadable", False):
                raise LogReadFailed(
                    f"device {self._device_id} did not answer the security-log read "
                    "(simulated: no answer on the optical port)"
                )
            counter = int(device.get("log_reads", 0)) + 1
            device["log_reads"] = counter
            entries = _log_entries(device["security_log"])
        response = security_log_response(self._device_id, self._device_type, entries, counter)
        return gbcs.encode(response)

    def factory_reset(self, signed_work_order: str) -> None:
        """Apply the reset profile for this type, only under a valid work order for a factory
        reset of this device by the tool it is connected to."""
        order = WorkOrder.open(signed_work_order, self._facility_verifier_key)
        refused = f"device {self._device_id} refuses work order {order.id}"
        if order.action != FACTORY_RESET:
            raise WorkOrderRefused(f"{refused}: it is an order to {order.action}, not to reset")
        try:
            ordered_device = _canonical_id(order.device_id)
        except FieldError as exc:
            raise WorkOrderRefused(f"{refused}: {exc}") from None
        if ordered_device != self._device_id:
            raise WorkOrderRefused(f"{refused}: it is for device {order.device_id}")
        if order.tool_id != self._tool_id:
            raise WorkOrderRefused(
                f"{refused}: it is for tool {order.tool_id}, and the device is connected to "
                f"tool {self._tool_id}"
            )
        if datetime.now(UTC) >= order.expires_at:
            raise WorkOrderRefused(f"{refused}: it expired at {format_time(order.expires_at)}")
        failure: ResetFailed | None = None
        with self._fleet.update() as state:
            device = _device(state, self._device_id)
            if order.nonce in device["used_nonces"]:
                raise WorkOrderRefused(f"{refused}: its nonce has been used before (a replay)")
            # The nonce is spent once the device accepts the order, whatever happens next.
            device["used_nonces"].append(order.nonce)
            if device["fail_times"] > 0:
                device["fail_times"] -= 1
                failure = ResetFailed(
                    f"device {self._device_id} failed the reset: simulated failure, "
                    "nothing was changed"
                )
            else:
                clear = PackagedFiles().reset_profiles().for_type(self._device_type).clear
                if device["half_fail_times"] > 0:
                    device["half_fail_times"] -= 1
                    clear = clear[: len(clear) // 2]
                for item in clear:
                    if item != SECURITY_LOG_ITEM:  # no command clears a GBCS security log
                        device["content"][item] = ""
                device["resets"] += 1
        if failure is not None:
            raise failure


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


class SimulatedConnector:
    """The device connector for a simulated fleet (entry point ``simulated``), on the bench of
    the tool ``tool_id``: its devices take work orders for that tool only."""

    def __init__(self, state_file: str | Path, facility_verifier_key: str, tool_id: str) -> None:
        parse_verifier_key(facility_verifier_key)
        if not tool_id:
            raise ValueError("a simulated connector needs the id of the tool it is connected to")
        self._fleet = SimulatedFleet(state_file)
        self._facility_verifier_key = facility_verifier_key
        self._tool_id = tool_id

    @property
    def fleet(self) -> SimulatedFleet:
        """The fleet this connector attaches to."""
        return self._fleet

    def attach(self, device_id: str) -> SimulatedDevice:
        """The device on the bench for device_id, which bench_swap may make another one."""
        try:
            requested = _canonical_id(device_id)
        except FieldError as exc:
            raise DeviceNotPresent(f"cannot attach {device_id!r}: {exc}") from None
        state = self._fleet.snapshot()
        actual = state["bench_swap"].get(requested, requested)
        device = _device(state, actual)
        return SimulatedDevice(
            self._fleet,
            actual,
            DeviceType[device["device_type"]],
            self._facility_verifier_key,
            self._tool_id,
        )
