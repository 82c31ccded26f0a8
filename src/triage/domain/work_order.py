"""Work orders and tool results: the only way a Triage Tool may reset a device, or read its
security log.

A work order is signed by the facility key and binds one action (a factory reset, or reading
the device's GBCS security log) to one tool, one device, one triage job and the operator at
the bench, with a nonce and an expiry. A tool result is signed by
the tool's own key and binds the outcome, with digests of the device state before and after,
to the work order's nonce. Both travel as C2SP signed notes whose text is one line of canonical
JSON, so anyone with the public keys can check them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from triage.errors import InvalidInput
from triage.ledger import canonical, note
from triage.ledger.bounded import InputLimitError, load_json
from triage.ledger.entry import format_time, parse_time
from triage.ledger.errors import VerificationError

WORK_ORDER_FORMAT = "device-triage/work-order/v1"
TOOL_RESULT_FORMAT = "device-triage/tool-result/v1"
FACTORY_RESET = "factory_reset"
READ_SECURITY_LOG = "read_security_log"
ACTIONS = (FACTORY_RESET, READ_SECURITY_LOG)
# A read order's profile: the DUIS service request whose GBCS response the tool returns.
SECURITY_LOG_PROFILE = "gbcs-6.13"
DEFAULT_VALIDITY = timedelta(minutes=15)
# A work order is a few hundred bytes, a tool result a few KiB: far less than an API body.
MAX_SIGNED_BYTES = 256 * 1024
_NONCE = re.compile(r"[0-9a-f]{32}")
_DIGEST = re.compile(r"[0-9a-f]{64}")


class WorkOrderRefused(VerificationError):
    """A work order (or a result) that must not be acted on; the message says why."""


@dataclass(frozen=True)
class WorkOrder:
    """One authorised action for one tool on one device."""

    id: str
    facility: str
    tool_id: str
    device_id: str
    job_id: str
    operator_id: str
    action: str
    profile: str
    nonce: str
    issued_at: datetime
    expires_at: datetime

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise InvalidInput(
                f"work order action {self.action!r} is not one of {', '.join(ACTIONS)}",
                field="action",
            )
        if not _NONCE.fullmatch(self.nonce):
            raise InvalidInput("work order nonce must be 32 lower-case hex digits", field="nonce")
        if self.expires_at <= self.issued_at:
            raise InvalidInput("work order must expire after it is issued", field="expires_at")

    def to_json(self) -> dict[str, Any]:
        """The work order as a JSON object."""
        return {
            "format": WORK_ORDER_FORMAT,
            "id": self.id,
            "facility": self.facility,
            "tool": self.tool_id,
            "device": self.device_id,
            "job": self.job_id,
            "operator": self.operator_id,
            "action": self.action,
            "profile": self.profile,
            "nonce": self.nonce,
            "issued_at": format_time(self.issued_at),
            "expires_at": format_time(self.expires_at),
        }

    def sign(self, facility_signer_key: str) -> str:
        """The signed note the tool receives."""
        return note.sign(canonical.dumps(self.to_json()).decode() + "\n", facility_signer_key)

    @classmethod
    def open(cls, signed: str, facility_verifier_key: str) -> WorkOrder:
        """Verify the facility's signature and parse; WorkOrderRefused if either fails."""
        try:
            text = note.verify(signed, [facility_verifier_key])
        except VerificationError as exc:
            raise WorkOrderRefused(f"work order not signed by the facility: {exc}") from exc
        obj = _json_object(text, "work order", WORK_ORDER_FORMAT)
        try:
            return cls(
                id=_field(obj, "id"),
                facility=_field(obj, "facility"),
                tool_id=_field(obj, "tool"),
                device_id=_field(obj, "device"),
                job_id=_field(obj, "job"),
                operator_id=_field(obj, "operator"),
                action=_field(obj, "action"),
                profile=_field(obj, "profile"),
                nonce=_field(obj, "nonce"),
                issued_at=parse_time(_field(obj, "issued_at")),
                expires_at=parse_time(_field(obj, "expires_at")),
            )
        except ValueError as exc:
            raise WorkOrderRefused(f"work order is malformed: {exc}") from exc

    def check(self, tool_id: str, device_id: str, now: datetime) -> None:
        """Refuse the order unless it is for this tool and this device and still valid."""
        if self.tool_id != tool_id:
            raise WorkOrderRefused(
                f"work order {self.id} is for tool {self.tool_id}, not this tool ({tool_id})"
            )
        if self.device_id != device_id:
            raise WorkOrderRefused(
                f"work order {self.id} is for device {self.device_id}, "
                f"but the device on the bench is {device_id}"
            )
        if now >= self.expires_at:
            raise WorkOrderRefused(
                f"work order {self.id} expired at {format_time(self.expires_at)}"
            )
        if now < self.issued_at - timedelta(minutes=5):
            raise WorkOrderRefused(f"work order {self.id} is issued in the future")


