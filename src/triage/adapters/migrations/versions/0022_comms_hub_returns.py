"""Issue 20 (C): communications hubs back to the DCC.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_return",
        sa.Column("job_id", sa.String(36), primary_key=True),
        sa.Column("device_id", sa.String(23), nullable=False),
        sa.Column("device_type", sa.SmallInteger),
        sa.Column("asset_owner", sa.String(100)),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("return_type", sa.String(80), nullable=False),
        sa.Column("dcc_reference", sa.String(100), nullable=False),
        sa.Column("fault_reason", sa.String(60)),
        sa.Column("connection_method", sa.String(20)),
        sa.Column("other_device_id", sa.String(23)),
        sa.Column("user_ref_id", sa.String(25)),
        sa.Column("incident_reference", sa.String(15)),
        sa.Column("additional_information", sa.String(200)),
        sa.Column("request_id", sa.String(100)),
        sa.Column("returned_by", sa.String(64), nullable=False),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_hub_return_device_id", "hub_return", ["device_id"])
    op.create_index("ix_hub_return_returned_at", "hub_return", ["returned_at"])
    op.create_table(
        "hub_policy",
        sa.Column("facility_id", sa.String(64), primary_key=True),
        sa.Column("allow_reset", sa.Boolean, nullable=False),
        sa.Column("set_by", sa.String(64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )
    # The returns and policy the ledger already records (after a downgrade, what newer code
    # recorded), as a replay builds them.
    from triage.adapters.projector import project_recorded

    project_recorded(op.get_bind(), "triage.adapters.projector_hub_returns")


def downgrade() -> None:
    op.drop_table("hub_policy")
    op.drop_index("ix_hub_return_returned_at", table_name="hub_return")
    op.drop_index("ix_hub_return_device_id", table_name="hub_return")
    op.drop_table("hub_return")
