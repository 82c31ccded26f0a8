"""Issue 20 (D): the incident and vulnerability register.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("category", sa.String(60), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("about_kind", sa.String(40)),
        sa.Column("about_id", sa.String(100)),
        sa.Column("detail", sa.Text),
        sa.Column("component", sa.String(200)),
        sa.Column("reference", sa.String(100)),
        sa.Column("remediation_due", sa.Date),
        sa.Column("rules_version", sa.String(64)),
        sa.Column("raised_by", sa.String(64), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("contained_by", sa.String(64)),
        sa.Column("contained_at", sa.DateTime(timezone=True)),
        sa.Column("containment", sa.Text),
        sa.Column("closed_by", sa.String(64)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("closure", sa.Text),
        sa.Column("closure_justification", sa.Text),
    )
    op.create_index("ix_incident_about", "incident", ["source", "about_kind", "about_id"])
    op.create_index("ix_incident_raised", "incident", ["raised_at"])
    op.create_table(
        "incident_notification",
        sa.Column("incident_id", sa.String(36), primary_key=True),
        sa.Column("recipient", sa.String(60), primary_key=True),
        sa.Column("deadline", sa.DateTime(timezone=True)),
        sa.Column("notified_at", sa.DateTime(timezone=True)),
        sa.Column("notified_by", sa.String(64)),
        sa.Column("reference", sa.String(200)),
        sa.Column("recorded_at", sa.DateTime(timezone=True)),
        sa.Column("overdue_alert_id", sa.String(36)),
    )
    op.create_table(
        "incident_rules",
        sa.Column("facility_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("set_by", sa.String(64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )
    # After a downgrade, the incidents newer code recorded come back, as a replay builds them.
    from triage.adapters.projector import project_recorded

    project_recorded(op.get_bind(), "triage.adapters.projector_incidents")


def downgrade() -> None:
    op.drop_table("incident_rules")
    op.drop_table("incident_notification")
    op.drop_index("ix_incident_raised", table_name="incident")
    op.drop_index("ix_incident_about", table_name="incident")
    op.drop_table("incident")
