"""Security logs read from the device (issue 17): read orders beside reset orders, and the
logs recorded for each job.

Every work order issued before this revision was a factory reset, so the new ``action`` column
starts as ``factory_reset`` for them; no entry recorded a security log yet, so the new table
starts empty, as a replay of the entries gives it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("work_order") as batch:
        batch.add_column(
            sa.Column(
                "action", sa.String(length=32), nullable=False, server_default="factory_reset"
            )
        )
    op.create_table(
        "security_log",
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("device_id", sa.String(length=23), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("use_case", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("entries", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("source_detail", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["triage_job.id"], name=op.f("fk_security_log_job_id_triage_job")
        ),
        sa.PrimaryKeyConstraint("job_id", "seq", name=op.f("pk_security_log")),
    )


def downgrade() -> None:
    op.drop_table("security_log")
    with op.batch_alter_table("work_order") as batch:
        batch.drop_column("action")
