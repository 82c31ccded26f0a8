"""The Alembic migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from triage import bootstrap
from triage.adapters.tables import metadata


def test_migrated_schema_matches_the_tables(app: bootstrap.App) -> None:
    with app.database.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []
