"""Issue 20 (B): DUIS requests out (8.4, 8.3, 8.14.3, 8.14.4).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
