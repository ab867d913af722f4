"""Run tests' homes: heartbeats and polling fast enough to wait fractions of a second."""

from __future__ import annotations

import pytest

from core.settings import Settings
from tests.support.homes import FAST, migrated_settings


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return migrated_settings(tmp_path / "home", database_url, workers=0, **FAST)
