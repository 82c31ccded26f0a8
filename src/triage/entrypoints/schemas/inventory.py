"""Request and answer models of Smart Metering Inventory readings (DUIS 8.2 in) and the SMI
gate's refused statuses (issue 20)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from triage.domain.device import InventoryStatus
from triage.entrypoints.schemas.common import Record, Time


class InventoryReadingOut(Record):
    seq: int
    device_id: str
    status: InventoryStatus | None = Field(description="None: the response gave no status.")
    device_type: str = Field(description="The DUIS name: ESME, GSME, GPF, CHF, ...")
    manufacturer: str
    model: str
    firmware_version: str | None
    smets_chts_version: str | None
    chf_id: str | None = Field(description="The comms hub the response shows it with.")
    date_commissioned: date | None
    response_id: str | None
    request_id: str | None
    response_at: Time
    sha256: str = Field(description="SHA-256 of the response file kept as evidence.")
    job_id: str | None
    consignment_id: str | None
    recorded_by: str
    recorded_at: Time


class DeviceOutcomeOut(Record):
    device_id: str
    recorded: bool = Field(description="False: the facility does not hold it; not recorded.")
    where: str = Field(description="The job or consignment, or why it is not held.")
    status: str | None
    mismatches: list[str] = Field(description="Each difference from the manifest.")
    exception_ids: list[str] = Field(description="The exception raised for each difference.")
    refusal: str | None = Field(description="Why the SMI gate now refuses its triage, if so.")


class InventoryImportOut(Record):
    sha256: str
    response_id: str | None
    request_id: str | None
    response_at: str
    devices: list[DeviceOutcomeOut]


class SmiPolicyIn(BaseModel):
    refuse: list[str] = Field(
        max_length=len(InventoryStatus),
        description="The DUIS 5.4 statuses in which triage is refused (empty: none).",
    )


class SmiPolicyOut(BaseModel):
    refuse: list[str]
