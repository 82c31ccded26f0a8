"""Indexes for the device list (issue 18): newest received first, a keyset page at a time, in
one state or from one consignment (the state's index gains the sort key); and for the
dashboard's last two weeks of decisions and verified resets. Nothing else changes.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 12:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("triage_job") as batch:
        batch.drop_index("ix_triage_job_state")
        batch.create_index("ix_triage_job_state", ["state", "opened_at", "id"], unique=False)
        batch.create_index("ix_triage_job_opened", ["opened_at", "id"], unique=False)
        batch.create_index(
            "ix_triage_job_consignment", ["consignment_id", "opened_at", "id"], unique=False
        )
    with op.batch_alter_table("decision") as batch:
        batch.create_index("ix_decision_at", ["at"], unique=False)
    with op.batch_alter_table("reset_result") as batch:
        batch.create_index("ix_reset_result_at", ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reset_result") as batch:
        batch.drop_index("ix_reset_result_at")
    with op.batch_alter_table("decision") as batch:
        batch.drop_index("ix_decision_at")
    with op.batch_alter_table("triage_job") as batch:
        batch.drop_index("ix_triage_job_consignment")
        batch.drop_index("ix_triage_job_opened")
        batch.drop_index("ix_triage_job_state")
        batch.create_index("ix_triage_job_state", ["state"], unique=False)
