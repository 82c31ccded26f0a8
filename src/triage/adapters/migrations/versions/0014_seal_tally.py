"""The facility's running seal figures (issue 18): the dashboard reads a handful of rows
instead of counting every seal and every step of every seal.

The table starts as the reconciliation counts the seals and their events now, which is what the
projector would have kept had it kept it from the start (a replay builds it the same way).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 13:10:00
"""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# The figures as this revision names them (frozen here: the domain may rename them later, in
# a revision of its own).
HOLDINGS = {
    "in_stock": "in_stock",
    "issued": "held",
    "fitted": "fitted_now",
    "broken": "broken_now",
    "void": "void_now",
    "lost": "lost_now",
}


def _movement(kind: str, held: bool) -> str:
    if kind in ("voided", "lost"):
        return f"{'void' if kind == 'voided' else 'lost'}_{'while_held' if held else 'from_stock'}"
    return kind


def upgrade() -> None:
    tally = op.create_table(
        "seal_tally",
        sa.Column("figure", sa.String(24), primary_key=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
    )
    seal = sa.table("seal", sa.column("status", sa.String))
    event = sa.table("seal_event", sa.column("kind", sa.String), sa.column("operator_id"))
    held = sa.case((event.c.operator_id.is_not(None), True), else_=False).label("held")
    conn = op.get_bind()
    figures: Counter[str] = Counter()
    moves = sa.select(event.c.kind, held, sa.func.count()).group_by(event.c.kind, held)
    for kind, was_held, count in conn.execute(moves):
        figures[_movement(kind, bool(was_held))] += int(count)
    holdings = sa.select(seal.c.status, sa.func.count()).group_by(seal.c.status)
    for status, count in conn.execute(holdings):
        figures[HOLDINGS[status]] += int(count)
    rows = [{"figure": f, "count": n} for f, n in sorted(figures.items()) if n]
    if rows:
        op.bulk_insert(tally, rows)


def downgrade() -> None:
    op.drop_table("seal_tally")
