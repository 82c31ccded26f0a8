"""Retention of evidence files and legal holds; consignment outcome reports
(issue 19 items 3 and 7).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retention_rule",
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("days", sa.Integer, nullable=False),
        sa.Column("counted_from", sa.String(20), nullable=False),
        sa.Column("set_by", sa.String(64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "legal_hold",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("target", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("placed_by", sa.String(64), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_by", sa.String(64)),
        sa.Column("released_at", sa.DateTime(timezone=True)),
        sa.Column("release_reason", sa.Text),
    )
    op.create_index("ix_legal_hold_target", "legal_hold", ["scope", "target"])
    op.create_table(
        "evidence_file",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("ref", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("device_id", sa.String(23)),
        sa.Column("job_id", sa.String(36)),
    )
    op.create_index("ix_evidence_file_job", "evidence_file", ["job_id"])
    op.create_table(
        "evidence_purge",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("purged_at", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("rule_days", sa.Integer, nullable=False),
        sa.Column("purged_by", sa.String(64), nullable=False),
    )
    # The files, rules, holds and purges the ledger already records (the evidence files of
    # older entries, and after a downgrade what newer code recorded), as a replay builds them.
    from triage.adapters.projector import project_recorded

    project_recorded(op.get_bind(), "triage.adapters.projector_retention")


def downgrade() -> None:
    op.drop_table("evidence_purge")
    op.drop_index("ix_evidence_file_job", table_name="evidence_file")
    op.drop_table("evidence_file")
    op.drop_index("ix_legal_hold_target", table_name="legal_hold")
    op.drop_table("retention_rule")
    op.drop_table("legal_hold")
