"""Shared fixtures: a migrated home per test (SQLite, or PostgreSQL where parametrised) and a
real uvicorn server on loopback."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from core.migrate import upgrade
from core.settings import Settings
from service.app import create_app
from service.serving import WS_PROTOCOL
from tests.postgres import postgres_cluster, postgres_url

__all__ = ["postgres_cluster", "postgres_url"]  # fixtures for every test directory

REPO = Path(__file__).resolve().parent.parent
BASICMOTIONS_CSV = REPO / "data" / "basicmotions.csv"


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants, parents first."""
    tree = [pid]
    for member in tree:  # the list grows as it is walked: breadth first
        with contextlib.suppress(FileNotFoundError):  # exited meanwhile
            children = Path(f"/proc/{member}/task/{member}/children").read_text()
            tree += [int(child) for child in children.split()]
    return tree


def alive(pid: int) -> bool:
    """Running: a zombie (exited, not yet reaped) is not."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def problem(response: httpx.Response, status: int) -> dict:
    """The RFC 9457 problem of an error answer, after checking its status and shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json", response.headers
    body = response.json()
    assert body["status"] == status, body
    assert body["type"].startswith("urn:motionlab:problem:"), body
    assert body["title"] and body["detail"], body
    assert "Traceback" not in response.text
    return body


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def database_url() -> str | None:
    """The database of a test's `settings`: None, SQLite under its home. The directories
    that run on both databases parametrise it (tests/postgres.py: `database_url_for`)."""
    return None


def migrated_settings(home: Path, database_url: str | None, **values) -> Settings:
    """Settings of a fresh home (created here) on a database migrated by Alembic."""
    settings = Settings(home=home, database_url=database_url, **values)
    settings.home.mkdir()
    upgrade(settings.resolved_database_url)
    return settings


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    """A fresh home with a database migrated by Alembic."""
    return migrated_settings(tmp_path / "home", database_url, workers=0)


class LiveServer:
    """uvicorn serving the app on a loopback port, in a background thread."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            ws=WS_PROTOCOL,  # as `motionlab serve` runs it
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def server(settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(settings) as live:
        yield live


@pytest.fixture
def api(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def serve_environment(home: Path, port: int, **env: str) -> dict[str, str]:
    """The environment of a `motionlab` command; extra MOTIONLAB_* settings as keywords."""
    return {
        **os.environ,
        "MOTIONLAB_HOME": str(home),
        "MOTIONLAB_PORT": str(port),
        "MOTIONLAB_LOG_LEVEL": "WARNING",
        **{f"MOTIONLAB_{name.upper()}": value for name, value in env.items()},
    }


def wait_until_ready(server: subprocess.Popen, port: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    server.kill()
    raise RuntimeError(f"motionlab serve did not start (exit code {server.poll()})")


def start_serve_process(home: Path, port: int, *args: str, **env: str) -> subprocess.Popen:
    """`motionlab migrate` then `motionlab serve [args]` as an operator runs them; returns once
    the API answers /readyz. Extra MOTIONLAB_* settings come as keyword arguments."""
    environment = serve_environment(home, port, **env)
    command = [sys.executable, "-m", "service.cli"]
    subprocess.run([*command, "migrate"], env=environment, check=True)
    server = subprocess.Popen([*command, "serve", *args], env=environment)
    wait_until_ready(server, port)
    return server
