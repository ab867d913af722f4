"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against a live
uvicorn server with the BasicMotions sessions, real workers and real finished runs.

Without Chromium the tests skip with the reason, except in CI (`CI` or
MOTIONLAB_REQUIRE_CHROMIUM set, as `.ci/run` does after installing it), where they fail.
Every page is watched: a console error, an uncaught exception, a failed request, an error
answer or a request that leaves this machine fails the test (the dashboard must work
offline). Each test saves a screenshot of its pages in its temp dir.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from core.migrate import upgrade
from core.settings import Settings
from tests.support.browser import (
    CHROMIUM_ARGS,
    LIVE_ITERATIONS,
    PHONE,
    QUICK_ITERATIONS,
    SCOPES,
    TOKEN_KEY,
    TOKENS,
    Dashboard,
    WatchedPage,
    require_browser,
    session_ids,
)
from tests.support.homes import FAST
from tests.support.runs import running_workers, start_run, upload_basicmotions, wait_for
from tests.support.servers import LiveServer


@pytest.fixture(scope="session")
def browser():
    sync_playwright = require_browser()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def dashboard(tmp_path_factory) -> Iterator[Dashboard]:
    home = tmp_path_factory.mktemp("dashboard") / "home"
    entries = ",".join(f"{name}:{SCOPES[name]}:{token}" for name, token in TOKENS.items())
    settings = Settings(home=home, workers=0, tokens=SecretStr(entries), **FAST)
    home.mkdir()
    upgrade(settings.resolved_database_url)
    with (
        LiveServer(settings) as server,
        running_workers(settings),
        httpx.Client(
            base_url=server.url,
            timeout=60,
            headers={"Authorization": f"Bearer {TOKENS['admin']}"},
        ) as api,
    ):
        upload_basicmotions(api)
        yield Dashboard(server, api)


@pytest.fixture(scope="session")
def quick_run(dashboard: Dashboard) -> str:
    """A short run of BasicMotions that succeeded."""
    run_id = start_run(
        dashboard.api,
        experiment="dashboard",
        name="quick",
        prediction_window=10,
        max_iterations=QUICK_ITERATIONS,
        random_seed=1,
    )
    finished = wait_for(dashboard.api, run_id, {"succeeded", "failed"}, timeout_s=300)
    assert finished["status"] == "succeeded", finished
    return run_id


@pytest.fixture(scope="session")
def live_run(dashboard: Dashboard, quick_run: str) -> str:
    """A longer run, started now (after the quick one): its page is opened as it starts."""
    return start_run(
        dashboard.api,
        experiment="dashboard",
        name="longer",
        prediction_window=10,
        max_iterations=LIVE_ITERATIONS,
        random_seed=2,
    )


@pytest.fixture
def tab(
    browser, dashboard: Dashboard, tmp_path: Path
) -> Iterator[Callable[[str | None], WatchedPage]]:
    """tab(token): a new browser tab (its own context) holding `token` (None: no token), as
    if entered in the page's token form earlier; screenshots go to the test's temp dir."""
    contexts = []

    def open_tab(token: str | None) -> WatchedPage:
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        contexts.append(context)
        if token is not None:
            context.add_init_script(f"sessionStorage.setItem({TOKEN_KEY!r}, {token!r})")
        return WatchedPage(context.new_page(), dashboard.url, tmp_path)

    yield open_tab
    for context in contexts:
        context.close()


@pytest.fixture
def reader(tab) -> WatchedPage:
    """A tab holding the read token."""
    return tab(TOKENS["read"])


@pytest.fixture
def developer(tab) -> WatchedPage:
    """A tab holding a token that may read and train (predict)."""
    return tab(TOKENS["developer"])


@pytest.fixture
def visitor(tab) -> WatchedPage:
    """A tab without a token."""
    return tab(None)


@pytest.fixture
def phone(browser, dashboard: Dashboard, tmp_path: Path) -> Iterator[Callable[..., WatchedPage]]:
    """phone(base_url=…, service_workers="block"): a new phone-sized, touch tab (its own
    context: its own storage) on the dashboard's server, or on `base_url`."""
    contexts = []

    def open_phone(*, base_url: str | None = None, service_workers: str = "block") -> WatchedPage:
        context = browser.new_context(
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            service_workers=service_workers,
        )
        contexts.append(context)
        return WatchedPage(context.new_page(), base_url or dashboard.url, tmp_path)

    yield open_phone
    for context in contexts:
        context.close()


@pytest.fixture
def restore_sessions(dashboard: Dashboard) -> Iterator[None]:
    """The sessions a test adds are deleted after it: every other test sees BasicMotions."""
    before = session_ids(dashboard.api)
    yield
    for session_id in session_ids(dashboard.api) - before:
        assert dashboard.api.delete(f"/v1/sessions/{session_id}").status_code == 204
