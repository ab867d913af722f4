"""The API on loopback: uvicorn in a thread of the test process (`LiveServer`), or `motionlab
serve` as a separate process, as an operator starts it (`start_serve_process`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from core.settings import Settings
from service.app import create_app, server_options
from service.serving import WS_PROTOCOL


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
            **server_options(settings),
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


def serve_environment(home: Path, port: int, **env: str) -> dict[str, str]:
    """The environment of a `motionlab` command; extra MOTIONLAB_* settings as keywords."""
    return {
        **os.environ,
        "MOTIONLAB_HOME": str(home),
        "MOTIONLAB_PORT": str(port),
        "MOTIONLAB_LOG_LEVEL": "WARNING",
        **{f"MOTIONLAB_{name.upper()}": value for name, value in env.items()},
    }


def wait_until_ready(server: subprocess.Popen, port: int, timeout_s: float = 120) -> None:
    # 120 s: `serve --api-processes 2` took over 60 s to answer on a loaded 2-core machine.
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
