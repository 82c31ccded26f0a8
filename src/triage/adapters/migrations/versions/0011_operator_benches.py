"""Benches assigned to operators by an administrator (``operator.benches_assigned``).

Until now the bench was whatever an operator typed at sign-in or a token named. From here on an
operator signs in, and orders work, only at a bench assigned to them. The table starts empty:
there is no entry to derive an assignment from, so an administrator assigns the benches after
the upgrade (``triage operator benches``), and each assignment is recorded.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operator_bench",
        sa.Column("operator_id", sa.String(length=64), nullable=False),
        sa.Column("bench", sa.String(length=64), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operator.id"],
            name=op.f("fk_operator_bench_operator_id_operator"),
        ),
        sa.PrimaryKeyConstraint("operator_id", "bench", name=op.f("pk_operator_bench")),
    )


def downgrade() -> None:
    op.drop_table("operator_bench")
