"""A test's motionlab home: its settings, its database migrated by Alembic."""

from __future__ import annotations

from pathlib import Path

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
