"""Bring a database to the latest schema with Alembic, the same way on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from triage.adapters.database import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(database: Database) -> None:
    """Apply every migration not yet applied."""
    config = _config()
    with database.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def is_current(database: Database) -> bool:
    """True when the database is at the latest migration."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    with database.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head
