"""DUIS requests the facility produced (issue 20): what the register shows of each request,
batch and DCC User, and the RequestID's parts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from triage.domain.device import DeviceId, FieldError
from triage.errors import InvalidInput

# The DCC's EUI-64 in the DUIS request templates, the default target of a RequestID (a
# facility records the DCC's own: triage duis target EUI).
DEFAULT_TARGET = "90-B3-D5-1F-30-00-00-02"
# DUIS counts a RequestID's counter in an unsigned 64-bit number; ours stays in a signed one.
MAX_COUNTER = 2**63 - 1
_EUI = re.compile(r"^[0-9A-F]{2}(-[0-9A-F]{2}){7}$")


def parse_eui(text: str, field: str) -> str:
    """An EUI-64 in the canonical form DUIS shows (``90-B3-D5-1F-30-01-00-00``), or
    InvalidInput naming ``field``."""
    try:
        return DeviceId.parse(text).value
    except FieldError as exc:
        raise InvalidInput(f"{field}: {exc.problem}", field=field) from None


def request_id(originator: str, target: str, counter: int) -> str:
    """The DUIS RequestID ``originator:target:counter``."""
    if not (_EUI.match(originator) and _EUI.match(target)) or not 0 <= counter <= MAX_COUNTER:
        raise ValueError("a RequestID is two canonical EUI-64s and a counter")
    return f"{originator}:{target}:{counter}"


@dataclass(frozen=True)
class ProducedRequest:
    """One request file written: its number, what it asks about which device, and its digest.
    ``batch_id`` is the batch it was handed out in, if any yet."""

    request_id: str
    originator: str
    counter: int
    service_reference: str
    description: str
    device_id: str
    asset_owner: str | None
    job_id: str | None
    purpose: str
    sha256: str
    size: int
    produced_by: str
    produced_at: datetime
    batch_id: str | None = None

    @classmethod
    def recorded(cls, data: Mapping[str, Any], by: str, at: datetime) -> ProducedRequest:
        """The request a ``duis.request_written`` entry's ``data`` records (by ``by`` at ``at``)."""
        return cls(
            request_id=data["request_id"],
            originator=data["originator"],
            counter=data["counter"],
            service_reference=data["service_reference"],
            description=data["description"],
            device_id=data["device_id"],
            asset_owner=data.get("asset_owner"),
            job_id=data.get("job_id"),
            purpose=data["purpose"],
            sha256=data["sha256"],
            size=data["size"],
            produced_by=by,
            produced_at=at,
        )

    @property
    def file_name(self) -> str:
        """The request's file name in a batch: its service reference and number."""
        return f"{self.service_reference}_{self.request_id.replace(':', '_')}.xml"


@dataclass(frozen=True)
class DuisBatch:
    """One asset owner's requests handed out together as a ZIP (one XML each and a
    manifest), for its DCC User to sign and submit."""

    id: str
    asset_owner: str
    sha256: str
    size: int
    request_count: int
    dispatch_id: str | None
    consignment_id: str | None
    produced_by: str
    produced_at: datetime

    @property
    def file_name(self) -> str:
        return f"duis-requests-{self.asset_owner}-{self.id[:8]}.zip"


@dataclass(frozen=True)
class DccUser:
    """The DCC User who submits an asset owner's requests: its EUI-64 originates them."""

    asset_owner: str
    originator: str
    set_by: str
    set_at: datetime


@dataclass(frozen=True)
class DuisSettings:
    """The DCC's EUI-64 (a RequestID's target) and the rules in force (None: the default)."""

    target: str
    rules_source: str | None


@dataclass(frozen=True)
class FinishedJob:
    """A device's triage job that ended in an outcome the rules may call requests for."""

    job_id: str
    device_id: str
    state: str
    consignment_id: str | None