class ResetOutcome(StrEnum):
    """What the tool says happened."""

    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class ToolResult:
    """The tool's signed account of carrying out a work order."""

    work_order_id: str
    nonce: str
    tool_id: str
    device_id: str
    outcome: ResetOutcome
    before: Mapping[str, str]  # reset profile item -> SHA-256 hex of its content
    after: Mapping[str, str]
    detail: str
    completed_at: datetime

    def __post_init__(self) -> None:
        for name, digests in (("before", self.before), ("after", self.after)):
            for item, digest in digests.items():
                if not _DIGEST.fullmatch(digest):
                    raise InvalidInput(
                        f"{name}.{item}: digest must be 64 lower-case hex digits", field=name
                    )

    def to_json(self) -> dict[str, Any]:
        """The result as a JSON object."""
        return {
            "format": TOOL_RESULT_FORMAT,
            "work_order": self.work_order_id,
            "nonce": self.nonce,
            "tool": self.tool_id,
            "device": self.device_id,
            "outcome": self.outcome.value,
            "before": dict(self.before),
            "after": dict(self.after),
            "detail": self.detail,
            "completed_at": format_time(self.completed_at),
        }

    def sign(self, tool_signer_key: str) -> str:
        """The signed note the tool sends back."""
        return note.sign(canonical.dumps(self.to_json()).decode() + "\n", tool_signer_key)

    @classmethod
    def open(cls, signed: str, tool_verifier_key: str) -> ToolResult:
        """Verify the tool's signature and parse; WorkOrderRefused if either fails."""
        try:
            text = note.verify(signed, [tool_verifier_key])
        except VerificationError as exc:
            raise WorkOrderRefused(f"result not signed by the tool's key: {exc}") from exc
        obj = _json_object(text, "tool result", TOOL_RESULT_FORMAT)
        try:
            return cls(
                work_order_id=_field(obj, "work_order"),
                nonce=_field(obj, "nonce"),
                tool_id=_field(obj, "tool"),
                device_id=_field(obj, "device"),
                outcome=ResetOutcome(_field(obj, "outcome")),
                before=_digests(obj.get("before"), "before"),
                after=_digests(obj.get("after"), "after"),
                detail=str(obj.get("detail", "")),
                completed_at=parse_time(_field(obj, "completed_at")),
            )
        except ValueError as exc:
            raise WorkOrderRefused(f"tool result is malformed: {exc}") from exc


def _json_object(text: str, what: str, expected_format: str) -> dict[str, Any]:
    try:
        obj = load_json(text, what, max_bytes=MAX_SIGNED_BYTES)
    except InputLimitError as exc:
        raise WorkOrderRefused(str(exc)) from None
    if not isinstance(obj, dict) or obj.get("format") != expected_format:
        raise WorkOrderRefused(f"{what} is not in the format {expected_format}")
    return obj


def _field(obj: Mapping[str, Any], name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{name} is missing or not a string", field=name)
    return value


def _digests(value: object, name: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidInput(f"{name} must map item names to digests", field=name)
    return dict(value)
