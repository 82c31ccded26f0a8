"""What the DCC's Smart Metering Inventory said of a device (a DUIS 8.2 Read Inventory
response, issue 20), and the SMI gate: the statuses in which a device must not be triaged."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from triage.domain.device import FieldError, InventoryStatus

# The facility's refused statuses until a policy manager changes them: a device installed or
# live at a premises is someone's supply.
DEFAULT_REFUSED = frozenset(
    {InventoryStatus.COMMISSIONED, InventoryStatus.INSTALLED_NOT_COMMISSIONED}
)


@dataclass(frozen=True)
class InventoryReading:
    """One device's entry in a Read Inventory response, as recorded (``device.inventory_read``)."""

    seq: int
    device_id: str
    status: InventoryStatus | None  # None: the response gave no DeviceStatus
    device_type: str  # the DUIS name (ESME, GSME, GPF, CHF, HCALCS, PPMID, IHD, CAD)
    manufacturer: str
    model: str
    firmware_version: str | None
    smets_chts_version: str | None
    chf_id: str | None
    date_commissioned: date | None
    response_id: str | None
    request_id: str | None
    response_at: datetime
    sha256: str
    job_id: str | None
    consignment_id: str | None
    recorded_by: str
    recorded_at: datetime

    @property
    def identity(self) -> str:
        """The response id, else the request id, for a person to quote."""
        return self.response_id or self.request_id or f"sha256 {self.sha256[:12]}"


def refused_statuses(texts: Iterable[str]) -> frozenset[InventoryStatus]:
    """The statuses named (DUIS 5.4 spellings, read loosely); FieldError on ``refuse``."""
    found: set[InventoryStatus] = set()
    for text in texts:
        try:
            found.add(InventoryStatus.parse(text))
        except FieldError as exc:
            raise FieldError("refuse", exc.problem) from None
    return frozenset(found)


def in_order(statuses: Iterable[InventoryStatus]) -> list[str]:
    """The statuses' values in DUIS's order (as recorded and shown)."""
    chosen = set(statuses)
    return [status.value for status in InventoryStatus if status in chosen]


def refusal_reason(
    status: InventoryStatus | None, refused: frozenset[InventoryStatus], source: str
) -> str | None:
    """Why a device whose ``source`` (e.g. "the DCC's Read Inventory response X of T") says
    ``status`` must not be triaged, or None when the status allows it."""
    if status is None or status not in refused:
        return None
    return (
        f"{source} says {status.value}: {status.meaning()}; the facility refuses triage of "
        f"devices {', '.join(in_order(refused))} in the Smart Metering Inventory"
    )
