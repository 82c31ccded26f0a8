"""Field types and shapes every answer shares: times, pages, plain acknowledgements."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from triage.ledger.entry import format_time

# Every time an answer gives is RFC 3339 in UTC with a 'Z', as ledger entries spell it.
Time = Annotated[
    datetime,
    PlainSerializer(format_time, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class Record(BaseModel):
    """A model read from a service's record by attribute."""

    model_config = ConfigDict(from_attributes=True)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list, with how many there are in all."""

    items: list[T]
    total: int
    offset: int
    limit: int


class StatusOut(BaseModel):
    status: str = Field(description="What was done.")


class SubjectOut(BaseModel):
    kind: str
    id: str | None


def dump(model: BaseModel) -> dict[str, Any]:
    """A model as the JSON object the API sends (for the command line's ``--json``)."""
    return model.model_dump(mode="json")
