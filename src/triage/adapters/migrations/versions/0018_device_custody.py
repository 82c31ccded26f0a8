"""Device locations, moves and stocktakes; random seal issue (issue 19 items 5 and 6).

A facility's default locations and every device's place start as the projector would have made
them from the entries already recorded (a replay builds them the same way): the defaults from
the facility's creation, and each device at the receiving store since its last receipt.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# The defaults as this revision names them (frozen here: the domain may change them later, in
# a revision of its own).
DEFAULT_LOCATIONS = (
    ("STORES", "Stores", "stores"),
    ("QUARANTINE", "Quarantine cage", "quarantine"),
    ("DISPATCH", "Dispatch bay", "dispatch"),
)
RECEIVING = "STORES"


def upgrade() -> None:
    with op.batch_alter_table("facility_settings") as batch:
        batch.add_column(
            sa.Column("idle_device_days", sa.Integer, nullable=False, server_default="3")
        )
        batch.add_column(
            sa.Column("random_seal_issue", sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.create_table(
        "location",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("defined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "device_location",
        sa.Column("device_id", sa.String(23), primary_key=True),
        sa.Column("location", sa.String(64)),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_device_location_location", "device_location", ["location", "since"])
    op.create_table(
        "device_stocktake",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("location", sa.String(64), nullable=False),
        sa.Column("counted_by", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expected", sa.Integer, nullable=False),
        sa.Column("counted", sa.Integer, nullable=False),
        sa.Column("matched", sa.Integer, nullable=False),
        sa.Column("missing", sa.Text, nullable=False),
        sa.Column("unexpected", sa.Text, nullable=False),
    )
    op.create_index("ix_device_stocktake_at", "device_stocktake", ["at"])
    op.create_table(
        "seal_draw",
        sa.Column("job_id", sa.String(36), primary_key=True),
        sa.Column("serial", sa.String(64), nullable=False),
        sa.Column("operator_id", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    # The default locations come with facility.created, and every device's place with the
    # entries that moved it (device.received puts it in stores, or at its bench): projected
    # from the ledger as a replay would, also after a downgrade and an upgrade.
    from triage.adapters.projector import project_recorded

    project_recorded(op.get_bind(), "triage.adapters.projector_custody")


def downgrade() -> None:
    op.drop_table("seal_draw")
    op.drop_index("ix_device_stocktake_at", table_name="device_stocktake")
    op.drop_table("device_stocktake")
    op.drop_index("ix_device_location_location", table_name="device_location")
    op.drop_table("device_location")
    op.drop_table("location")
    with op.batch_alter_table("facility_settings") as batch:
        batch.drop_column("random_seal_issue")
        batch.drop_column("idle_device_days")
