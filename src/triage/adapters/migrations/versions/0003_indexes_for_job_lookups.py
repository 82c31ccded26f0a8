"""Indexes for looking up work orders and reset results by triage job.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 16:15:53.092800
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reset_result", schema=None) as batch_op:
        batch_op.create_index("ix_reset_result_job", ["job_id"], unique=False)

    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.create_index("ix_work_order_job", ["job_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.drop_index("ix_work_order_job")

    with op.batch_alter_table("reset_result", schema=None) as batch_op:
        batch_op.drop_index("ix_reset_result_job")
