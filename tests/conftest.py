"""Fixtures for every test directory: the database a test runs on, a migrated home, a live
server, PostgreSQL, the served home with trained runs; and the hooks that give every test its
tier (tests/support/tiers.py), its databases and what it needs from the machine."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.settings import Settings
from tests.support.homes import migrated_settings
from tests.support.paths import BENCHMARKS
from tests.support.postgres import DATABASES, PostgresCluster, postgres_bindir, running_cluster
from tests.support.requirements import missing
from tests.support.served import Served, ServedHomes
from tests.support.servers import LiveServer
from tests.support.tiers import assign_tiers, deselected_module, keep_unit_tests_units

pytest_plugins = ("pytester",)  # tests/test_tiers.py collects example tests


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test marked `both_databases` runs on SQLite and on PostgreSQL (unless it names its
    `database` itself); every other test on SQLite alone."""
    if "database" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("both_databases") is None:
        return
    named = any(
        "database" in marker.args[0] for marker in metafunc.definition.iter_markers("parametrize")
    )
    if not named:
        metafunc.parametrize("database", DATABASES, indirect=True, scope="module")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    return deselected_module(collection_path, config)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    assign_tiers([item for item in items if BENCHMARKS not in item.path.parents])


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("turicreate") is not None:
        from workers.engines.turicreate import availability

        found = availability()
        if not found.available:
            missing("turicreate", f"Turi Create engine off: {found.reason}")


@pytest.fixture(autouse=True)
def unit_tier_guard(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("unit") is not None:
        keep_unit_tests_units(monkeypatch)


@pytest.fixture(scope="session")
def database(request: pytest.FixtureRequest) -> str:
    """The database the test runs on: "sqlite", or "postgresql" (`both_databases`). Session-
    scoped so that fixtures of any scope may depend on it; its parameters are per module (a
    module runs its SQLite variants, then its PostgreSQL ones)."""
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    bindir = postgres_bindir()
    if bindir is None:
        missing(
            "postgres",
            "PostgreSQL is not installed (no `pg_config --bindir` with initdb and pg_ctl; "
            "apt-get install postgresql)",
        )
    with running_cluster(bindir) as cluster:
        yield cluster


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> Iterator[str]:
    """A fresh migrated PostgreSQL database for one test; its SQLAlchemy URL."""
    name = postgres_cluster.fresh_database()
    yield postgres_cluster.database_url(name)
    postgres_cluster.drop_database(name)


@pytest.fixture
def database_url(database: str, request: pytest.FixtureRequest) -> str | None:
    """The URL of the test's database: None (SQLite under its home), or a fresh PostgreSQL
    database."""
    return request.getfixturevalue("postgres_url") if database == "postgresql" else None


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    """A fresh home with a database migrated by Alembic."""
    return migrated_settings(tmp_path / "home", database_url, workers=0)


@pytest.fixture
def server(settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(settings) as live:
        yield live


@pytest.fixture
def api(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


@pytest.fixture(scope="session")
def served_homes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHomes]:
    with contextlib.ExitStack() as stack:
        yield ServedHomes(tmp_path_factory.mktemp("served"), stack)


@pytest.fixture(scope="module")
def served(database: str, served_homes: ServedHomes, request: pytest.FixtureRequest) -> Served:
    """The server with trained runs (tests/support/served.py) on the test's database; shared
    by every test, which must leave it as it found it."""
    cluster = request.getfixturevalue("postgres_cluster") if database == "postgresql" else None
    return served_homes.get(database, cluster)


@pytest.fixture
def served_api(served: Served) -> Iterator[httpx.Client]:
    with served.client() as client:
        yield client
