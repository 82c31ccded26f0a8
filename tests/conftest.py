"""Shared fixtures: a facility on SQLite and on a real, throwaway PostgreSQL server."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pgserver import PgCluster, start_cluster
from triage import bootstrap
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


@pytest.fixture
def app(settings: Settings) -> Iterator[bootstrap.App]:
    """An initialised demo facility."""
    application = bootstrap.initialise(settings).app
    yield application
    application.close()
