"""REST endpoints of the security team: thresholds, alerts, suspensions and the access review.

No "from __future__ import annotations" here: FastAPI must see the dependency types that are
defined inside ``build_security_router``.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from triage.bootstrap import App
from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.entrypoints.api.fields import Limit, Offset
from triage.entrypoints.api.routing import ThreadedRoute
from triage.entrypoints.api.security import operator_dependency, requires
from triage.entrypoints.schemas.common import Page
from triage.entrypoints.schemas.security import (
    AccessReviewOut,
    AlertOut,
    FacilitySettingsOut,
    OperatorStateOut,
    ThresholdSettingOut,
    ThresholdsOut,
    ToolOut,
    WorkingHoursOut,
    WorkingHoursSetOut,
)
from triage.services import access_review, anomaly, facility, reinstatement, tools


class ThresholdIn(BaseModel):
    scope: Literal["facility", "tool", "operator"]
    subject_id: str | None = Field(
        default=None, max_length=64, description="The tool or operator; none for the facility."
    )
    metric: Literal[
        "resets",
        "refused_commands",
        "failed_verifications",
        "out_of_hours",
        "unexpected_consignment",
    ]
    max_count: int = Field(description="Events allowed in the window; one more is a breach.")
    window_minutes: int = Field(description="The sliding window, in minutes.")


class WorkingHoursIn(BaseModel):
    start: str | None = Field(
        default=None, max_length=5, description="HH:MM, the facility's local time; none clears."
    )
    end: str | None = Field(
        default=None, max_length=5, description="HH:MM, the facility's local time; none clears."
    )
    days: list[str] | None = Field(
        default=None, max_length=7, description="mon..sun (default mon-fri)."
    )


class FacilitySettingsIn(BaseModel):
    max_reset_attempts: int | None = Field(
        default=None, description="Reset attempts a job gets (1 to 10); none: unchanged."
    )
    work_order_minutes: int | None = Field(
        default=None, description="Minutes a work order stays valid (1 to 240); none: unchanged."
    )


class ResolutionIn(BaseModel):
    resolution: str = Field(max_length=2000)


class ReasonIn(BaseModel):
    reason: str = Field(max_length=2000)


def build_security_router(application: App) -> APIRouter:
    """The security routes for one facility."""
    uow = application.uow
    Operator = Annotated[Caller, Depends(operator_dependency(application))]
    router = APIRouter(prefix="/api/v1", tags=["security"], route_class=ThreadedRoute)

    @router.get("/thresholds", **requires(application, Permission.ACCESS_REVIEW))
    def get_thresholds(caller: Operator) -> ThresholdsOut:
        """The anomaly thresholds and working hours in force."""
        return ThresholdsOut.model_validate(anomaly.thresholds(uow, caller).to_json())

    @router.put("/thresholds", **requires(application, Permission.THRESHOLD_MANAGE))
    def put_threshold(body: ThresholdIn, caller: Operator) -> ThresholdSettingOut:
        """Set a threshold facility-wide or for one tool or operator (a security manager)."""
        setting = anomaly.set_threshold(
            uow,
            caller,
            body.scope,
            body.subject_id,
            body.metric,
            body.max_count,
            body.window_minutes,
        )
        return ThresholdSettingOut.model_validate(setting.to_json())

    @router.put("/working-hours", **requires(application, Permission.THRESHOLD_MANAGE))
    def put_working_hours(body: WorkingHoursIn, caller: Operator) -> WorkingHoursSetOut:
        """Set the facility's working hours in its local time zone (TRIAGE_TIME_ZONE), or clear
        them with no start and end."""
        hours = anomaly.set_working_hours(uow, caller, body.start, body.end, body.days)
        return WorkingHoursSetOut(
            working_hours=None if hours is None else WorkingHoursOut(**hours.to_json())
        )

    @router.get("/facility/settings", **requires(application, Permission.TRIAGE_READ))
    def get_facility_settings(caller: Operator) -> FacilitySettingsOut:
        """The reset attempts a job gets and how long a work order stays valid."""
        attempts, minutes = facility.current_settings(uow, caller)
        return FacilitySettingsOut(max_reset_attempts=attempts, work_order_minutes=minutes)

    @router.put("/facility/settings", **requires(application, Permission.FACILITY_MANAGE))
    def put_facility_settings(body: FacilitySettingsIn, caller: Operator) -> FacilitySettingsOut:
        """Change the reset attempts a job gets or how long a work order stays valid (an
        administrator; recorded in the ledger)."""
        attempts, minutes = facility.change_settings(
            uow, caller, body.max_reset_attempts, body.work_order_minutes
        )
        return FacilitySettingsOut(max_reset_attempts=attempts, work_order_minutes=minutes)

    @router.get("/alerts", **requires(application, Permission.ALERT_READ))
    def list_alerts(
        caller: Operator,
        status: Literal["open", "resolved", "all"] = "open",
        offset: Offset = 0,
        limit: Limit = 50,
    ) -> Page[AlertOut]:
        """Anomaly alerts, oldest first (a security manager)."""
        items, total = anomaly.alerts(
            uow, caller, None if status == "all" else status, offset, limit
        )
        return Page(items=[AlertOut.of(a) for a in items], total=total, offset=offset, limit=limit)

    @router.post("/alerts/{alert_id}/resolve", **requires(application, Permission.ALERT_READ))
    def resolve_alert(alert_id: str, body: ResolutionIn, caller: Operator) -> AlertOut:
        """Record how an alert was dealt with (reinstating is a separate act)."""
        return AlertOut.of(anomaly.resolve_alert(uow, caller, alert_id, body.resolution))

    @router.post(
        "/operators/{operator_id}/reinstate",
        **requires(application, Permission.SUSPENSION_REINSTATE),
    )
    def reinstate_operator(operator_id: str, body: ReasonIn, caller: Operator) -> OperatorStateOut:
        """Let a suspended operator act again (a security manager, with a reason)."""
        found = reinstatement.reinstate_operator(uow, caller, operator_id, body.reason)
        return OperatorStateOut.model_validate(found)

    @router.post("/tools/{tool_id}/suspend", **requires(application, Permission.TOOL_MANAGE))
    def suspend_tool(tool_id: str, body: ReasonIn, caller: Operator) -> ToolOut:
        """Stop a tool being given work or heard from, until a security manager reinstates it."""
        return ToolOut.model_validate(tools.suspend_tool(uow, caller, tool_id, body.reason))

    @router.post(
        "/tools/{tool_id}/reinstate", **requires(application, Permission.SUSPENSION_REINSTATE)
    )
    def reinstate_tool(tool_id: str, body: ReasonIn, caller: Operator) -> ToolOut:
        """Put a suspended tool back in service (a security manager, with a reason)."""
        found = reinstatement.reinstate_tool(uow, caller, tool_id, body.reason)
        return ToolOut.model_validate(found)

    @router.post("/tools/{tool_id}/retire", **requires(application, Permission.TOOL_MANAGE))
    def retire_tool(tool_id: str, body: ReasonIn, caller: Operator) -> ToolOut:
        """Take a tool out of service for good."""
        return ToolOut.model_validate(tools.retire_tool(uow, caller, tool_id, body.reason))

    @router.get(
        "/access-review",
        response_model=AccessReviewOut,
        responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
        **requires(application, Permission.ACCESS_REVIEW),
    )
    def get_access_review(caller: Operator, format: Literal["json", "csv"] = "json") -> Response:
        """Who holds which role, their credentials, the tools and the thresholds (JSON or CSV)."""
        review = access_review.access_review(uow, caller)
        if format == "csv":
            stamp = review.generated_at.strftime("%Y%m%dT%H%M%SZ")
            return Response(
                access_review.to_csv(review),
                media_type="text/csv; charset=utf-8",
                headers={
                    "Content-Disposition": f'attachment; filename="access-review-{stamp}.csv"'
                },
            )
        return JSONResponse(access_review.to_dict(review))

    return router
