"""triage workflow projections

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 15:30:40.977064
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_nonce",
        sa.Column("tool_id", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tool_id", "nonce", name=op.f("pk_agent_nonce")),
    )
    op.create_table(
        "consignment",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("asset_owner", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consignment")),
        sa.UniqueConstraint("asset_owner", "reference", name="uq_consignment_owner_reference"),
    )
    op.create_table(
        "device",
        sa.Column("id", sa.String(length=23), nullable=False),
        sa.Column("device_type", sa.SmallInteger(), nullable=False),
        sa.Column("manufacturer", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("firmware_version", sa.String(length=100), nullable=False),
        sa.Column("inventory_status", sa.String(length=30), nullable=False),
        sa.Column("asset_owner", sa.String(length=100), nullable=False),
        sa.Column("smets_version", sa.String(length=40), nullable=True),
        sa.Column("chf_id", sa.String(length=23), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device")),
    )
    op.create_table(
        "device_exception",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("device_id", sa.String(length=23), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("raised_by", sa.String(length=64), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_exception")),
    )
    op.create_table(
        "operator",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("roles", sa.String(length=300), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator")),
    )
    op.create_table(
        "tamper_policy",
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("policy_id", sa.String(length=100), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("hash", name=op.f("pk_tamper_policy")),
    )
    op.create_table(
        "tool",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("bench", sa.String(length=64), nullable=False),
        sa.Column("verifier_key", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tool")),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("operator_id", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operator.id"], name=op.f("fk_api_token_operator_id_operator")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    op.create_table(
        "consignment_device",
        sa.Column("consignment_id", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=23), nullable=False),
        sa.Column("device_type", sa.SmallInteger(), nullable=False),
        sa.Column("manufacturer", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("firmware_version", sa.String(length=100), nullable=False),
        sa.Column("inventory_status", sa.String(length=30), nullable=False),
        sa.Column("asset_owner", sa.String(length=100), nullable=False),
        sa.Column("smets_version", sa.String(length=40), nullable=True),
        sa.Column("chf_id", sa.String(length=23), nullable=True),
        sa.Column("arrived", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consignment_id"],
            ["consignment.id"],
            name=op.f("fk_consignment_device_consignment_id_consignment"),
        ),
        sa.PrimaryKeyConstraint("consignment_id", "device_id", name=op.f("pk_consignment_device")),
    )
    with op.batch_alter_table("consignment_device", schema=None) as batch_op:
        batch_op.create_index("ix_consignment_device_device", ["device_id"], unique=False)

    op.create_table(
        "facility_settings",
        sa.Column("facility_id", sa.String(length=64), nullable=False),
        sa.Column("max_reset_attempts", sa.Integer(), nullable=False),
        sa.Column("work_order_minutes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facility.id"], name=op.f("fk_facility_settings_facility_id_facility")
        ),
        sa.PrimaryKeyConstraint("facility_id", name=op.f("pk_facility_settings")),
    )
    op.create_table(
        "triage_job",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("device_id", sa.String(length=23), nullable=False),
        sa.Column("consignment_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("inspector_id", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=30), nullable=True),
        sa.Column("reset_attempts", sa.Integer(), nullable=False),
        sa.Column("seal_serial", sa.String(length=64), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["consignment_id"],
            ["consignment.id"],
            name=op.f("fk_triage_job_consignment_id_consignment"),
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["device.id"], name=op.f("fk_triage_job_device_id_device")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_job")),
    )
    with op.batch_alter_table("triage_job", schema=None) as batch_op:
        batch_op.create_index("ix_triage_job_device", ["device_id", "opened_at"], unique=False)
        batch_op.create_index("ix_triage_job_state", ["state"], unique=False)
        batch_op.create_index(
            "uq_triage_job_open_device",
            ["device_id"],
            unique=True,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )

    op.create_table(
        "decision",
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("policy_hash", sa.String(length=64), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("justification", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["triage_job.id"], name=op.f("fk_decision_job_id_triage_job")
        ),
        sa.PrimaryKeyConstraint("job_id", "seq", name=op.f("pk_decision")),
    )
    op.create_table(
        "inspection",
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("inspector_id", sa.String(length=64), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["triage_job.id"], name=op.f("fk_inspection_job_id_triage_job")
        ),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_inspection")),
    )
    op.create_table(
        "seal_fitting",
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=23), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("fitted_by", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["triage_job.id"], name=op.f("fk_seal_fitting_job_id_triage_job")
        ),
        sa.PrimaryKeyConstraint("serial", name=op.f("pk_seal_fitting")),
        sa.UniqueConstraint("job_id", name=op.f("uq_seal_fitting_job_id")),
    )
    op.create_table(
        "work_order",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("tool_id", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=23), nullable=False),
        sa.Column("operator_id", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("profile", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["triage_job.id"], name=op.f("fk_work_order_job_id_triage_job")
        ),
        sa.ForeignKeyConstraint(["tool_id"], ["tool.id"], name=op.f("fk_work_order_tool_id_tool")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order")),
        sa.UniqueConstraint("nonce", name=op.f("uq_work_order_nonce")),
    )
    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.create_index("ix_work_order_tool_status", ["tool_id", "status"], unique=False)

    op.create_table(
        "reset_result",
        sa.Column("work_order_id", sa.String(length=36), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=True),
        sa.Column("failures", sa.Text(), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("signed", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["triage_job.id"], name=op.f("fk_reset_result_job_id_triage_job")
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
            name=op.f("fk_reset_result_work_order_id_work_order"),
        ),
        sa.PrimaryKeyConstraint("work_order_id", name=op.f("pk_reset_result")),
    )


def downgrade() -> None:
    op.drop_table("reset_result")
    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.drop_index("ix_work_order_tool_status")

    op.drop_table("work_order")
    op.drop_table("seal_fitting")
    op.drop_table("inspection")
    op.drop_table("decision")
    with op.batch_alter_table("triage_job", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_triage_job_open_device",
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )
        batch_op.drop_index("ix_triage_job_state")
        batch_op.drop_index("ix_triage_job_device")

    op.drop_table("triage_job")
    op.drop_table("facility_settings")
    with op.batch_alter_table("consignment_device", schema=None) as batch_op:
        batch_op.drop_index("ix_consignment_device_device")

    op.drop_table("consignment_device")
    op.drop_table("api_token")
    op.drop_table("tool")
    op.drop_table("tamper_policy")
    op.drop_table("operator")
    op.drop_table("device_exception")
    op.drop_table("device")
    op.drop_table("consignment")
    op.drop_table("agent_nonce")
