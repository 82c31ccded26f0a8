"""Counting by UTC day in SQL (``adapters.days.utc_day``) agrees with counting the rows in
Python, on both databases: rows on each side of midnight, at midnight itself, before the window
and after its last midnight, with the window given in another zone. (Stored times are UTC, as
every time the projector writes is.)"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, create_engine, func, select

from triage.adapters.days import utc_day

probe = Table(
    "day_probe",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
)
SINCE = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
UNTIL = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)  # 14 days, as the dashboard looks back


def _counted(
    database_url: str, times: list[datetime], since: datetime, until: datetime
) -> dict[str, int]:
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            probe.drop(conn, checkfirst=True)
            probe.create(conn)
            if times:
                conn.execute(probe.insert(), [{"id": i, "at": t} for i, t in enumerate(times)])
            day = utc_day(probe.c.at, since, until).label("day")
            # Bound as UTC, as the repositories bind times (SQLite keeps a time's wall clock
            # and drops its offset).
            recent = select(day).where(probe.c.at >= since.astimezone(UTC)).subquery()
            rows = conn.execute(select(recent.c.day, func.count()).group_by(recent.c.day))
            counted = {d: int(n) for d, n in rows}
            probe.drop(conn)
        return counted
    finally:
        engine.dispose()


def _expected(times: list[datetime], since: datetime, until: datetime) -> dict[str, int]:
    last = datetime.combine(until.date(), datetime.min.time(), UTC)  # the last midnight
    days = Counter((min(t.astimezone(UTC), last)).date().isoformat() for t in times if t >= since)
    return dict(days)


def test_rows_are_counted_on_their_utc_day(database_url: str) -> None:
    midnight = datetime(2026, 12, 1, tzinfo=UTC)
    times = [
        midnight - timedelta(microseconds=1),  # the 30th, by a microsecond
        midnight,  # the 1st
        midnight + timedelta(hours=23, minutes=59),
        datetime(2026, 12, 1, 23, 30, tzinfo=UTC),
        SINCE - timedelta(seconds=1),  # before the window: not counted
        SINCE,  # the first (part) day
        UNTIL + timedelta(hours=3),  # after the last midnight: counted on the last day
    ]
    # The window as a facility an hour ahead of UTC gives it: the same moments.
    ahead = timezone(timedelta(hours=1))
    counted = _counted(database_url, times, SINCE.astimezone(ahead), UNTIL.astimezone(ahead))
    assert counted == {
        "2026-11-22": 1,
        "2026-11-30": 1,
        "2026-12-01": 3,
        "2026-12-06": 1,
    }
    assert counted == _expected(times, SINCE, UNTIL)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.datetimes(
            min_value=datetime(2026, 11, 20),
            max_value=datetime(2026, 12, 8),
            timezones=st.just(UTC),
        ),
        max_size=40,
    )
)
def test_any_rows_are_counted_as_python_counts_them(times: list[datetime]) -> None:
    # SQLite only here (a fresh in-memory database each example); the PostgreSQL spelling of the
    # same query is checked above.
    times = [t.replace(microsecond=0) for t in times]
    assert _counted("sqlite://", times, SINCE, UNTIL) == _expected(times, SINCE, UNTIL)
