"""The API's shapes of DUIS requests out: batches and the requests in them (issue 20, B)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from triage.domain.duis_request import DuisBatch, ProducedRequest
from triage.entrypoints.schemas.common import Record, Time


class BatchIn(BaseModel):
    asset_owner: Annotated[str, Field(min_length=1, max_length=100)]
    dispatch_id: Annotated[str, Field(min_length=1, max_length=36)] | None = Field(
        default=None, description="Only the devices of this dispatch."
    )
    consignment_id: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description="Only the devices of this consignment (its id or reference)."
    )


class RequestOut(Record):
    request_id: str = Field(description="originator EUI-64 : DCC EUI-64 : counter.")
    service_reference: str
    description: str
    device_id: str
    asset_owner: str | None
    job_id: str | None
    purpose: str
    sha256: str = Field(description="SHA-256 of the XML file as written (unsigned).")
    size: int
    produced_by: str
    produced_at: Time
    batch_id: str | None


class BatchSummaryOut(Record):
    id: str
    asset_owner: str
    sha256: str = Field(description="SHA-256 of the ZIP as handed out.")
    size: int
    request_count: int
    dispatch_id: str | None
    consignment_id: str | None
    produced_by: str
    produced_at: Time


class BatchOut(BatchSummaryOut):
    requests: list[RequestOut]

    @classmethod
    def of(cls, batch: DuisBatch, requests: list[ProducedRequest]) -> BatchOut:
        summary = BatchSummaryOut.model_validate(batch)
        listed = [RequestOut.model_validate(r) for r in requests]
        return cls(**dict(summary), requests=listed)
