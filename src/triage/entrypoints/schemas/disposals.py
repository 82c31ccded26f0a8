"""The API's shapes of destruction and return evidence: destruction methods, disposals, and the
witness of a destruction."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field

from triage.domain.disposal import (
    DEFAULT_CONFIDENTIALITY,
    MAX_EVIDENCE_FILES,
    DestructionMethod,
    DisposalRecord,
)
from triage.entrypoints.schemas.common import Time

Line = Annotated[str, Field(max_length=500)]


class MethodOut(BaseModel):
    code: str
    name: str
    category: str = Field(description="NIST SP 800-88 Rev.1 category: clear, purge or destroy.")
    description: str
    tool: str
    verification: str
    destination: str = Field(description="Where what is left goes after sanitisation.")
    confidentiality: str = Field(description="The media's confidentiality before sanitisation.")
    active: bool

    @classmethod
    def of(cls, method: DestructionMethod) -> MethodOut:
        return cls.model_validate(method.as_data())


class MethodIn(BaseModel):
    name: Annotated[str, Field(max_length=100)]
    category: Annotated[str, Field(max_length=10, description="clear, purge or destroy")]
    description: Line
    tool: Annotated[str, Field(max_length=200)]
    verification: Annotated[str, Field(max_length=300)]
    destination: Annotated[str, Field(max_length=200)]
    confidentiality: Annotated[str, Field(max_length=200)] = DEFAULT_CONFIDENTIALITY
    active: bool = True


class EvidenceFileOut(BaseModel):
    sha256: str
    media_type: str
    size: int


class EvidenceFileIn(BaseModel):
    sha256: Annotated[str, Field(max_length=64)]
    media_type: Annotated[str, Field(max_length=40)]
    size: int


class DestructionIn(BaseModel):
    """A destruction; its evidence files are uploaded first (POST /disposals/evidence)."""

    job_id: Annotated[str, Field(max_length=64)]
    reference: Annotated[str, Field(max_length=100, description="The destruction's reference.")]
    method: Annotated[str, Field(max_length=40, description="A destruction method's code.")]
    site: Annotated[str, Field(max_length=200, description="Where, or which contractor.")]
    contact: Annotated[str, Field(max_length=200)] = ""
    destroyed_on: dt.date = Field(description="The day of the destruction (not in the future).")
    evidence: list[EvidenceFileIn] = Field(max_length=MAX_EVIDENCE_FILES)


class ReturnIn(BaseModel):
    job_id: Annotated[str, Field(max_length=64)]
    reference: Annotated[str, Field(max_length=100, description="The returns authorisation.")]
    manufacturer: Annotated[str | None, Field(max_length=200)] = None


class WitnessIn(BaseModel):
    statement: Annotated[str, Field(max_length=500, description="What the witness saw.")]


class BatchIn(BaseModel):
    """The devices of a batch certificate, or the days of their destructions."""

    devices: list[Annotated[str, Field(max_length=64)]] | None = Field(default=None, max_length=500)
    since: dt.date | None = None
    until: dt.date | None = None


class DisposalOut(BaseModel):
    job_id: str
    device_id: str
    kind: str = Field(description="destroy or return")
    reference: str = Field(description="The RMA of a return; the destruction's reference.")
    recorded_by: str
    role: str | None
    recorded_at: Time
    manufacturer: str | None
    model: str | None
    asset_owner: str | None
    method: MethodOut | None
    site: str | None
    contact: str | None
    destroyed_on: dt.date | None
    evidence: list[EvidenceFileOut]
    witness_id: str | None
    witness_statement: str | None
    witnessed_at: Time | None

    @classmethod
    def of(cls, record: DisposalRecord) -> DisposalOut:
        return cls(
            job_id=record.job_id,
            device_id=record.device_id,
            kind=record.kind,
            reference=record.reference,
            recorded_by=record.recorded_by,
            role=record.role,
            recorded_at=record.recorded_at,
            manufacturer=record.manufacturer,
            model=record.model,
            asset_owner=record.asset_owner,
            method=None if record.method is None else MethodOut.of(record.method),
            site=record.site,
            contact=record.contact,
            destroyed_on=record.destroyed_on,
            evidence=[EvidenceFileOut(**f.as_data()) for f in record.evidence],
            witness_id=record.witness_id,
            witness_statement=record.witness_statement,
            witnessed_at=record.witnessed_at,
        )
