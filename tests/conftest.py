"""Shared fixtures: a facility on SQLite and on a real, throwaway PostgreSQL server."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.pgserver import PgCluster, start_cluster
from tests.sqlite_files import fold_into_one_file
from triage import bootstrap
from triage.adapters import migrate
from triage.adapters.database import Database
from triage.config import Settings

BACKENDS = ["sqlite", "postgresql"]
_db_numbers = itertools.count()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests running on PostgreSQL get the 'postgres' marker, so they can be selected."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("backend") == "postgresql":
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One real PostgreSQL cluster per test process, removed at the end."""
    cluster = start_cluster()
    yield cluster
    cluster.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Run the test once on SQLite and once on PostgreSQL."""
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A fresh, empty database of the requested backend."""
    if backend == "sqlite":
        (tmp_path / "data").mkdir(exist_ok=True)
        return f"sqlite:///{tmp_path / 'data' / 'triage.db'}"
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database(f"t{next(_db_numbers)}")


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings for a data directory in tmp_path and the backend's database."""
    return Settings(data_dir=tmp_path / "data", database_url=database_url)


class Schemas:
    """Each backend's schema, migrated once per test process into an empty database and copied
    into each test's before ``initialise``: Alembic's migrations take about half a second a
    facility, a copy a few milliseconds. ``initialise`` still runs as ``triage init`` does
    (finding the schema current), and every facility still has keys and a ledger of its own."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._sqlite: Path | None = None
        self._postgresql: str | None = None

    def copy_into(self, database_url: str, request: pytest.FixtureRequest) -> None:
        """Give the empty database at ``database_url`` the migrated schema."""
        url = make_url(database_url)
        if url.get_backend_name() == "sqlite":
            target = Path(url.database or "")
            assert not target.exists(), f"{target} is not empty"
            shutil.copyfile(self._sqlite_template(), target)
            return
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        template = self._postgresql_template(cluster)
        assert url.database is not None
        cluster.drop_database(url.database)  # created empty by database_url, never opened
        cluster.create_database(url.database, template=template)

    def _sqlite_template(self) -> Path:
        if self._sqlite is None:
            path = self._root / "schema.db"
            _migrate(f"sqlite:///{path}")
            fold_into_one_file(path)
            self._sqlite = path
        return self._sqlite

    def _postgresql_template(self, cluster: PgCluster) -> str:
        if self._postgresql is None:
            name = "schema_template"
            _migrate(cluster.create_database(name))
            self._postgresql = name
        return self._postgresql


def _migrate(url: str) -> None:
    database = Database(url)
    try:
        migrate.upgrade(database)
    finally:
        database.dispose()  # nothing stays connected to the template


@pytest.fixture(scope="session")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> Schemas:
    return Schemas(tmp_path_factory.mktemp("schemas"))


@pytest.fixture
def app(
    settings: Settings, schemas: Schemas, request: pytest.FixtureRequest
) -> Iterator[bootstrap.App]:
    """An initialised demo facility (its schema copied from ``schemas``)."""
    schemas.copy_into(settings.database_url, request)
    application = bootstrap.initialise(settings).app
    yield application
    application.close()
