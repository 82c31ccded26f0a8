"""Destruction and return evidence (issue 19 item 4): the destruction methods a person chooses
from (seeded with the defaults every facility starts with) and how each device left for good,
with the witness of a destruction.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from triage.domain.disposal import DEFAULT_METHODS

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    methods = op.create_table(
        "destruction_method",
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("category", sa.String(10), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("tool", sa.String(200), nullable=False),
        sa.Column("verification", sa.String(300), nullable=False),
        sa.Column("destination", sa.String(200), nullable=False),
        sa.Column("confidentiality", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
    )
    # The projection of facility.created seeds the same rows on a replay.
    op.bulk_insert(methods, [{**m.as_data(), "updated_at": None} for m in DEFAULT_METHODS])
    op.create_table(
        "disposal",
        sa.Column("job_id", sa.String(36), primary_key=True),
        sa.Column("device_id", sa.String(23), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("reference", sa.String(100), nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("role", sa.String(100)),
        sa.Column("manufacturer", sa.String(200)),
        sa.Column("model", sa.String(200)),
        sa.Column("device_type", sa.SmallInteger),
        sa.Column("asset_owner", sa.String(100)),
        sa.Column("method", sa.Text),
        sa.Column("site", sa.String(200)),
        sa.Column("contact", sa.String(200)),
        sa.Column("destroyed_on", sa.Date),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("witness_id", sa.String(100)),
        sa.Column("witness_statement", sa.String(500)),
        sa.Column("witnessed_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_disposal_device_id", "disposal", ["device_id"])
    op.create_index("ix_disposal_asset_owner", "disposal", ["asset_owner"])
    # After a downgrade, the entries newer code recorded are in the ledger: projected again.
    from triage.adapters.projector import project_recorded

    project_recorded(op.get_bind(), "triage.adapters.projector_disposal")


def downgrade() -> None:
    op.drop_index("ix_disposal_asset_owner", table_name="disposal")
    op.drop_index("ix_disposal_device_id", table_name="disposal")
    op.drop_table("disposal")
    op.drop_table("destruction_method")
