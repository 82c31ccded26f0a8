"""Facility and the tamper-evident ledger: head, entries, tiles, checkpoints, subject index.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

INDEX_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "facility",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("log_origin", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_facility"),
        sa.UniqueConstraint("log_origin", name="uq_facility_log_origin"),
    )
    op.create_table(
        "ledger_head",
        sa.Column("log_id", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.ForeignKeyConstraint(["log_id"], ["facility.id"], name="fk_ledger_head_log_id_facility"),
        sa.PrimaryKeyConstraint("log_id", name="pk_ledger_head"),
    )
    op.create_table(
        "ledger_entry",
        sa.Column("idx", INDEX_TYPE, nullable=False, autoincrement=False),
        sa.Column("log_id", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["log_id"], ["ledger_head.log_id"], name="fk_ledger_entry_log_id_ledger_head"
        ),
        # One log per database: the index alone is the key (on SQLite, the rowid itself).
        sa.PrimaryKeyConstraint("idx", name="pk_ledger_entry"),
    )
    op.create_table(
        "ledger_tile",
        sa.Column("log_id", sa.String(64), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False, autoincrement=False),
        sa.Column("idx", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["log_id"], ["ledger_head.log_id"], name="fk_ledger_tile_log_id_ledger_head"
        ),
        sa.PrimaryKeyConstraint("log_id", "level", "idx", name="pk_ledger_tile"),
    )
    op.create_table(
        "ledger_checkpoint",
        sa.Column("log_id", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["log_id"], ["ledger_head.log_id"], name="fk_ledger_checkpoint_log_id_ledger_head"
        ),
        sa.PrimaryKeyConstraint("log_id", "size", name="pk_ledger_checkpoint"),
    )
    op.create_table(
        "ledger_subject",
        sa.Column("idx", INDEX_TYPE, nullable=False, autoincrement=False),
        sa.Column("log_id", sa.String(64), nullable=False),
        sa.Column("entry_type", sa.String(80), nullable=False),
        sa.Column("subject_kind", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("idx", name="pk_ledger_subject"),
    )
    op.create_index(
        "ix_ledger_subject_subject",
        "ledger_subject",
        ["log_id", "subject_kind", "subject_id", "idx"],
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_subject_subject", table_name="ledger_subject")
    for table in (
        "ledger_subject",
        "ledger_checkpoint",
        "ledger_tile",
        "ledger_entry",
        "ledger_head",
        "facility",
    ):
        op.drop_table(table)
