"""The API's shapes of the incident and vulnerability register (issue 20, D)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from triage.domain.incident import Incident
from triage.entrypoints.schemas.common import Time

SeverityIn = Literal["low", "medium", "high", "critical"]


class NotificationOut(BaseModel):
    recipient: str = Field(description="Who must be (or was) notified: ssc, smki_pma...")
    deadline: Time | None = Field(description="By when the rules require it (none: not required).")
    notified_at: Time | None
    notified_by: str | None
    reference: str | None = Field(description="The reference the recipient gave.")
    recorded_at: Time | None
    overdue: bool = Field(description="Not made, its deadline passed, the incident not closed.")
    late: bool = Field(description="Made after its deadline.")
    overdue_alert_id: str | None = Field(description="The alert raised when it became overdue.")


class AboutOut(BaseModel):
    kind: str
    id: str


class IncidentOut(BaseModel):
    id: str
    kind: Literal["incident", "vulnerability"]
    source: str = Field(description="manual, or the automatic source that raised it.")
    severity: str
    category: str
    title: str
    summary: str
    status: Literal["open", "contained", "closed"]
    about: AboutOut | None = Field(description="What an automatic source raised it about.")
    detail: dict[str, Any] | None
    component: str | None = Field(description="A vulnerability's affected component.")
    reference: str | None = Field(description="A vulnerability's CVE or other reference.")
    remediation_due: date | None
    rules_version: str | None = Field(description="The notification rules its deadlines follow.")
    raised_by: str
    raised_at: Time
    contained_by: str | None
    contained_at: Time | None
    containment: str | None
    closed_by: str | None
    closed_at: Time | None
    closure: str | None
    closure_justification: str | None = Field(
        description="Why it was closed without a required notification."
    )
    overdue: bool
    notifications: list[NotificationOut]

    @classmethod
    def of(cls, found: Incident, at: datetime) -> IncidentOut:
        return cls.model_validate(found.to_json(at))


class IncidentIn(BaseModel):
    title: str = Field(max_length=200)
    summary: str = Field(max_length=4000)
    severity: SeverityIn
    category: str = Field(max_length=60, description="One of the rules' categories.")


class VulnerabilityIn(IncidentIn):
    category: str = Field(default="software_vulnerability", max_length=60)
    component: str = Field(max_length=200, description="The affected component and version.")
    reference: str | None = Field(default=None, max_length=100, description="A CVE or other.")
    remediation_due: date | None = Field(default=None, description="Remedied by this day.")


class NotificationIn(BaseModel):
    recipient: str = Field(max_length=60, description="ssc, smki_pma or another of the rules'.")
    reference: str = Field(max_length=200, description="The reference the recipient gave.")
    notified_at: datetime | None = Field(default=None, description="When (default: now).")


class SeverityChangeIn(BaseModel):
    severity: SeverityIn
    reason: str = Field(max_length=4000)


class TextIn(BaseModel):
    text: str = Field(max_length=4000)


class ClosureIn(TextIn):
    justification: str | None = Field(
        default=None,
        max_length=4000,
        description="Why a required notification was not made (needed only then).",
    )


class RulesOut(BaseModel):
    version: str
    sha256: str
    default: bool = Field(description="True while the facility recorded no rules of its own.")
    text: str = Field(description="The rules as YAML.")


class RulesIn(BaseModel):
    text: str = Field(max_length=65536, description="The rules as YAML.")


class SweepOut(BaseModel):
    alerts: list[str] = Field(description="The ids of the alerts raised.")
