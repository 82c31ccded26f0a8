"""Thresholds, alerts, tools and the access review as the API and ``--json`` show them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from triage.domain.alert import Alert
from triage.domain.tool import ToolStatus
from triage.entrypoints.schemas.common import Record, SubjectOut, Time


class FacilityLimitOut(BaseModel):
    metric: str
    applies_to: str = Field(description="tool or operator")
    max_count: int
    window_minutes: int
    source: str = Field(description="'default', or 'facility' when a manager set it.")


class ThresholdSettingOut(BaseModel):
    scope: str
    subject_id: str = Field(description="The tool or operator; '' for the facility.")
    metric: str
    max_count: int
    window_minutes: int


class WorkingHoursOut(BaseModel):
    start: str = Field(description="HH:MM on the clocks of zone")
    end: str = Field(description="HH:MM on the clocks of zone")
    days: list[str]
    zone: str = Field(
        description="The IANA time zone the hours are in: the facility's when they were set."
    )


class ThresholdsOut(BaseModel):
    facility: list[FacilityLimitOut]
    overrides: list[ThresholdSettingOut]
    working_hours: WorkingHoursOut | None = Field(description="None: every hour is working time.")


class WorkingHoursSetOut(BaseModel):
    working_hours: WorkingHoursOut | None


class FacilitySettingsOut(BaseModel):
    max_reset_attempts: int = Field(description="Reset attempts a job gets before quarantine.")
    work_order_minutes: int = Field(description="How long a work order stays valid.")


class AlertOut(BaseModel):
    id: str
    metric: str
    subject: SubjectOut
    detail: dict[str, Any] = Field(description="What was counted or found; varies by metric.")
    status: str
    raised_at: Time
    resolved_by: str | None
    resolution: str | None
    resolved_at: Time | None

    @classmethod
    def of(cls, found: Alert) -> AlertOut:
        return cls.model_validate(found.to_json())


class OperatorStateOut(Record):
    id: str
    suspended: bool
    active: bool


class ToolOut(Record):
    id: str
    bench: str
    status: ToolStatus
    enrolled_at: Time


class ReviewOperatorOut(BaseModel):
    id: str
    name: str
    roles: list[str]
    benches: list[str]
    status: str
    mfa_enrolled: bool
    last_login_at: str | None
    created_at: str


class ReviewTokenOut(BaseModel):
    id: str
    operator_id: str
    label: str
    scopes: list[str]
    bench: str | None
    created_at: str
    expires_at: str


class ReviewToolOut(BaseModel):
    id: str
    bench: str
    status: str
    status_reason: str | None
    status_changed_at: str | None
    enrolled_at: str


class AccessReviewOut(BaseModel):
    """The access review (GET /access-review, also kept as assurance evidence)."""

    facility: str
    generated_at: str
    generated_by: str
    operators: list[ReviewOperatorOut]
    tokens: list[ReviewTokenOut]
    tools: list[ReviewToolOut]
    thresholds: ThresholdsOut
    open_alerts: list[AlertOut]
