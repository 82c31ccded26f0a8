"""Issue 22: each tool's and operator's count of activity of each kind, ever.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activity_total",
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "scope", "subject_id", name="pk_activity_total"),
    )
    # The activity counted so far, as the projector would have kept it (a replay agrees).
    activity = sa.table(
        "activity", sa.column("kind"), sa.column("tool_id"), sa.column("operator_id")
    )
    totals = sa.table(
        "activity_total",
        sa.column("kind"),
        sa.column("scope"),
        sa.column("subject_id"),
        sa.column("count"),
    )
    for scope, column in (("tool", activity.c.tool_id), ("operator", activity.c.operator_id)):
        counted = (
            sa.select(activity.c.kind, sa.literal(scope), column, sa.func.count())
            .where(column.is_not(None))
            .group_by(activity.c.kind, column)
        )
        op.execute(totals.insert().from_select(["kind", "scope", "subject_id", "count"], counted))


def downgrade() -> None:
    op.drop_table("activity_total")
