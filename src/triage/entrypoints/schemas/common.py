"""Field types and shapes every answer shares: times, pages, plain acknowledgements."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from triage.domain.signed_document import FORMAT
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


# A signed document (triage.domain.signed_document), as the file handed out is written.
SIGNED_DOCUMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A signed document: its format, kind, the document and the C2SP signed "
    "note over the SHA-256 of its canonical JSON (check it with `triage verify FILE --key`).",
    "required": ["format", "kind", "document", "note"],
    "properties": {
        "format": {"type": "string", "const": FORMAT},
        "kind": {"type": "string"},
        "document": {"type": "object"},
        "note": {"type": "string"},
    },
}

# The same, as a route's 200 answer.
SIGNED_DOCUMENT: dict[str, Any] = {
    "content": {"application/json": {"schema": SIGNED_DOCUMENT_SCHEMA}}
}
