"""Access control: credentials, sessions, token scopes, locks, thresholds, alerts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 17:36:07.224611
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_lock",
        sa.Column("subject_kind", sa.String(length=12), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject_kind", "subject_id", name=op.f("pk_access_lock")),
    )
    op.create_table(
        "activity",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("tool_id", sa.String(length=64), nullable=True),
        sa.Column("operator_id", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity")),
    )
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.create_index("ix_activity_operator", ["kind", "operator_id", "at"], unique=False)
        batch_op.create_index("ix_activity_tool", ["kind", "tool_id", "at"], unique=False)

    op.create_table(
        "alert",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("subject_kind", sa.String(length=12), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index("ix_alert_status", ["status"], unique=False)

    op.create_table(
        "anomaly_threshold",
        sa.Column("scope", sa.String(length=12), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("max_count", sa.Integer(), nullable=False),
        sa.Column("window_minutes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "subject_id", "metric", name=op.f("pk_anomaly_threshold")),
    )
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("operator_id", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempt")),
    )
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempt_operator", ["operator_id", "at"], unique=False)
        batch_op.create_index("ix_login_attempt_source", ["source", "at"], unique=False)

    op.create_table(
        "activation_code",
        sa.Column("operator_id", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operator.id"], name=op.f("fk_activation_code_operator_id_operator")
        ),
        sa.PrimaryKeyConstraint("operator_id", name=op.f("pk_activation_code")),
    )
    op.create_table(
        "operator_credential",
        sa.Column("operator_id", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("totp_secret", sa.LargeBinary(), nullable=True),
        sa.Column("totp_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_totp_step", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operator.id"],
            name=op.f("fk_operator_credential_operator_id_operator"),
        ),
        sa.PrimaryKeyConstraint("operator_id", name=op.f("pk_operator_credential")),
    )
    op.create_table(
        "recovery_code",
        sa.Column("operator_id", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operator.id"], name=op.f("fk_recovery_code_operator_id_operator")
        ),
        sa.PrimaryKeyConstraint("operator_id", "code_hash", name=op.f("pk_recovery_code")),
    )
    op.create_table(
        "web_session",
        sa.Column("id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("operator_id", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("bench", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operator.id"], name=op.f("fk_web_session_operator_id_operator")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_session")),
    )
    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.create_index("ix_web_session_operator", ["operator_id"], unique=False)

    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scopes", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("bench", sa.String(length=64), nullable=True))

    # Tokens issued before tokens expired: they expire 90 days after they were issued.
    for token_id, created in op.get_bind().execute(sa.text("SELECT id, created_at FROM api_token")):
        op.get_bind().execute(
            sa.text("UPDATE api_token SET expires_at = :at WHERE id = :id"),
            {"at": _as_utc(created) + timedelta(days=90), "id": token_id},
        )

    with op.batch_alter_table("facility_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("working_hours", sa.Text(), nullable=True))

    with op.batch_alter_table("operator", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("suspended", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("mfa_enrolled", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("tool", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_reason", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("tool", schema=None) as batch_op:
        batch_op.drop_column("status_changed_at")
        batch_op.drop_column("status_reason")

    with op.batch_alter_table("operator", schema=None) as batch_op:
        batch_op.drop_column("last_login_at")
        batch_op.drop_column("mfa_enrolled")
        batch_op.drop_column("suspended")

    with op.batch_alter_table("facility_settings", schema=None) as batch_op:
        batch_op.drop_column("working_hours")

    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_column("bench")
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("scopes")

    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.drop_index("ix_web_session_operator")

    op.drop_table("web_session")
    op.drop_table("recovery_code")
    op.drop_table("operator_credential")
    op.drop_table("activation_code")
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempt_source")
        batch_op.drop_index("ix_login_attempt_operator")

    op.drop_table("login_attempt")
    op.drop_table("anomaly_threshold")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_status")

    op.drop_table("alert")
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_tool")
        batch_op.drop_index("ix_activity_operator")

    op.drop_table("activity")
    op.drop_table("access_lock")


def _as_utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
