"""A live server with one real worker for the client and CLI tests (one per module)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from core.migrate import upgrade
from core.settings import Settings
from tests.conftest import LiveServer
from tests.service.runs.conftest import FAST, running_workers

# A short, real training run on BasicMotions.
SHORT_RUN = {
    "prediction_window": 10,
    "max_iterations": 3,
    "random_seed": 1,
    "split": {"strategy": "column"},
}


@dataclass
class Live:
    settings: Settings
    url: str


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[Live]:
    """A migrated home, a uvicorn server and one worker process; BasicMotions not uploaded
    (the tests upload through the client)."""
    settings = Settings(home=tmp_path_factory.mktemp("client") / "home", workers=0, **FAST)
    settings.home.mkdir()
    upgrade(settings.resolved_database_url)
    with LiveServer(settings) as server, running_workers(settings, 1):
        yield Live(settings, server.url)
