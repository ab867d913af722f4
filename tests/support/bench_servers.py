"""`motionlab serve` as the benchmarks run it: with a freshly trained run to predict with, or
timing runs one after the other on an idle server."""

from __future__ import annotations

import contextlib
import random
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx

from tests.support.paths import BASICMOTIONS_CSV
from tests.support.processes import tree_cpu_seconds
from tests.support.runs import upload_tiny
from tests.support.servers import free_port, start_serve_process

PREDICTION_WINDOW = 10  # of the trained run
RUNS = 10
T = TypeVar("T")
RUN_BODY = {"prediction_window": 5, "max_iterations": 2, "split": {"strategy": "none"}}
IDLE_WINDOW_S, IDLE_CPU_FRACTION = 0.5, 0.1


def start_server(home: Path, port: int) -> subprocess.Popen:
    return start_serve_process(home, port, workers="1", poll_interval_s="0.1")


def train(api: httpx.Client, engine: str = "torch") -> str:
    response = api.post(
        "/v1/sessions?sample_rate_hz=10",
        content=BASICMOTIONS_CSV.read_bytes(),
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code in (200, 201), response.text[:300]  # 200: stored already
    body = {"prediction_window": PREDICTION_WINDOW, "max_iterations": 2, "random_seed": 1}
    run_id = api.post("/v1/runs", json={**body, "engine": engine}).json()["id"]
    deadline = time.monotonic() + 300
    while api.get(f"/v1/runs/{run_id}").json()["status"] != "succeeded":
        assert time.monotonic() < deadline, "training did not finish"
        time.sleep(0.2)
    return run_id


@contextlib.contextmanager
def trained_server(engine: str = "torch") -> Iterator[tuple[int, str]]:
    """`motionlab serve` with a freshly trained run of `engine`: (port, run id)."""
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start_server(Path(tmp) / "home", port)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as api:
                run_id = train(api, engine)
            yield port, run_id
        finally:
            # SIGINT, not SIGTERM: uvicorn re-raises SIGTERM after its shutdown, which skips
            # `serve`'s clean-up and leaves its worker process running.
            server.send_signal(signal.SIGINT)
            server.wait()


def wait_until_idle(pid: int, timeout_s: float = 120) -> None:
    """Until the server and its worker stop using CPU (start-up imports, the last run done)."""
    deadline = time.monotonic() + timeout_s
    before = tree_cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(IDLE_WINDOW_S)
        after = tree_cpu_seconds(pid)
        if after - before < IDLE_WINDOW_S * IDLE_CPU_FRACTION:
            return
        before = after
    raise AssertionError("the server did not become idle")


def timed_runs(measure: Callable[[httpx.Client], T], **env: str) -> list[T]:
    """`measure(api)` of RUNS runs one after the other on a `motionlab serve` with one
    embedded worker (extra MOTIONLAB_* settings as keywords), each once it is idle again."""
    pauses = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start_serve_process(Path(tmp) / "home", port, workers="1", **env)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as api:
                upload_tiny(api, sessions=4, rows=20)
                measured = []
                for _ in range(RUNS):
                    wait_until_idle(server.pid)
                    time.sleep(pauses.uniform(0, 1))  # anywhere in the worker's poll cycle
                    measured.append(measure(api))
        finally:
            # SIGINT, not SIGTERM: see bench_predict (uvicorn re-raises SIGTERM).
            server.send_signal(signal.SIGINT)
            server.wait()
    return measured
