"""A live server with one real worker for the client and CLI tests (one per module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.homes import FAST, migrated_settings
from tests.support.runs import running_workers
from tests.support.servers import LiveServer


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[LiveServer]:
    """A migrated home on SQLite, a uvicorn server and one worker process; BasicMotions not
    uploaded (the tests upload through the client). The client speaks HTTP: which database
    is behind the server is not its concern."""
    home = tmp_path_factory.mktemp("client") / "home"
    settings = migrated_settings(home, None, workers=0, **FAST)
    with LiveServer(settings) as server, running_workers(settings, 1):
        yield server
