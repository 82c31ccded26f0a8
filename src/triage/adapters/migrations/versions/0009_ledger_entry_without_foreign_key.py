"""Ledger entries without a foreign key to the ledger head.

Every entry row is written by the ledger store alone, under the lock of the head row whose
``log_id`` it carries, so the foreign key only re-checked that per row: on SQLite that check
was about 40 % of the time of a bulk append's inserts. The head row is never deleted.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 22:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_FK = "fk_ledger_entry_log_id_ledger_head"


def upgrade() -> None:
    # On SQLite this copies the table (it cannot drop a constraint in place); the copy keeps
    # ``idx`` as INTEGER PRIMARY KEY, the rowid.
    with op.batch_alter_table("ledger_entry") as batch:
        batch.drop_constraint(_FK, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("ledger_entry") as batch:
        batch.create_foreign_key(_FK, "ledger_head", ["log_id"], ["log_id"])
