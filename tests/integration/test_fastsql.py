"""fastsql runs Core statements on the raw cursor: same rows, same types, same errors as
SQLAlchemy's own execution, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError

from triage.adapters import fastsql
from triage.adapters.database import Database
from triage.adapters.fastsql import Statement

metadata = MetaData()
# A table of its own (the schema's tables have foreign keys), with the column types it uses.
triage_job = Table(
    "fastsql_job",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("device_id", String(40), nullable=False),
    Column("state", String(20), nullable=False),
    Column("reset_attempts", Integer, nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("closed", Boolean, nullable=False, default=False),
    Column("blob", LargeBinary, nullable=True),
)

_JOB = Statement(select(triage_job).where(triage_job.c.id == bindparam("id")))
_OPEN = Statement(
    select(triage_job.c.id, triage_job.c.reset_attempts)
    .where(triage_job.c.state == "opened", triage_job.c.reset_attempts >= bindparam("least"))
    .order_by(triage_job.c.id)
)
_COUNT = Statement(select(func.count()).select_from(triage_job))
_INSERT = Statement(
    triage_job.insert().values(
        id=bindparam("id"),
        device_id=bindparam("device_id"),
        state="opened",
        reset_attempts=bindparam("attempts"),
        opened_at=bindparam("at"),
        updated_at=bindparam("at"),
        closed=False,
        blob=bindparam("blob", None),
    )
)
_BUMP = Statement(
    triage_job.update()
    .where(triage_job.c.id == bindparam("job"))
    .values(reset_attempts=triage_job.c.reset_attempts + 1)
)


@pytest.fixture
def db(database_url: str) -> Database:
    database = Database(database_url)
    metadata.create_all(database.engine)
    return database


def test_rows_types_and_counts_match_sqlalchemy(db: Database) -> None:
    at = datetime(2026, 12, 7, 1, 2, 3, 456789)
    seen: list[str] = []
    fastsql.observers.append(seen.append)
    try:
        with db.engine.connect() as conn, conn.begin():
            _INSERT.run_many(
                conn,
                [{"id": f"J{i}", "device_id": f"D{i}", "attempts": i, "at": at} for i in (1, 2, 3)],
            )
            assert _BUMP.run(conn, job="J2") == 1
            assert _BUMP.run(conn, job="nobody") == 0
            got = _JOB.first_mapping(conn, id="J2")
            want = conn.execute(select(triage_job).where(triage_job.c.id == "J2")).mappings().one()
            assert got == dict(want)
            assert got is not None and got["opened_at"].replace(tzinfo=None) == at
            assert got["reset_attempts"] == 3 and got["closed"] is False and got["blob"] is None
            assert _JOB.first(conn, id="J9") is None
            assert _OPEN.rows(conn, least=2) == [("J2", 3), ("J3", 3)]
            assert [m["id"] for m in _OPEN.mappings(conn, least=0)] == ["J1", "J2", "J3"]
            assert _COUNT.scalar(conn) == 3
    finally:
        fastsql.observers.remove(seen.append)
    assert len(seen) == 8 and seen[0].startswith("INSERT INTO fastsql_job")


def test_driver_errors_are_sqlalchemys_and_roll_back(db: Database) -> None:
    at = datetime(2026, 12, 7, tzinfo=UTC)
    with db.engine.connect() as conn:
        with conn.begin():
            _INSERT.run(conn, id="J1", device_id="D1", attempts=0, at=at)
        with pytest.raises(IntegrityError), conn.begin():
            _INSERT.run(conn, id="J5", device_id="D5", attempts=0, at=at)
            _INSERT.run(conn, id="J1", device_id="D1", attempts=0, at=at)
        with conn.begin():
            assert _COUNT.scalar(conn) == 1  # J5 went with the failed transaction


def test_a_missing_value_is_refused_before_the_database_is_asked(db: Database) -> None:
    with db.engine.connect() as conn, conn.begin(), pytest.raises(KeyError, match="id"):
        _JOB.first(conn)


def test_an_expanding_in_is_refused_when_compiled(db: Database) -> None:
    listed = Statement(
        select(triage_job.c.id).where(triage_job.c.id.in_(bindparam("ids", expanding=True)))
    )
    with db.engine.connect() as conn, conn.begin(), pytest.raises(ValueError, match="expanding"):
        listed.rows(conn, ids=["J1"])
