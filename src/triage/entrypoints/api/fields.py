"""Field types the API's models and parameters share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import AfterValidator, BeforeValidator

# Pagination of every list. An offset is bounded so that it fits the databases' 64-bit
# integers (a larger one was a 500 from SQLite); no list comes near it.
MAX_OFFSET = 1_000_000_000
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]
Limit = Annotated[int, Query(ge=1, le=500, description="Items to return.")]


def _not_a_number(value: Any) -> Any:
    # Pydantic reads a bare number as seconds since 1970; the API documents RFC 3339 text.
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, int | float) or (isinstance(text, str) and _is_number(text)):
        raise ValueError("a date and time such as 2027-01-31T18:00:00Z, not a number")
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _utc(value: datetime) -> datetime:
    # A time without a zone is read as UTC, as the web form and the command line read it.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


Timestamp = Annotated[datetime, BeforeValidator(_not_a_number), AfterValidator(_utc)]
