"""Issue 20 (A): Smart Metering Inventory readings (DUIS 8.2 in) and the SMI gate's refused
statuses.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "smi_reading",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("device_id", sa.String(23), nullable=False),
        sa.Column("status", sa.String(30)),
        sa.Column("device_type", sa.String(10), nullable=False),
        sa.Column("manufacturer", sa.String(30), nullable=False),
        sa.Column("model", sa.String(30), nullable=False),
        sa.Column("firmware_version", sa.String(8)),
        sa.Column("smets_chts_version", sa.String(20)),
        sa.Column("chf_id", sa.String(23)),
        sa.Column("date_commissioned", sa.String(10)),
        sa.Column("response_id", sa.String(80)),
        sa.Column("request_id", sa.String(80)),
        sa.Column("response_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("job_id", sa.String(36)),
        sa.Column("consignment_id", sa.String(64)),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_smi_reading_device_id", "smi_reading", ["device_id"])
    op.create_table(
        "smi_policy",
        sa.Column("facility_id", sa.String(36), primary_key=True),
        sa.Column("refused", sa.String(300), nullable=False),
        sa.Column("set_by", sa.String(64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )
    # The readings and settings the ledger already records (after a downgrade, what newer code
    # recorded), as a replay builds them.
    from triage.adapters.projector import project_recorded

    project_recorded(op.get_bind(), "triage.adapters.projector_inventory")


def downgrade() -> None:
    op.drop_table("smi_policy")
    op.drop_index("ix_smi_reading_device_id", table_name="smi_reading")
    op.drop_table("smi_reading")
