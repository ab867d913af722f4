"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against a live
uvicorn server with the BasicMotions sessions, real workers and real finished runs.

Without Chromium the tests skip with the reason, except in CI (`CI` or
MOTIONLAB_REQUIRE_CHROMIUM set, as `.ci/run` does after installing it), where they fail.
Every page is watched: a console error, an uncaught exception, a failed request, an error
answer or a request that leaves this machine fails the test (the dashboard must work
offline). Each test saves a screenshot of its pages in its temp dir.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from core.migrate import upgrade
from core.settings import Settings
from tests.conftest import LiveServer
from tests.service.runs.conftest import (
    FAST,
    running_workers,
    start_run,
    upload_basicmotions,
    wait_for,
)

LAN_NAME = "phone.test"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # phone.test names this machine, as a phone on the LAN would: an http:// page there is no
    # secure context (a loopback address is one), for /collect's plain-HTTP message.
    f"--host-resolver-rules=MAP {LAN_NAME} 127.0.0.1",
]
INSTALL_HINT = "apt-get install -y chromium chromium-driver"
TOKENS = {
    "read": "read-token-" + "r" * 24,
    "developer": "developer-token-" + "d" * 24,  # read + train: predicts from the run page
    "admin": "admin-token-" + "a" * 24,
    "uploader": "upload-token-" + "u" * 24,  # a phone's: /collect
}
SCOPES = {"read": "read", "developer": "read+train", "admin": "admin", "uploader": "upload"}
TOKEN_KEY = "motionlab.token"
QUICK_ITERATIONS, LIVE_ITERATIONS = 3, 40


def require_browser():
    """The Playwright module and the system Chromium; skip (fail in CI) without them."""
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "Playwright for Python is not installed (pip install -e '.[dev]')"
    if reason is None and shutil.which("chromium") is None:
        reason = f"Debian's chromium is not on PATH ({INSTALL_HINT})"
    if reason is not None:
        if os.environ.get("CI") or os.environ.get("MOTIONLAB_REQUIRE_CHROMIUM"):
            pytest.fail(f"{reason}: CI must run the browser tests", pytrace=False)
        pytest.skip(reason)
    return sync_playwright


@pytest.fixture(scope="session")
def browser():
    sync_playwright = require_browser()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@dataclass
class Dashboard:
    """A live server with tokens (read, developer, admin), BasicMotions, and a worker."""

    server: LiveServer
    api: httpx.Client  # with the admin token

    @property
    def url(self) -> str:
        return self.server.url


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


def session_ids(api: httpx.Client) -> set[str]:
    return {s["id"] for s in api.get("/v1/sessions", params={"limit": 1000}).json()["items"]}


@pytest.fixture
def restore_sessions(dashboard: Dashboard) -> Iterator[None]:
    """The sessions a test adds are deleted after it: every other test sees BasicMotions."""
    before = session_ids(dashboard.api)
    yield
    for session_id in session_ids(dashboard.api) - before:
        assert dashboard.api.delete(f"/v1/sessions/{session_id}").status_code == 204


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


class WatchedPage:
    """A page whose console errors, exceptions, failed and foreign requests are recorded."""

    def __init__(self, page, base_url: str, shots: Path):
        self.page, self.base_url, self.shots = page, base_url, shots
        self.problems: list[str] = []
        self.expected_statuses: set[int] = set()
        self.expected_failures: set[str] = set()  # URL parts whose requests may fail (offline)
        self.expected_console: set[str] = set()  # parts of console errors expected (offline)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("requestfailed", self._request_failed)
        page.on("response", self._response)
        # Offline: anything not served by this server is refused (and reported).
        page.route("**/*", self._only_this_server)

    def _console(self, message) -> None:
        if message.type == "error" and not self._expected_console(message.text):
            self.problems.append(f"console error: {message.text}")

    def _expected_console(self, text: str) -> bool:
        return any(f"status of {status}" in text for status in self.expected_statuses) or any(
            part in text for part in self.expected_console
        )

    def _request_failed(self, request) -> None:
        if any(part in request.url for part in self.expected_failures):
            return
        self.problems.append(f"request failed: {request.url} {request.failure}")

    def _response(self, response) -> None:
        if response.status >= 400 and response.status not in self.expected_statuses:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def _only_this_server(self, route) -> None:
        url = route.request.url
        if url.startswith(self.base_url) or url.startswith(("blob:", "data:")):
            route.continue_()
        else:
            self.problems.append(f"request leaving this machine: {url}")
            route.abort()

    @property
    def context(self):
        return self.page.context

    def open(self, path: str, shown: str) -> None:
        """Go to `path` and wait for the selector `shown` (what the page draws last)."""
        self.page.goto(self.base_url + path)
        self.page.wait_for_selector(shown, timeout=60_000)

    def screenshot(self, name: str, *, full_page: bool = True) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def assert_clean(self) -> None:
        assert self.problems == [], self.problems


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


PHONE = {"width": 390, "height": 844}  # an iPhone 12 to 15's CSS pixels


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
