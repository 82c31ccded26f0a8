"""Work orders of devices set aside are withdrawn, as the projector now records them.

Until now a work order stayed ``issued`` when its device was quarantined or disposed of
before the tool's result came, so the tool could still fetch it. The projector now withdraws
such orders; this brings projections written before the change to what a replay gives.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 22:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE work_order SET status = 'withdrawn' WHERE status = 'issued' AND job_id IN "
        "(SELECT id FROM triage_job WHERE state IN "
        "('quarantined', 'released', 'returned_to_manufacturer', 'destroyed'))"
    )


def downgrade() -> None:
    op.execute("UPDATE work_order SET status = 'issued' WHERE status = 'withdrawn'")
