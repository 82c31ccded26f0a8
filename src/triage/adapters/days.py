"""Counting by day in SQL, the same way on SQLite and PostgreSQL.

Each database spells "the day of a timestamp" differently (and SQLite keeps times as text), so a
query names the UTC day of each row with a CASE over the midnights between its bounds, computed
here, and groups by that: the database counts, and only a row per day comes back, however many
rows the days hold.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import ColumnElement, case, literal


def utc_day(
    column: ColumnElement[datetime], since: datetime, until: datetime
) -> ColumnElement[str]:
    """The UTC day ("2026-12-06") of ``column`` for rows at or after ``since``; rows from the
    last midnight before ``until`` onwards are named by that day."""
    first = since.astimezone(UTC)
    midnight = datetime.combine(first.date() + timedelta(days=1), time(), UTC)
    whens = []
    while midnight <= until:
        day = (midnight - timedelta(days=1)).date().isoformat()
        whens.append((column < midnight, literal(day)))
        midnight += timedelta(days=1)
    last = literal((midnight - timedelta(days=1)).date().isoformat())
    return case(*whens, else_=last) if whens else last
