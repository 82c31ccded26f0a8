"""Seals as JSON, the same for the API and the command line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from triage.domain.seals import Discrepancy, Seal, discrepancy_json
from triage.ledger.entry import format_time


def plain(value: Any) -> Any:
    """``value`` with every datetime spelt as entries spell it (RFC 3339 UTC with 'Z')."""
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [plain(v) for v in value]
    return value


def plain_dict(value: Mapping[str, Any]) -> dict[str, Any]:
    """``plain`` for a mapping, typed as the dict it returns."""
    return {k: plain(v) for k, v in value.items()}


def seal_json(found: Seal) -> dict[str, Any]:
    """One seal as it is now."""
    return plain_dict(
        {
            "serial": found.serial,
            "batch_id": found.batch_id,
            "status": found.status.value,
            "where": found.describe(),
            "store": found.store,
            "holder": found.holder,
            "device_id": found.device_id,
            "job_id": found.job_id,
            "issued_at": found.issued_at,
            "status_at": found.status_at,
        }
    )


def discrepancies_json(items: Sequence[Discrepancy]) -> list[dict[str, Any]]:
    return [discrepancy_json(d) for d in items]
