"""A Triage Facility and the name of its ledger."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from triage.errors import InvalidInput

DEFAULT_MAX_RESET_ATTEMPTS = 3  # reset attempts per job before the device is quarantined
DEFAULT_WORK_ORDER_MINUTES = 15  # how long a work order stays valid

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_ORIGIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:-]{0,199}$")


@dataclass(frozen=True)
class Facility:
    """One site with benches, tools, stores and staff; its ledger is named by ``log_origin``."""

    id: str
    name: str
    log_origin: str
    created_at: datetime

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise InvalidInput(
                f"facility id {self.id!r} must be 1-63 lower-case letters, digits or hyphens",
                field="facility_id",
            )
        if not self.name.strip() or len(self.name) > 200:
            raise InvalidInput("facility name must be 1-200 characters", field="name")
        if not _ORIGIN.match(self.log_origin):
            raise InvalidInput(
                f"log origin {self.log_origin!r} must be a schema-less URL such as "
                "'triage.example.net/facility-1' (letters, digits and . _ / : -, no spaces or '+')",
                field="origin",
            )
        if self.created_at.tzinfo is None:
            raise InvalidInput("facility creation time must be timezone-aware", field="created_at")


def default_origin(facility_id: str) -> str:
    """The log origin a facility gets unless told otherwise."""
    return f"device-triage.local/{facility_id}"
