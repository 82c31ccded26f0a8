"""Consignments: batches of devices returned by an asset owner, with their expected list."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class ConsignmentStatus(StrEnum):
    """Open while devices may still arrive."""

    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class Consignment:
    """A batch returned by one asset owner under its reference."""

    id: str
    reference: str
    asset_owner: str
    status: ConsignmentStatus
    created_at: datetime
    closed_at: datetime | None
    expected: int = 0
    arrived: int = 0


@dataclass(frozen=True)
class ManifestProblem:
    """One bad row of a manifest: where it is, which field, what is wrong."""

    line: int
    field: str
    problem: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.problem}"


@dataclass(frozen=True)
class ManifestRow:
    """One row of a manifest as read from its file: where it is, its text fields, and a problem
    with the row's shape (such as too many values) when it could not be read into fields."""

    line: int
    fields: Mapping[str, str] = field(default_factory=dict)
    problem: str | None = None
