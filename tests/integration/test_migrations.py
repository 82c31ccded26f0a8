"""The Alembic migrations build exactly the schema the code declares, on both databases, and
move stored entries between rows and bundles without changing the ledger."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select

from triage import bootstrap
from triage.adapters import migrate
from triage.adapters.tables import ledger_bundle, ledger_entry, metadata
from triage.services import ledger as ledger_service


def test_migrated_schema_matches_the_tables(app: bootstrap.App) -> None:
    with app.database.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_entry_bundles_migrate_both_ways_and_the_ledger_stays_the_same(app: bootstrap.App) -> None:
    with app.uow(write=True) as uow:
        size = uow.ledger.log.head().size
        uow.ledger.log.append([f"entry {i}".encode() for i in range(size, 700)])
        uow.commit()
    before = ledger_service.verify(
        app.uow, ledger_service.LEDGER_ACTOR, app.verifier_key(), app.origin
    )
    assert before.ok and before.size == 700

    def counts() -> tuple[int, int]:
        with app.database.engine.connect() as conn:
            rows = conn.execute(select(func.count()).select_from(ledger_entry)).scalar_one()
            bundles = conn.execute(select(func.count()).select_from(ledger_bundle)).scalar_one()
        return int(rows), int(bundles)

    assert counts() == (700 - 512, 2)  # tiles 0 and 1 are full: bundles; the rest are rows
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    with app.database.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0009")
    with app.database.engine.connect() as conn:
        stored = conn.execute(select(ledger_entry.c.idx).order_by(ledger_entry.c.idx)).scalars()
        assert list(stored) == list(range(700))  # every entry a row again, as 0009 had them
    migrate.upgrade(app.database)
    assert counts() == (700 - 512, 2)
    after = ledger_service.verify(
        app.uow, ledger_service.LEDGER_ACTOR, app.verifier_key(), app.origin
    )
    assert after.ok and (after.size, after.root) == (before.size, before.root)


def test_the_start_up_check_knows_alembic_s_head_and_a_database_behind_it(
    app: bootstrap.App,
) -> None:
    """Every command checks the schema is current without importing Alembic: its idea of the
    newest migration is Alembic's, and a database one migration behind is not current."""
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    assert migrate.head() == ScriptDirectory.from_config(config).get_current_head()
    assert migrate.is_current(app.database)
    with app.database.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "-1")
    assert not migrate.is_current(app.database)
    migrate.upgrade(app.database)
    assert migrate.is_current(app.database)


def test_activity_totals_are_filled_from_the_activity_counted_before_them(
    app: bootstrap.App,
) -> None:
    """0025 counts the activity already recorded, as the projector would have kept it."""
    from datetime import UTC, datetime

    from triage.adapters.tables import activity, activity_total

    at = datetime(2026, 12, 7, 9, tzinfo=UTC)
    rows = [
        {"id": 1, "kind": "resets", "tool_id": "T1", "operator_id": "op", "at": at},
        {"id": 2, "kind": "resets", "tool_id": "T1", "operator_id": "op2", "at": at},
        {"id": 3, "kind": "refused_commands", "tool_id": "T1", "operator_id": None, "at": at},
    ]
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    with app.database.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0024")
        conn.execute(activity.delete())
        conn.execute(activity.insert(), rows)
    migrate.upgrade(app.database)
    with app.database.engine.connect() as conn:
        totals = conn.execute(
            select(
                activity_total.c.kind,
                activity_total.c.scope,
                activity_total.c.subject_id,
                activity_total.c.count,
            ).order_by(activity_total.c.scope, activity_total.c.kind, activity_total.c.subject_id)
        ).all()
    assert [tuple(t) for t in totals] == [
        ("resets", "operator", "op", 1),
        ("resets", "operator", "op2", 1),
        ("refused_commands", "tool", "T1", 1),
        ("resets", "tool", "T1", 2),
    ]
