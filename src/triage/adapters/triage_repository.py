"""Reads of the current-state tables for the services (writes go through the ledger only)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, Integer, RowMapping, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from triage.adapters.rows import tool_from_row, utc
from triage.adapters.tables import (
    agent_nonce,
    api_token,
    consignment,
    consignment_device,
    decision,
    device,
    device_exception,
    facility_settings,
    operator,
    operator_bench,
    reset_result,
    tamper_policy,
    tool,
    triage_job,
    work_order,
)
from triage.domain.consignment import Consignment, ConsignmentStatus
from triage.domain.device import Device, DeviceId, DeviceType, InventoryStatus
from triage.domain.digests import token_hash
from triage.domain.intake_exception import IntakeException
from triage.domain.job import TriageJob
from triage.domain.lifecycle import JobState
from triage.domain.people import Operator
from triage.domain.roles import Permission, Role
from triage.domain.token import StoredToken
from triage.domain.tool import Tool
from triage.domain.work_order_record import ResetResult, StoredWorkOrder


def job_from_row(row: RowMapping) -> TriageJob:
    """A job from its table row."""
    return TriageJob(
        id=row["id"],
        device_id=row["device_id"],
        consignment_id=row["consignment_id"],
        state=JobState(row["state"]),
        inspector_id=row["inspector_id"],
        outcome=row["outcome"],
        reset_attempts=row["reset_attempts"],
        seal_serial=row["seal_serial"],
        opened_at=utc(row["opened_at"]),
        closed_at=utc(row["closed_at"]),
    )


def device_from_row(row: RowMapping, id_column: str = "id") -> Device:
    """A device from a row of ``device`` or ``consignment_device``."""
    return Device(
        id=DeviceId.parse(row[id_column]),
        type=DeviceType(row["device_type"]),
        manufacturer=row["manufacturer"],
        model=row["model"],
        firmware_version=row["firmware_version"],
        inventory_status=InventoryStatus(row["inventory_status"]),
        asset_owner=row["asset_owner"],
        smets_version=row["smets_version"],
        chf_id=DeviceId.parse(row["chf_id"]) if row["chf_id"] else None,
    )


class SqlTriageRepository:
    """Queries over the projections, on the unit of work's connection."""

    def __init__(self, conn: Connection, facility_id: str) -> None:
        self._conn = conn
        self._facility_id = facility_id

    # -- facility ---------------------------------------------------------------------------
    def settings(self) -> tuple[int, int]:
        """(max reset attempts, work order validity in minutes)."""
        row = (
            self._conn.execute(
                select(facility_settings).where(
                    facility_settings.c.facility_id == self._facility_id
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            return 3, 15
        return int(row["max_reset_attempts"]), int(row["work_order_minutes"])

    # -- operators and credentials ----------------------------------------------------------
    def operator(self, operator_id: str) -> Operator | None:
        row = (
            self._conn.execute(select(operator).where(operator.c.id == operator_id))
            .mappings()
            .first()
        )
        return None if row is None else operator_from_row(row)

    def operators(self) -> list[Operator]:
        rows = self._conn.execute(select(operator).order_by(operator.c.id)).mappings()
        return [operator_from_row(row) for row in rows]

    def operator_benches(self, operator_id: str) -> frozenset[str]:
        query = select(operator_bench.c.bench).where(operator_bench.c.operator_id == operator_id)
        return frozenset(self._conn.execute(query).scalars())

    def bench_assignments(self) -> dict[str, list[str]]:
        query = select(operator_bench.c.operator_id, operator_bench.c.bench).order_by(
            operator_bench.c.operator_id, operator_bench.c.bench
        )
        assigned: dict[str, list[str]] = {}
        for operator_id, bench in self._conn.execute(query):
            assigned.setdefault(operator_id, []).append(bench)
        return assigned

    def add_token(self, token: StoredToken, secret: str) -> None:
        """Store a token by its hash: the secret itself is shown once and never stored."""
        self._conn.execute(
            insert(api_token).values(
                id=token.id,
                operator_id=token.operator_id,
                token_hash=token_hash(secret),
                label=token.label,
                created_at=token.created_at,
                scopes=",".join(sorted(p.value for p in token.scopes or ())),
                expires_at=token.expires_at,
                bench=token.bench,
            )
        )

    def token_by_secret(self, secret: str) -> StoredToken | None:
        digest = token_hash(secret)
        row = self._conn.execute(select(api_token).where(api_token.c.token_hash == digest))
        found = row.mappings().first()
        return None if found is None else _token(found)

    def token(self, token_id: str) -> StoredToken | None:
        row = self._conn.execute(select(api_token).where(api_token.c.id == token_id))
        found = row.mappings().first()
        return None if found is None else _token(found)

    def tokens(self, operator_id: str | None = None) -> list[StoredToken]:
        query = select(api_token).order_by(api_token.c.operator_id, api_token.c.created_at)
        if operator_id is not None:
            query = query.where(api_token.c.operator_id == operator_id)
        return [_token(row) for row in self._conn.execute(query).mappings()]

    def revoke_token(self, token_id: str, at: datetime) -> None:
        self._conn.execute(
            update(api_token)
            .where(api_token.c.id == token_id, api_token.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )

    # -- tools ------------------------------------------------------------------------------
    def tool(self, tool_id: str) -> Tool | None:
        row = self._conn.execute(select(tool).where(tool.c.id == tool_id)).mappings().first()
        return None if row is None else tool_from_row(row)

    def use_agent_nonce(self, tool_id: str, nonce: str) -> bool:
        """Remember a signed request's nonce; False when it was seen before (a replay).

        One statement that the primary key decides (``ON CONFLICT DO NOTHING``): of two
        requests with one nonce, however close, exactly one inserts the row."""
        dialect_insert = pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        added = self._conn.execute(
            dialect_insert(agent_nonce)
            .values(tool_id=tool_id, nonce=nonce, seen_at=datetime.now(UTC))
            .on_conflict_do_nothing()
            .returning(agent_nonce.c.nonce)
        )
        return added.first() is not None

    # -- policy -----------------------------------------------------------------------------
    def active_policy_source(self) -> str | None:
        return self._conn.execute(
            select(tamper_policy.c.source).where(tamper_policy.c.active.is_(True))
        ).scalar_one_or_none()

    # -- consignments -----------------------------------------------------------------------
    def consignment(self, consignment_id: str) -> Consignment | None:
        row = (
            self._conn.execute(select(consignment).where(consignment.c.id == consignment_id))
            .mappings()
            .first()
        )
        return None if row is None else self._consignment(row)

    def consignment_by_reference(self, asset_owner: str, reference: str) -> Consignment | None:
        row = (
            self._conn.execute(
                select(consignment).where(
                    consignment.c.asset_owner == asset_owner, consignment.c.reference == reference
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else self._consignment(row)

    def consignments(self, offset: int, limit: int) -> tuple[list[Consignment], int]:
        total = self._conn.execute(select(func.count()).select_from(consignment)).scalar_one()
        rows = self._conn.execute(
            select(consignment)
            .order_by(consignment.c.created_at, consignment.c.id)
            .offset(offset)
            .limit(limit)
        ).mappings()
        return [self._consignment(row) for row in rows], int(total)

    def _consignment(self, row: RowMapping) -> Consignment:
        counts = self._conn.execute(
            select(
                func.count(),
                func.coalesce(func.sum(consignment_device.c.arrived.cast(Integer)), 0),
            ).where(consignment_device.c.consignment_id == row["id"])
        ).one()
        return Consignment(
            id=row["id"],
            reference=row["reference"],
            asset_owner=row["asset_owner"],
            status=ConsignmentStatus(row["status"]),
            created_at=utc(row["created_at"]),
            closed_at=utc(row["closed_at"]),
            expected=int(counts[0]),
            arrived=int(counts[1]),
        )

    def expected_in_open_consignment(self, device_id: str) -> tuple[str, Device, bool] | None:
        """(consignment id, device as the manifest has it, arrived) while it is still awaited."""
        row = (
            self._conn.execute(
                select(consignment_device)
                .join(consignment, consignment.c.id == consignment_device.c.consignment_id)
                .where(
                    consignment_device.c.device_id == device_id,
                    consignment_device.c.arrived.is_(False),
                    consignment.c.status == "open",
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        return row["consignment_id"], device_from_row(row, "device_id"), bool(row["arrived"])

    def expected_devices(self, device_ids: Sequence[str]) -> dict[str, str]:
        """Which of ``device_ids`` an open consignment still awaits, and which consignment."""
        found: dict[str, str] = {}
        for start in range(0, len(device_ids), 500):
            rows = self._conn.execute(
                select(consignment_device.c.device_id, consignment_device.c.consignment_id)
                .join(consignment, consignment.c.id == consignment_device.c.consignment_id)
                .where(
                    consignment.c.status == "open",
                    consignment_device.c.arrived.is_(False),
                    consignment_device.c.device_id.in_(device_ids[start : start + 500]),
                )
            )
            found.update({d: c for d, c in rows})
        return found

    def missing_devices(self, consignment_id: str) -> list[str]:
        rows = self._conn.execute(
            select(consignment_device.c.device_id)
            .where(
                consignment_device.c.consignment_id == consignment_id,
                consignment_device.c.arrived.is_(False),
            )
            .order_by(consignment_device.c.device_id)
        )
        return [r for (r,) in rows]

    # -- devices and jobs -------------------------------------------------------------------
    def device(self, device_id: str) -> Device | None:
        row = self._conn.execute(select(device).where(device.c.id == device_id)).mappings().first()
        return None if row is None else device_from_row(row)

    def job(self, job_id: str) -> TriageJob | None:
        row = (
            self._conn.execute(select(triage_job).where(triage_job.c.id == job_id))
            .mappings()
            .first()
        )
        return None if row is None else job_from_row(row)

    def open_job_for_device(self, device_id: str) -> TriageJob | None:
        row = (
            self._conn.execute(
                select(triage_job).where(
                    triage_job.c.device_id == device_id, triage_job.c.closed_at.is_(None)
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else job_from_row(row)

    def open_jobs_for_devices(self, device_ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(device_ids), 500):
            rows = self._conn.execute(
                select(triage_job.c.device_id, triage_job.c.id).where(
                    triage_job.c.closed_at.is_(None),
                    triage_job.c.device_id.in_(device_ids[start : start + 500]),
                )
            )
            found.update({d: j for d, j in rows})
        return found

    def jobs_for_device(self, device_id: str) -> list[TriageJob]:
        rows = self._conn.execute(
            select(triage_job)
            .where(triage_job.c.device_id == device_id)
            .order_by(triage_job.c.opened_at, triage_job.c.id)
        ).mappings()
        return [job_from_row(row) for row in rows]

    def jobs(self, state: JobState | None, offset: int, limit: int) -> tuple[list[TriageJob], int]:
        query = select(triage_job)
        count = select(func.count()).select_from(triage_job)
        if state is not None:
            query = query.where(triage_job.c.state == state.value)
            count = count.where(triage_job.c.state == state.value)
        rows = self._conn.execute(
            query.order_by(triage_job.c.opened_at, triage_job.c.id).offset(offset).limit(limit)
        ).mappings()
        return [job_from_row(row) for row in rows], int(self._conn.execute(count).scalar_one())

    def decision_count(self, job_id: str) -> int:
        return int(
            self._conn.execute(
                select(func.count()).select_from(decision).where(decision.c.job_id == job_id)
            ).scalar_one()
        )

    # -- work orders ------------------------------------------------------------------------
    def work_order(self, work_order_id: str) -> StoredWorkOrder | None:
        row = (
            self._conn.execute(select(work_order).where(work_order.c.id == work_order_id))
            .mappings()
            .first()
        )
        return None if row is None else _work_order(row)

    def issued_work_orders(self, tool_id: str, now: datetime) -> list[StoredWorkOrder]:
        rows = self._conn.execute(
            select(work_order)
            .where(
                work_order.c.tool_id == tool_id,
                work_order.c.status == "issued",
                work_order.c.expires_at > now,
            )
            .order_by(work_order.c.issued_at)
        ).mappings()
        return [_work_order(row) for row in rows]

    def live_work_order(self, job_id: str, now: datetime) -> StoredWorkOrder | None:
        row = (
            self._conn.execute(
                select(work_order).where(
                    work_order.c.job_id == job_id,
                    work_order.c.status == "issued",
                    work_order.c.expires_at > now,
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else _work_order(row)

    def expired_work_orders(self, before: datetime, limit: int) -> list[StoredWorkOrder]:
        rows = self._conn.execute(
            select(work_order)
            .where(work_order.c.status == "issued", work_order.c.expires_at <= before)
            .order_by(work_order.c.expires_at, work_order.c.id)
            .limit(limit)
        ).mappings()
        return [_work_order(row) for row in rows]

    def reset_results(self, job_id: str) -> list[ResetResult]:
        rows = self._conn.execute(
            select(reset_result).where(reset_result.c.job_id == job_id).order_by(reset_result.c.at)
        ).mappings()
        return [
            ResetResult(
                work_order_id=row["work_order_id"],
                job_id=row["job_id"],
                outcome=row["outcome"],
                verified=row["verified"],
                failures=tuple(json.loads(row["failures"])),
                before=row["before"],
                after=row["after"],
                detail=row["detail"],
                signed=row["signed"],
                at=utc(row["at"]),
            )
            for row in rows
        ]

    # -- exceptions -------------------------------------------------------------------------
    def exceptions(
        self, status: str | None, offset: int, limit: int
    ) -> tuple[list[IntakeException], int]:
        query = select(device_exception)
        count = select(func.count()).select_from(device_exception)
        if status is not None:
            query = query.where(device_exception.c.status == status)
            count = count.where(device_exception.c.status == status)
        rows = self._conn.execute(
            query.order_by(device_exception.c.raised_at).offset(offset).limit(limit)
        ).mappings()
        return [_exception(row) for row in rows], int(self._conn.execute(count).scalar_one())

    def exception(self, exception_id: str) -> IntakeException | None:
        row = (
            self._conn.execute(
                select(device_exception).where(device_exception.c.id == exception_id)
            )
            .mappings()
            .first()
        )
        return None if row is None else _exception(row)


def _work_order(row: RowMapping) -> StoredWorkOrder:
    return StoredWorkOrder(
        id=row["id"],
        job_id=row["job_id"],
        tool_id=row["tool_id"],
        device_id=row["device_id"],
        operator_id=row["operator_id"],
        nonce=row["nonce"],
        profile=row["profile"],
        status=row["status"],
        issued_at=utc(row["issued_at"]),
        expires_at=utc(row["expires_at"]),
        signed=row["signed"],
    )


def _exception(row: RowMapping) -> IntakeException:
    return IntakeException(
        id=row["id"],
        kind=row["kind"],
        device_id=row["device_id"],
        detail=row["detail"],
        status=row["status"],
        raised_by=row["raised_by"],
        raised_at=utc(row["raised_at"]),
        resolved_by=row["resolved_by"],
        resolution=row["resolution"],
        resolved_at=utc(row["resolved_at"]),
    )


def _token(row: RowMapping) -> StoredToken:
    scopes = frozenset(Permission(p) for p in row["scopes"].split(",") if p)
    return StoredToken(
        id=row["id"],
        operator_id=row["operator_id"],
        label=row["label"],
        created_at=utc(row["created_at"]),
        scopes=scopes or None,
        expires_at=utc(row["expires_at"]),
        revoked_at=utc(row["revoked_at"]) if row["revoked_at"] else None,
        bench=row["bench"],
    )


def operator_from_row(row: RowMapping) -> Operator:
    """An ``operator`` table row (or a row holding its columns) as the domain record."""
    return Operator(
        id=row["id"],
        name=row["name"],
        roles=frozenset(Role(r) for r in row["roles"].split(",") if r),
        active=bool(row["active"]),
        created_at=utc(row["created_at"]),
        suspended=bool(row["suspended"]),
        mfa_enrolled=bool(row["mfa_enrolled"]),
        last_login_at=utc(row["last_login_at"]) if row["last_login_at"] else None,
    )
