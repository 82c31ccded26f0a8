"""Dispatches, their manifests, VVTT packing checks, handovers and acknowledgements
(issue 19 item 2).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dispatch",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("asset_owner", sa.String(100), nullable=False),
        sa.Column("destination", sa.String(16), nullable=False),
        sa.Column("reference", sa.String(100)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("manifest_sha256", sa.String(64)),
        sa.Column("note_sha256", sa.String(64)),
        sa.Column("note", sa.Text),
        sa.Column("carrier", sa.String(100)),
        sa.Column("vehicle", sa.String(100)),
        sa.Column("container_seal", sa.String(100)),
        sa.Column("handed_over_by", sa.String(64)),
        sa.Column("handed_over_at", sa.DateTime(timezone=True)),
        sa.Column("acknowledged_by", sa.String(64)),
        sa.Column("acknowledged_how", sa.String(8)),
        sa.Column("acknowledgement_sha256", sa.String(64)),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_dispatch_asset_owner", "dispatch", ["asset_owner"])
    op.create_table(
        "dispatch_device",
        sa.Column("dispatch_id", sa.String(36), sa.ForeignKey("dispatch.id"), primary_key=True),
        sa.Column("device_id", sa.String(23), primary_key=True),
        sa.Column("job_id", sa.String(36), nullable=False),
        sa.Column("seal_serial", sa.String(64)),
        sa.Column("checks", sa.Text, nullable=False),
        sa.Column("packed_by", sa.String(64), nullable=False),
        sa.Column("packed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_dispatch_device_job_id", "dispatch_device", ["job_id"])
    op.create_table(
        "dispatch_refusal",
        sa.Column("exception_id", sa.String(36), primary_key=True),
        sa.Column("dispatch_id", sa.String(36), sa.ForeignKey("dispatch.id"), nullable=False),
        sa.Column("device_id", sa.String(23), nullable=False),
        sa.Column("seal_serial", sa.String(64), nullable=False),
        sa.Column("checks", sa.Text, nullable=False),
        sa.Column("refused_by", sa.String(64), nullable=False),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_dispatch_refusal_dispatch_id", "dispatch_refusal", ["dispatch_id"])
    op.create_table(
        "dispatch_discrepancy",
        sa.Column("exception_id", sa.String(36), primary_key=True),
        sa.Column("dispatch_id", sa.String(36), sa.ForeignKey("dispatch.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("device_id", sa.String(23), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("text", sa.String(500), nullable=False),
    )
    op.create_index("ix_dispatch_discrepancy_dispatch_id", "dispatch_discrepancy", ["dispatch_id"])
    # After a downgrade, the entries newer code recorded are in the ledger: projected again.
    from triage.adapters.projector import project_recorded

    project_recorded(op.get_bind(), "triage.adapters.projector_dispatch")


def downgrade() -> None:
    op.drop_table("dispatch_discrepancy")
    op.drop_table("dispatch_refusal")
    op.drop_table("dispatch_device")
    op.drop_table("dispatch")
