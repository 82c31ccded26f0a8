"""Issue 21: cosignatures gathered from witnesses on the facility's checkpoints.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not ledger entries: signatures about the ledger, kept beside its checkpoints (tables.py).
    op.create_table(
        "ledger_cosignature",
        sa.Column("log_id", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("key_name", sa.String(300), nullable=False),
        sa.Column("key_hash", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("cosigner_key", sa.String(400), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("gathered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["log_id"], ["ledger_head.log_id"], name="fk_ledger_cosignature_log_id_ledger_head"
        ),
        sa.PrimaryKeyConstraint(
            "log_id", "size", "key_name", "key_hash", name="pk_ledger_cosignature"
        ),
    )
    op.create_table(
        "witness_attempt",
        sa.Column("log_id", sa.String(64), nullable=False),
        sa.Column("key_name", sa.String(300), nullable=False),
        sa.Column("key_hash", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("witness_size", sa.BigInteger()),
        sa.ForeignKeyConstraint(
            ["log_id"], ["ledger_head.log_id"], name="fk_witness_attempt_log_id_ledger_head"
        ),
        sa.PrimaryKeyConstraint("log_id", "key_name", "key_hash", name="pk_witness_attempt"),
    )


def downgrade() -> None:
    op.drop_table("witness_attempt")
    op.drop_table("ledger_cosignature")
