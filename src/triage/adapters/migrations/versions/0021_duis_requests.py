"""Issue 20 (B): DUIS requests out (8.4, 8.3, 8.14.3, 8.14.4): the requests written, the
batches handed out, each asset owner's DCC User and the facility's DUIS settings.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "duis_request",
        sa.Column("request_id", sa.String(100), primary_key=True),
        sa.Column("originator", sa.String(23), nullable=False),
        sa.Column("counter", sa.BigInteger, nullable=False),
        sa.Column("service_reference", sa.String(10), nullable=False),
        sa.Column("description", sa.String(100), nullable=False),
        sa.Column("device_id", sa.String(23), nullable=False),
        sa.Column("asset_owner", sa.String(100)),
        sa.Column("job_id", sa.String(36)),
        sa.Column("purpose", sa.String(60), nullable=False),
        sa.Column("subject_kind", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.String(100), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("produced_by", sa.String(64), nullable=False),
        sa.Column("produced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("batch_id", sa.String(36)),
        sa.Column("xml", sa.Text, nullable=False),
        sa.UniqueConstraint("originator", "counter", name="uq_duis_request_counter"),
    )
    op.create_index("ix_duis_request_device", "duis_request", ["device_id"])
    op.create_index("ix_duis_request_job", "duis_request", ["job_id"])
    op.create_index("ix_duis_request_owner", "duis_request", ["asset_owner", "batch_id"])
    op.create_table(
        "duis_batch",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("asset_owner", sa.String(100), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("request_count", sa.Integer, nullable=False),
        sa.Column("dispatch_id", sa.String(36)),
        sa.Column("consignment_id", sa.String(64)),
        sa.Column("produced_by", sa.String(64), nullable=False),
        sa.Column("produced_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_duis_batch_owner", "duis_batch", ["asset_owner", "produced_at"])
    op.create_table(
        "duis_dcc_user",
        sa.Column("asset_owner", sa.String(100), primary_key=True),
        sa.Column("originator", sa.String(23), nullable=False),
        sa.Column("set_by", sa.String(64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "duis_setting",
        sa.Column("name", sa.String(20), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("set_by", sa.String(64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )
    # What the ledger already records of DUIS requests (after a downgrade, what newer code
    # recorded), as a replay builds it.
    from triage.adapters.projector import project_recorded

    project_recorded(op.get_bind(), "triage.adapters.projector_duis")


def downgrade() -> None:
    op.drop_table("duis_setting")
    op.drop_table("duis_dcc_user")
    op.drop_index("ix_duis_batch_owner", table_name="duis_batch")
    op.drop_table("duis_batch")
    op.drop_index("ix_duis_request_owner", table_name="duis_request")
    op.drop_index("ix_duis_request_job", table_name="duis_request")
    op.drop_index("ix_duis_request_device", table_name="duis_request")
    op.drop_table("duis_request")
