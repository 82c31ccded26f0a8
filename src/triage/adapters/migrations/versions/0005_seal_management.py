"""Seal management: batches, seals, their movements, discrepancies, stocktakes, reconciliations.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 18:11:40.229984
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A job has more than one seal when the first was found broken before dispatch.
    with op.batch_alter_table("seal_fitting", schema=None) as batch_op:
        batch_op.drop_constraint("uq_seal_fitting_job_id", type_="unique")
        batch_op.create_index("ix_seal_fitting_job", ["job_id"], unique=False)
    op.create_table(
        "seal_batch",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("supplier", sa.String(length=120), nullable=False),
        sa.Column("delivery_reference", sa.String(length=64), nullable=False),
        sa.Column("seal_class", sa.String(length=8), nullable=False),
        sa.Column("class_description", sa.String(length=80), nullable=True),
        sa.Column("store", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("first_serial", sa.String(length=64), nullable=True),
        sa.Column("last_serial", sa.String(length=64), nullable=True),
        sa.Column("received_by", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seal_batch")),
    )
    op.create_table(
        "seal_discrepancy",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=True),
        sa.Column("store", sa.String(length=32), nullable=True),
        sa.Column("operator_id", sa.String(length=64), nullable=True),
        sa.Column("device_id", sa.String(length=23), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("stocktake_id", sa.String(length=36), nullable=True),
        sa.Column("raised_by", sa.String(length=64), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seal_discrepancy")),
    )
    with op.batch_alter_table("seal_discrepancy", schema=None) as batch_op:
        batch_op.create_index("ix_seal_discrepancy_status", ["status", "raised_at"], unique=False)

    op.create_table(
        "seal_event",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("store", sa.String(length=32), nullable=True),
        sa.Column("operator_id", sa.String(length=64), nullable=True),
        sa.Column("device_id", sa.String(length=23), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seal_event")),
    )
    with op.batch_alter_table("seal_event", schema=None) as batch_op:
        batch_op.create_index("ix_seal_event_kind_at", ["kind", "at"], unique=False)
        batch_op.create_index("ix_seal_event_serial", ["serial"], unique=False)

    op.create_table(
        "seal_reconciliation",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("scope_id", sa.String(length=64), nullable=True),
        sa.Column("balanced", sa.Boolean(), nullable=False),
        sa.Column("open_discrepancies", sa.Integer(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seal_reconciliation")),
    )
    op.create_table(
        "seal_stocktake",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("store", sa.String(length=32), nullable=False),
        sa.Column("counted_by", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.Column("missing", sa.Text(), nullable=False),
        sa.Column("unexpected", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seal_stocktake")),
    )
    op.create_table(
        "seal",
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("store", sa.String(length=32), nullable=True),
        sa.Column("holder", sa.String(length=64), nullable=True),
        sa.Column("device_id", sa.String(length=23), nullable=True),
        sa.Column("job_id", sa.String(length=36), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["seal_batch.id"], name=op.f("fk_seal_batch_id_seal_batch")
        ),
        sa.PrimaryKeyConstraint("serial", name=op.f("pk_seal")),
    )
    with op.batch_alter_table("seal", schema=None) as batch_op:
        batch_op.create_index("ix_seal_batch", ["batch_id", "status"], unique=False)
        batch_op.create_index("ix_seal_holder", ["holder", "status"], unique=False)
        batch_op.create_index("ix_seal_status_store", ["status", "store"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("seal_fitting", schema=None) as batch_op:
        batch_op.drop_index("ix_seal_fitting_job")
        batch_op.create_unique_constraint("uq_seal_fitting_job_id", ["job_id"])
    with op.batch_alter_table("seal", schema=None) as batch_op:
        batch_op.drop_index("ix_seal_status_store")
        batch_op.drop_index("ix_seal_holder")
        batch_op.drop_index("ix_seal_batch")

    op.drop_table("seal")
    op.drop_table("seal_stocktake")
    op.drop_table("seal_reconciliation")
    with op.batch_alter_table("seal_event", schema=None) as batch_op:
        batch_op.drop_index("ix_seal_event_serial")
        batch_op.drop_index("ix_seal_event_kind_at")

    op.drop_table("seal_event")
    with op.batch_alter_table("seal_discrepancy", schema=None) as batch_op:
        batch_op.drop_index("ix_seal_discrepancy_status")

    op.drop_table("seal_discrepancy")
    op.drop_table("seal_batch")
