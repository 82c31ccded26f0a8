"""Asset owners as parties (issue 19 item 1): who they are, how to reach them and the key
they sign acknowledgements with; and the asset owner a person of an asset owner acts for.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "asset_owner",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("contact", sa.String(500), nullable=False),
        sa.Column("verifier_key", sa.String(300)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column("operator", sa.Column("asset_owner", sa.String(100)))
    # After a downgrade, the entries newer code recorded are in the ledger: projected again.
    from triage.adapters.projector import project_recorded

    project_recorded(op.get_bind(), "triage.adapters.projector_owners")


def downgrade() -> None:
    op.drop_column("operator", "asset_owner")
    op.drop_table("asset_owner")
