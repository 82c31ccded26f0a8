"""Issue 20 (B): DUIS requests out (8.4, 8.3, 8.14.3, 8.14.4), read from the projections
(uow.duis_requests)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, RowMapping, func, select

from triage.adapters.rows import utc
from triage.adapters.tables import (
    device,
    duis_batch,
    duis_dcc_user,
    duis_request,
    duis_setting,
    triage_job,
)
from triage.domain.duis_request import (
    DEFAULT_TARGET,
    DccUser,
    DuisBatch,
    DuisSettings,
    FinishedJob,
    ProducedRequest,
)


def _request(row: RowMapping) -> ProducedRequest:
    return ProducedRequest(
        request_id=row["request_id"],
        originator=row["originator"],
        counter=int(row["counter"]),
        service_reference=row["service_reference"],
        description=row["description"],
        device_id=row["device_id"],
        asset_owner=row["asset_owner"],
        job_id=row["job_id"],
        purpose=row["purpose"],
        sha256=row["sha256"],
        size=int(row["size"]),
        produced_by=row["produced_by"],
        produced_at=utc(row["produced_at"]),
        batch_id=row["batch_id"],
    )


def _batch(row: RowMapping) -> DuisBatch:
    return DuisBatch(
        id=row["id"],
        asset_owner=row["asset_owner"],
        sha256=row["sha256"],
        size=int(row["size"]),
        request_count=int(row["request_count"]),
        dispatch_id=row["dispatch_id"],
        consignment_id=row["consignment_id"],
        produced_by=row["produced_by"],
        produced_at=utc(row["produced_at"]),
    )


# Every column but the file itself, for lists.
_LISTED = [c for c in duis_request.c if c.name != "xml"]
_NEWEST = (duis_request.c.produced_at.desc(), duis_request.c.counter.desc())


class SqlDuisRequestRepository:
    """``DuisRequestRepository`` on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, request_id: str) -> ProducedRequest | None:
        statement = select(*_LISTED).where(duis_request.c.request_id == request_id)
        row = self._conn.execute(statement).mappings().first()
        return None if row is None else _request(row)

    def xml(self, request_id: str) -> bytes | None:
        statement = select(duis_request.c.xml).where(duis_request.c.request_id == request_id)
        found = self._conn.execute(statement).scalar_one_or_none()
        return None if found is None else str(found).encode("utf-8")

    def page(self, owner: str | None, offset: int, limit: int) -> tuple[list[ProducedRequest], int]:
        where = [] if owner is None else [duis_request.c.asset_owner == owner]
        total = self._conn.execute(
            select(func.count()).select_from(duis_request).where(*where)
        ).scalar_one()
        rows = self._conn.execute(
            select(*_LISTED).where(*where).order_by(*_NEWEST).offset(offset).limit(limit)
        ).mappings()
        return [_request(r) for r in rows], int(total)

    def in_batch(self, batch_id: str) -> list[ProducedRequest]:
        rows = self._conn.execute(
            select(*_LISTED)
            .where(duis_request.c.batch_id == batch_id)
            .order_by(duis_request.c.originator, duis_request.c.counter)
        ).mappings()
        return [_request(r) for r in rows]

    def unbatched(self, owner: str, device_ids: Sequence[str] | None) -> list[ProducedRequest]:
        statement = select(*_LISTED).where(
            duis_request.c.asset_owner == owner, duis_request.c.batch_id.is_(None)
        )
        if device_ids is not None:
            statement = statement.where(duis_request.c.device_id.in_(list(device_ids)))
        rows = self._conn.execute(
            statement.order_by(duis_request.c.originator, duis_request.c.counter)
        ).mappings()
        return [_request(r) for r in rows]

    def purposes(self, job_ids: Sequence[str]) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        for start in range(0, len(job_ids), 500):
            chunk = list(job_ids[start : start + 500])
            rows = self._conn.execute(
                select(duis_request.c.job_id, duis_request.c.purpose).where(
                    duis_request.c.job_id.in_(chunk)
                )
            )
            found.update((str(job), str(purpose)) for job, purpose in rows)
        return found

    def last_counter(self, originator: str) -> int:
        found = self._conn.execute(
            select(func.max(duis_request.c.counter)).where(duis_request.c.originator == originator)
        ).scalar_one()
        return 0 if found is None else int(found)

    def finished_jobs(
        self,
        owner: str,
        states: Sequence[str],
        device_ids: Sequence[str] | None,
        consignment_id: str | None,
    ) -> list[FinishedJob]:
        statement = (
            select(
                triage_job.c.id,
                triage_job.c.device_id,
                triage_job.c.state,
                triage_job.c.consignment_id,
            )
            .join(device, device.c.id == triage_job.c.device_id)
            .where(device.c.asset_owner == owner, triage_job.c.state.in_(list(states)))
        )
        if device_ids is not None:
            statement = statement.where(triage_job.c.device_id.in_(list(device_ids)))
        if consignment_id is not None:
            statement = statement.where(triage_job.c.consignment_id == consignment_id)
        rows = self._conn.execute(
            statement.order_by(triage_job.c.closed_at, triage_job.c.id)
        ).mappings()
        return [FinishedJob(r["id"], r["device_id"], r["state"], r["consignment_id"]) for r in rows]

    def batch(self, batch_id: str) -> DuisBatch | None:
        row = (
            self._conn.execute(select(duis_batch).where(duis_batch.c.id == batch_id))
            .mappings()
            .first()
        )
        return None if row is None else _batch(row)

    def batches(
        self,
        owner: str | None,
        offset: int,
        limit: int,
        dispatch_id: str | None = None,
        consignment_id: str | None = None,
    ) -> tuple[list[DuisBatch], int]:
        where = []
        if owner is not None:
            where.append(duis_batch.c.asset_owner == owner)
        if dispatch_id is not None:
            where.append(duis_batch.c.dispatch_id == dispatch_id)
        if consignment_id is not None:
            where.append(duis_batch.c.consignment_id == consignment_id)
        total = self._conn.execute(
            select(func.count()).select_from(duis_batch).where(*where)
        ).scalar_one()
        rows = self._conn.execute(
            select(duis_batch)
            .where(*where)
            .order_by(duis_batch.c.produced_at.desc(), duis_batch.c.id)
            .offset(offset)
            .limit(limit)
        ).mappings()
        return [_batch(r) for r in rows], int(total)

    def dcc_user(self, owner: str) -> DccUser | None:
        row = (
            self._conn.execute(select(duis_dcc_user).where(duis_dcc_user.c.asset_owner == owner))
            .mappings()
            .first()
        )
        if row is None:
            return None
        return DccUser(row["asset_owner"], row["originator"], row["set_by"], utc(row["set_at"]))

    def dcc_users(self) -> list[DccUser]:
        rows = self._conn.execute(
            select(duis_dcc_user).order_by(duis_dcc_user.c.asset_owner)
        ).mappings()
        return [
            DccUser(r["asset_owner"], r["originator"], r["set_by"], utc(r["set_at"])) for r in rows
        ]

    def settings(self) -> DuisSettings:
        rows = self._conn.execute(select(duis_setting.c.name, duis_setting.c.value))
        values = {str(name): str(value) for name, value in rows}
        return DuisSettings(values.get("target", DEFAULT_TARGET), values.get("rules"))
