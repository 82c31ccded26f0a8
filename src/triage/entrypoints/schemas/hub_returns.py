"""The API's shapes of communications hubs returned to the DCC (issue 20 item 4)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from triage.domain.hub_return import (
    MAX_ADDITIONAL_INFORMATION,
    MAX_DCC_REFERENCE,
    MAX_INCIDENT_REFERENCE,
    MAX_USER_REF_ID,
    HubPolicy,
    HubReturnRecord,
)
from triage.entrypoints.schemas.common import Time

Choice = Annotated[str, Field(max_length=100)]


class HubReturnIn(BaseModel):
    kind: Literal["fault", "no_fault"] = Field(
        description="fault: DUIS 8.14.3 CHFFaultReturn; no_fault: 8.14.4 CHFNoFaultReturn."
    )
    return_type: Choice = Field(
        description="CHFFaultReturnType or CHFNoFaultReturnType, as the DUIS schema spells it."
    )
    dcc_reference: Annotated[str, Field(min_length=1, max_length=MAX_DCC_REFERENCE)] = Field(
        description="The return reference the DCC gave for the hub."
    )
    fault_reason: Choice | None = Field(default=None, description="CHFFaultReason (fault).")
    connection_method: Choice | None = Field(
        default=None, description="CHFConnectionMethod (fault): Hot-shoe, Cradle or ESME."
    )
    other_device_id: Annotated[str, Field(max_length=64)] | None = Field(
        default=None, description="OtherDeviceID (fault): the device the hub was connected to."
    )
    user_ref_id: Annotated[str, Field(max_length=MAX_USER_REF_ID)] | None = None
    incident_reference: Annotated[str, Field(max_length=MAX_INCIDENT_REFERENCE)] | None = None
    additional_information: Annotated[str, Field(max_length=MAX_ADDITIONAL_INFORMATION)] | None = (
        None
    )


class HubReturnOut(BaseModel):
    job_id: str
    device_id: str
    device_type: int | None
    asset_owner: str | None
    kind: str
    service_reference: str
    return_type: str
    dcc_reference: str
    fault_reason: str | None
    connection_method: str | None
    other_device_id: str | None
    user_ref_id: str | None
    incident_reference: str | None
    additional_information: str | None
    request_id: str | None
    returned_by: str
    returned_at: Time

    @classmethod
    def of(cls, record: HubReturnRecord) -> HubReturnOut:
        d = record.details
        return cls(
            job_id=record.job_id,
            device_id=record.device_id,
            device_type=record.device_type,
            asset_owner=record.asset_owner,
            kind=d.kind.value,
            service_reference=d.kind.service_reference,
            return_type=d.return_type.value,
            dcc_reference=d.dcc_reference,
            fault_reason=d.fault_reason.value if d.fault_reason else None,
            connection_method=d.connection_method.value if d.connection_method else None,
            other_device_id=d.other_device_id,
            user_ref_id=d.user_ref_id,
            incident_reference=d.incident_reference,
            additional_information=d.additional_information,
            request_id=record.request_id,
            returned_by=record.returned_by,
            returned_at=record.returned_at,
        )


class HubPolicyIn(BaseModel):
    allow_reset: bool = Field(description="Whether a hub may take a meter's reset path.")


class HubPolicyOut(BaseModel):
    allow_reset: bool
    set_by: str | None
    set_at: Time | None

    @classmethod
    def of(cls, policy: HubPolicy) -> HubPolicyOut:
        return cls(allow_reset=policy.allow_reset, set_by=policy.set_by, set_at=policy.set_at)
