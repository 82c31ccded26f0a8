"""Issue 20 (C): communications hubs back to the DCC, read from the projections
(uow.hub_returns)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, bindparam, select

from triage.adapters.fastsql import Statement
from triage.adapters.rows import utc
from triage.adapters.tables import hub_policy, hub_return
from triage.domain.hub_return import (
    ConnectionMethod,
    FaultReason,
    FaultReturnType,
    HubPolicy,
    HubReturn,
    HubReturnRecord,
    NoFaultReturnType,
    ReturnKind,
)

# Read when a hub's job takes the reset path (compiled once: fastsql).
_POLICY = Statement(
    select(hub_policy.c.allow_reset, hub_policy.c.set_by, hub_policy.c.set_at).where(
        hub_policy.c.facility_id == bindparam("facility_id")
    )
)


class SqlHubReturnRepository:
    """``HubReturnRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def for_job(self, job_id: str) -> HubReturnRecord | None:
        query = select(hub_return).where(hub_return.c.job_id == job_id)
        row = self._conn.execute(query).mappings().first()
        return None if row is None else record_of(row)

    def returns(
        self, scope: str | None = None, device_id: str | None = None, limit: int = 200
    ) -> list[HubReturnRecord]:
        query = select(hub_return).order_by(hub_return.c.returned_at.desc(), hub_return.c.job_id)
        if scope is not None:
            query = query.where(hub_return.c.asset_owner == scope)
        if device_id is not None:
            query = query.where(hub_return.c.device_id == device_id)
        rows = self._conn.execute(query.limit(limit)).mappings()
        return [record_of(r) for r in rows]

    def policy(self, facility_id: str) -> HubPolicy:
        row = _POLICY.first(self._conn, facility_id=facility_id)
        if row is None:
            return HubPolicy()
        allow_reset, set_by, set_at = row
        return HubPolicy(bool(allow_reset), set_by, utc(set_at))


def record_of(row: Mapping[Any, Any]) -> HubReturnRecord:
    """A return from its ``hub_return`` row (``projector_hub_returns.return_row``)."""
    kind = ReturnKind(row["kind"])
    types: type[FaultReturnType] | type[NoFaultReturnType] = (
        FaultReturnType if kind is ReturnKind.FAULT else NoFaultReturnType
    )
    details = HubReturn(
        kind,
        types(row["return_type"]),
        row["dcc_reference"],
        FaultReason(row["fault_reason"]) if row["fault_reason"] else None,
        ConnectionMethod(row["connection_method"]) if row["connection_method"] else None,
        row["other_device_id"],
        row["user_ref_id"],
        row["incident_reference"],
        row["additional_information"],
    )
    return HubReturnRecord(
        job_id=row["job_id"],
        device_id=row["device_id"],
        device_type=row["device_type"],
        asset_owner=row["asset_owner"],
        details=details,
        returned_by=row["returned_by"],
        returned_at=utc(row["returned_at"]),
        request_id=row["request_id"],
    )
