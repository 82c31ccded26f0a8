"""Bring a database to the latest schema with Alembic, the same way on SQLite and PostgreSQL.

Every command checks the schema is current before it opens the facility (``is_current``): that
check reads the revision Alembic recorded and compares it with the newest migration's, found by
reading the migration files' ``revision`` lines, without importing Alembic (about a tenth of a
second at every start). Alembic is imported only to migrate.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from triage.adapters.database import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r'^revision = "([^"]+)"$', re.MULTILINE)
_REVISES = re.compile(r'^down_revision = "([^"]+)"$', re.MULTILINE)


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(database: Database) -> None:
    """Apply every migration not yet applied."""
    from alembic import command

    config = _config()
    with database.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def head() -> str:
    """The newest migration's revision: the one no other migration revises (the chain is
    linear; a test checks this is Alembic's head)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revisions.update(_REVISION.findall(source))
        revised.update(_REVISES.findall(source))
    heads = revisions - revised
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def is_current(database: Database) -> bool:
    """True when the database is at the latest migration."""
    try:
        with database.engine.connect() as conn:
            recorded = [
                row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))
            ]
    except DBAPIError:  # no alembic_version table: never migrated
        return False
    return recorded == [head()]
