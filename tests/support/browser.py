"""The dashboard in a real browser: Debian's Chromium driven by Playwright, and pages whose
console errors, exceptions, failed and foreign requests are recorded.

Without Chromium the browser tests skip with the reason, except in CI (`CI` or
MOTIONLAB_REQUIRE_CHROMIUM set, as `.ci/run` does after installing it), where they fail.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.requirements import missing
from tests.support.servers import LiveServer

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
PHONE = {"width": 390, "height": 844}  # an iPhone 12 to 15's CSS pixels
TOKEN_KEY = "motionlab.token"
QUICK_ITERATIONS, LIVE_ITERATIONS = 3, 40


def require_browser():
    """The Playwright module and the system Chromium; skip (fail in CI) without them."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("chromium", "Playwright for Python is not installed (pip install -e '.[dev]')")
    if shutil.which("chromium") is None:
        missing("chromium", f"Debian's chromium is not on PATH ({INSTALL_HINT})")
    return sync_playwright


@dataclass
class Dashboard:
    """A live server with tokens (read, developer, admin), BasicMotions, and a worker."""

    server: LiveServer
    api: httpx.Client  # with the admin token

    @property
    def url(self) -> str:
        return self.server.url


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


def session_ids(api: httpx.Client) -> set[str]:
    return {s["id"] for s in api.get("/v1/sessions", params={"limit": 1000}).json()["items"]}


def chart(page, canvas_id: str) -> dict:
    """What a Chart.js chart draws: its labels, and each dataset's label, values and points."""
    return page.evaluate(
        """id => {
            const chart = Chart.getChart(document.getElementById(id));
            return {
                labels: chart.data.labels,
                datasets: chart.data.datasets.map((d, i) => ({
                    label: d.label,
                    data: d.data,
                    drawn: chart.getDatasetMeta(i).data.length,
                })),
            };
        }""",
        canvas_id,
    )
