"""Shared fixtures: a facility on SQLite and on a real, throwaway PostgreSQL server."""

from __future__ import annotations

import copy
import itertools
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

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
        _replace_with_copy(cluster, database_url, self._postgresql_template(cluster))

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


def _replace_with_copy(cluster: PgCluster, database_url: str, template: str) -> None:
    """Make the PostgreSQL database at ``database_url`` (created empty by ``database_url``,
    never opened) a copy of ``template``."""
    name = make_url(database_url).database
    assert name is not None
    cluster.drop_database(name)
    cluster.create_database(name, template=template)


def _migrate(url: str) -> None:
    database = Database(url)
    try:
        migrate.upgrade(database)
    finally:
        database.dispose()  # nothing stays connected to the template


@pytest.fixture(scope="session")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> Schemas:
    return Schemas(tmp_path_factory.mktemp("schemas"))


@dataclass
class SetUp:
    """What a directory of tests sets up in the facility of each test that asks for it (see
    ``facility_set_up``): ``build`` runs once per test process, backend and day, and each such
    test gets a copy of the facility it left and of what it returned (``value``)."""

    name: str
    build: Callable[[bootstrap.App], Any]
    value: Any = None


@dataclass(frozen=True)
class _Facility:
    data_dir: Path  # its keys and checkpoints, and its database on SQLite
    database: str | None  # its PostgreSQL database, copied as a template
    value: Any


class Facilities:
    """Facilities set up once per test process and copied into each test's database and data
    directory: setting one up (operators, a tool, seals) takes a few hundred milliseconds, a
    copy a few dozen. Each copy is opened as ``triage`` opens an installation (``bootstrap``),
    with the test's own settings."""

    def __init__(self, root: Path, schemas: Schemas) -> None:
        self._root = root
        self._schemas = schemas
        self._made: dict[tuple[str, str, date], _Facility] = {}
        self._numbers = itertools.count()  # a build that failed leaves its name taken

    def open_copy(
        self, set_up: SetUp, settings: Settings, request: pytest.FixtureRequest
    ) -> bootstrap.App:
        """A copy of the facility ``set_up`` makes, in the empty database and data directory
        of ``settings``; ``set_up.value`` becomes a copy of what its build returned."""
        url = make_url(settings.database_url)
        backend = url.get_backend_name()
        key = (set_up.name, backend, date.today())
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = self._make(set_up, backend, request)
        # Modes are kept (copytree uses copy2): the keys readable by their owner only.
        shutil.copytree(made.data_dir, settings.data_dir, dirs_exist_ok=True)
        if made.database is not None:
            cluster: PgCluster = request.getfixturevalue("pg_cluster")
            _replace_with_copy(cluster, settings.database_url, made.database)
        set_up.value = copy.deepcopy(made.value)
        return bootstrap.bootstrap(settings)

    def _make(self, set_up: SetUp, backend: str, request: pytest.FixtureRequest) -> _Facility:
        number = next(self._numbers)
        data_dir = self._root / f"{set_up.name}-{backend}-{number}" / "data"
        data_dir.mkdir(parents=True)
        database = None
        if backend == "sqlite":
            url = f"sqlite:///{data_dir / 'triage.db'}"
        else:
            cluster: PgCluster = request.getfixturevalue("pg_cluster")
            database = f"facility_{set_up.name}_{number}"
            url = cluster.create_database(database)
        self._schemas.copy_into(url, request)
        application = bootstrap.initialise(Settings(data_dir=data_dir, database_url=url)).app
        try:
            value = set_up.build(application)
        finally:
            application.close()  # nothing stays connected to what is copied
        if backend == "sqlite":
            fold_into_one_file(data_dir / "triage.db")
        return _Facility(data_dir, database, value)


@pytest.fixture(scope="session")
def facilities(tmp_path_factory: pytest.TempPathFactory, schemas: Schemas) -> Facilities:
    return Facilities(tmp_path_factory.mktemp("facilities"), schemas)


@pytest.fixture
def facility_set_up() -> SetUp | None:
    """What ``app`` sets up in a test's facility: nothing here (an initialised facility); a
    directory of tests may say otherwise for the tests that ask for it."""
    return None


@pytest.fixture
def app(
    settings: Settings,
    schemas: Schemas,
    facilities: Facilities,
    request: pytest.FixtureRequest,
) -> Iterator[bootstrap.App]:
    """An initialised demo facility (its schema copied from ``schemas``), or a copy of the
    facility ``facility_set_up`` says."""
    set_up: SetUp | None = request.getfixturevalue("facility_set_up")
    if set_up is None:
        schemas.copy_into(settings.database_url, request)
        application = bootstrap.initialise(settings).app
    else:
        application = facilities.open_copy(set_up, settings, request)
    yield application
    application.close()
