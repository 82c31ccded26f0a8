"""Triage Tools: bench equipment enrolled with its own Ed25519 key."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from triage.errors import InvalidInput

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class ToolStatus(StrEnum):
    """Whether a tool may be given work."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    RETIRED = "retired"


@dataclass(frozen=True)
class Tool:
    """An enrolled tool at a bench; its private key never leaves the bench."""

    id: str
    bench: str
    verifier_key: str
    status: ToolStatus
    enrolled_at: datetime
    status_reason: str | None = None  # why it was last suspended, reinstated or retired
    status_changed_at: datetime | None = None


def check_tool_id(tool_id: str) -> None:
    """Tool ids name a bench tool: letters, digits, '.', '_' or '-'."""
    if not _ID.match(tool_id):
        raise InvalidInput(
            f"tool id {tool_id!r} must be 1-64 letters, digits, '.', '_' or '-'", field="tool_id"
        )


def tool_key_name(tool_id: str) -> str:
    """The name a tool's signing key carries, so a key is never mistaken for another tool's."""
    return f"tool.{tool_id}"
