"""A Triage Tool's signed reading of a device's security log, under a read order.

The tool reads the device's answer to DUIS 6.13 "Read Event or Security Log" (a GBCS message)
and sends the raw bytes back, signed with its own key and bound to the read order's nonce, as
a C2SP signed note of one line of canonical JSON (like a ``ToolResult``). The note carries the
bytes' SHA-256 too, so a reading whose bytes were changed after signing is refused even before
the signature is looked at by a person.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from triage.domain.tamper_policy import Alert, LogSource

# The private helpers are the work order's own: one parser for the tool's signed notes.
from triage.domain.work_order import WorkOrderRefused, _field, _json_object
from triage.errors import InvalidInput
from triage.ledger import canonical, note
from triage.ledger.entry import format_time, parse_time
from triage.ledger.errors import VerificationError

SECURITY_LOG_READING_FORMAT = "device-triage/security-log-reading/v1"
# A GBCS security log answer is a few KiB at most (the log holds a few hundred entries).
MAX_GBCS_BYTES = 64 * 1024
_DIGEST = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class SecurityLogReading:
    """The raw GBCS bytes a tool read from a device under one read order."""

    work_order_id: str
    nonce: str
    tool_id: str
    device_id: str
    read_at: datetime
    gbcs: bytes

    def __post_init__(self) -> None:
        if not self.gbcs:
            raise InvalidInput("gbcs: the device's answer is empty", field="gbcs")
        if len(self.gbcs) > MAX_GBCS_BYTES:
            raise InvalidInput(
                f"gbcs: {len(self.gbcs)} bytes; a security log answer is at most "
                f"{MAX_GBCS_BYTES} bytes",
                field="gbcs",
            )

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the raw GBCS bytes (the name of the evidence file)."""
        return hashlib.sha256(self.gbcs).hexdigest()

    def to_json(self) -> dict[str, Any]:
        """The reading as a JSON object (the bytes in base64, with their SHA-256)."""
        return {
            "format": SECURITY_LOG_READING_FORMAT,
            "work_order": self.work_order_id,
            "nonce": self.nonce,
            "tool": self.tool_id,
            "device": self.device_id,
            "read_at": format_time(self.read_at),
            "gbcs": base64.b64encode(self.gbcs).decode(),
            "sha256": self.sha256,
        }

    def sign(self, tool_signer_key: str) -> str:
        """The signed note the tool sends."""
        return note.sign(canonical.dumps(self.to_json()).decode() + "\n", tool_signer_key)

    @classmethod
    def open(cls, signed: str, tool_verifier_key: str) -> SecurityLogReading:
        """Verify the tool's signature and parse; WorkOrderRefused if the signature, the
        format or the bytes' SHA-256 do not match."""
        try:
            text = note.verify(signed, [tool_verifier_key])
        except VerificationError as exc:
            raise WorkOrderRefused(f"reading not signed by the tool's key: {exc}") from exc
        obj = _json_object(text, "security log reading", SECURITY_LOG_READING_FORMAT)
        try:
            gbcs = base64.b64decode(_field(obj, "gbcs"), validate=True)
            reading = cls(
                work_order_id=_field(obj, "work_order"),
                nonce=_field(obj, "nonce"),
                tool_id=_field(obj, "tool"),
                device_id=_field(obj, "device"),
                read_at=parse_time(_field(obj, "read_at")),
                gbcs=gbcs,
            )
            digest = _field(obj, "sha256")
        except ValueError as exc:  # binascii.Error and InvalidInput are ValueErrors
            raise WorkOrderRefused(f"security log reading is malformed: {exc}") from exc
        if not _DIGEST.fullmatch(digest) or digest != reading.sha256:
            raise WorkOrderRefused(
                f"security log reading says sha256 {digest[:64]}, but its bytes have "
                f"{reading.sha256}"
            )
        return reading


@dataclass(frozen=True)
class SecurityLogRecord:
    """A device's security log as the facility recorded it for a triage job: the digest of the
    raw GBCS bytes (kept in the evidence store), what they decoded to, and where they came from
    (the bench tool under a read order, or a supplier's response a supervisor uploaded)."""

    job_id: str
    seq: int
    device_id: str
    sha256: str
    size: int
    use_case: str
    outcome: str  # success, error or not_found (the device's answer)
    status: str | None  # the device's error status, for error and not_found
    entries: tuple[Alert, ...]  # the log's entries, with the device's own times
    source: LogSource  # tool or supplier
    source_detail: Mapping[str, str]  # tool_id and work_order_id, or uploaded_by and reference
    recorded_by: str
    recorded_at: datetime

    @property
    def usable(self) -> bool:
        """True when the device answered with its log (an error answer is evidence, not a log)."""
        return self.outcome == "success"
