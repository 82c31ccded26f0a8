"""The API's shapes of retention: rules per kind of evidence file, legal holds and purges."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from triage.entrypoints.schemas.common import Record, Time
from triage.services.retention import KindRule


class RuleOut(BaseModel):
    kind: str = Field(description="The kind of evidence file.")
    title: str
    days: int = Field(description="How many days a file is kept.")
    counted_from: str = Field(
        description="case_closed: after its device's triage job closed; recorded: after upload."
    )
    default: bool = Field(description="True while no rule was set (the product's default).")
    set_by: str | None
    set_at: Time | None

    @classmethod
    def of(cls, found: KindRule) -> RuleOut:
        rule = found.rule
        return cls(
            kind=found.kind.name,
            title=found.kind.title,
            days=rule.days,
            counted_from=rule.counted_from.value,
            default=found.is_default,
            set_by=rule.set_by,
            set_at=rule.set_at,
        )


class RuleIn(BaseModel):
    days: int = Field(ge=1, le=36600, description="How many days files of this kind are kept.")


class HoldOut(Record):
    id: str
    scope: str
    target: str = Field(description="The device id, the consignment id or the file's SHA-256.")
    reason: str
    placed_by: str
    placed_at: Time
    released_by: str | None
    released_at: Time | None
    release_reason: str | None


class HoldIn(BaseModel):
    scope: Literal["device", "consignment", "file"]
    target: str = Field(
        max_length=100, description="A Device ID, a consignment reference or id, or a SHA-256."
    )
    reason: str = Field(max_length=500)


class ReleaseIn(BaseModel):
    reason: str = Field(max_length=500)


class DueFileOut(BaseModel):
    sha256: str
    kind: str
    name: str
    size: int
    rule_days: int
    expired_at: Time


class PurgedOut(Record):
    sha256: str
    kind: str
    name: str
    size: int
    rule_days: int
    purged_at: Time
    purged_by: str


class PurgePlanOut(BaseModel):
    due: list[DueFileOut] = Field(description="Files past their retention and not held.")
    unfinished: list[PurgedOut] = Field(
        description="Files recorded as purged but still on disk (the next purge deletes them)."
    )


class PurgeRunOut(BaseModel):
    dry_run: bool
    purged: list[DueFileOut] = Field(description="The files recorded as purged (or, dry: due).")
    deleted: int = Field(description="How many files were deleted from the evidence store.")
