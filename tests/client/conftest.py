"""A live server with one real worker for the client and CLI tests (one per module)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from core.settings import Settings
from tests.conftest import LiveServer, migrated_settings
from tests.postgres import DATABASES, long_lived_database
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


@pytest.fixture(scope="module", params=DATABASES)
def live(request, tmp_path_factory) -> Iterator[Live]:
    """A migrated home, a uvicorn server and one worker process; BasicMotions not uploaded
    (the tests upload through the client)."""
    home = tmp_path_factory.mktemp("client") / "home"
    with long_lived_database(request) as database_url:
        settings = migrated_settings(home, database_url, workers=0, **FAST)
        with LiveServer(settings) as server, running_workers(settings, 1):
            yield Live(settings, server.url)
