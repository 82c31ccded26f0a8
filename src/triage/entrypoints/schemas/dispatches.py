"""The API's shapes of dispatches: packing with the VVTT checks, the handover and the asset
owner's acknowledgement (issue 19 item 2)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from triage.domain.dispatch import Dispatch
from triage.entrypoints.schemas.common import Record, Time

Line = Annotated[str, Field(min_length=1, max_length=100)]
DeviceText = Annotated[str, Field(min_length=1, max_length=64)]
DiscrepancyKindIn = Literal[
    "missing", "seal_number_mismatch", "seal_damaged", "unexpected_device", "other"
]


class DispatchIn(BaseModel):
    asset_owner: Annotated[str, Field(min_length=1, max_length=100)]
    destination: Literal["asset_owner", "manufacturer", "dcc"] = Field(
        description="asset_owner: released devices; manufacturer: devices returned to it; "
        "dcc: communications hubs returned to the DCC."
    )
    reference: Annotated[str, Field(max_length=100)] | None = Field(
        default=None,
        description="The RMA reference of a return to the manufacturer, or the DCC's return "
        "reference of a return to the DCC.",
    )


class SealChecksIn(BaseModel):
    """The VVTT checks the packer confirms, each yes or no."""

    viewed: bool
    verified: bool = Field(description="The seal's number matches the records.")
    tugged: bool
    twisted: bool


class PackIn(BaseModel):
    device_id: DeviceText
    seal_serial: Annotated[str, Field(max_length=64)] = Field(
        description="The serial scanned from the device's seal (empty: the device has none)."
    )
    checks: SealChecksIn


class UnpackIn(BaseModel):
    device_id: DeviceText


class HandoverIn(BaseModel):
    carrier: Line
    vehicle: Line = Field(description="The vehicle's registration.")
    container_seal: Line = Field(description="The number of the container or vehicle seal.")


class DiscrepancyIn(BaseModel):
    device_id: DeviceText
    kind: DiscrepancyKindIn
    text: Annotated[str, Field(max_length=500)] = ""


class AcknowledgementIn(BaseModel):
    """Receipt acknowledged as a recorded act by a person of the asset owner."""

    discrepancies: list[DiscrepancyIn] = Field(default_factory=list, max_length=600)


class SealChecksOut(Record):
    viewed: bool
    verified: bool
    tugged: bool
    twisted: bool


class PackedDeviceOut(Record):
    device_id: str
    job_id: str
    seal_serial: str | None
    checks: SealChecksOut
    packed_by: str
    packed_at: Time


class RefusedPackingOut(Record):
    device_id: str
    seal_serial: str
    checks: SealChecksOut
    exception_id: str
    by: str
    at: Time


class HandoverOut(Record):
    carrier: str
    vehicle: str
    container_seal: str
    by: str
    at: Time


class AcknowledgementOut(Record):
    by: str
    how: Literal["signed", "act"]
    digest: str | None = Field(description="The signed acknowledgement's document SHA-256.")
    at: Time


class DiscrepancyOut(Record):
    device_id: str
    kind: str
    text: str
    exception_id: str | None


class DispatchSummaryOut(Record):
    id: str
    asset_owner: str
    destination: str
    reference: str | None
    state: str
    created_at: Time
    device_count: int


class DispatchOut(Record):
    id: str
    asset_owner: str
    destination: str
    reference: str | None
    state: str
    created_by: str
    created_at: Time
    devices: list[PackedDeviceOut]
    refused: list[RefusedPackingOut]
    closed_at: Time | None
    manifest_digest: str | None
    note_digest: str | None
    handover: HandoverOut | None
    acknowledgement: AcknowledgementOut | None
    discrepancies: list[DiscrepancyOut]

    @classmethod
    def of(cls, found: Dispatch) -> DispatchOut:
        return cls.model_validate(found)
