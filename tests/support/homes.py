"""A test's motionlab home: its settings, its database migrated by Alembic."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.migrate import upgrade
from core.settings import Settings

# Heartbeats and polling fast enough that a test waits fractions of a second; a worker goes
# stale only after 15 s, so that a heartbeat late on a loaded machine does not count as a dead
# worker (the tests of reclaiming set `STALE_AFTER_3_S`).
FAST = {
    "heartbeat_interval_s": 0.2,
    "heartbeat_timeout_s": 15.0,
    "poll_interval_s": 0.1,
    "log_level": "WARNING",
}
STALE_AFTER_3_S = {**FAST, "heartbeat_timeout_s": 3.0}


def migrated_settings(home: Path, database_url: str | None, **values) -> Settings:
    """Settings of a fresh home (created here) on a database migrated by Alembic."""
    settings = Settings(home=home, database_url=database_url, **values)
    settings.home.mkdir()
    upgrade(settings.resolved_database_url)
    return settings


# A fixture's parameters: the database kinds, each with the tier it makes a test.
DATABASE_KINDS = [
    pytest.param("sqlite", marks=pytest.mark.integration),
    pytest.param("postgresql", marks=pytest.mark.system),
]


def database_at(request: pytest.FixtureRequest, tmp_path: Path, revision: str) -> Iterator[str]:
    """The URL of a database migrated to `revision` only, of the fixture's kind
    (`request.param`, one of DATABASE_KINDS); a PostgreSQL one is dropped afterwards."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        upgrade(url, revision)
        yield url
        return
    cluster = request.getfixturevalue("postgres_cluster")
    name = cluster.create_database()  # empty, not the template migrated to head
    url = cluster.database_url(name)
    upgrade(url, revision)
    yield url
    cluster.drop_database(name)
