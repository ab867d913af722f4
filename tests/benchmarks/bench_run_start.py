"""Run start latency: from `POST /v1/runs` to the run's first `progress` event, worker idle.

A real `motionlab serve` with one embedded worker and the settings a user gets with `make run`,
a tiny dataset (an epoch takes milliseconds), then RUNS runs one after the other. Each is timed
from the POST to the first `event: progress` line of GET /v1/runs/{id}/events (SSE), read to
its end, and the next starts only once the server and its worker are idle again (no CPU used),
after a random pause so that the POST lands anywhere in the worker's poll cycle.
Prints the median, min and max (target: median <= 0.5 s on 2 cores), and the machine's load.
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx

from tests.conftest import free_port, process_tree, start_serve_process
from tests.service.runs.conftest import start_run, upload_tiny

RUNS = 10
T = TypeVar("T")
RUN_BODY = {"prediction_window": 5, "max_iterations": 2, "split": {"strategy": "none"}}
IDLE_WINDOW_S, IDLE_CPU_FRACTION = 0.5, 0.1


def tree_cpu_seconds(pid: int) -> float:
    total = 0.0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue  # exited meanwhile
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


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


def time_to_first_progress(api: httpx.Client) -> float:
    """Seconds from the POST to the first progress event; the stream is then read to its end."""
    started = time.perf_counter()
    run_id = start_run(api, **RUN_BODY)
    first_progress, last_event = None, None
    with api.stream("GET", f"/v1/runs/{run_id}/events") as stream:
        for line in stream.iter_lines():
            if line.startswith("event: "):
                last_event = line.removeprefix("event: ")
                if last_event == "progress" and first_progress is None:
                    first_progress = time.perf_counter() - started
    assert first_progress is not None, f"run {run_id} sent no progress (last: {last_event})"
    status = api.get(f"/v1/runs/{run_id}").json()["status"]
    assert status == "succeeded", f"run {run_id} ended {status}"
    return first_progress


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


def bench_run_start() -> None:
    load_before = os.getloadavg()[0]
    latencies = timed_runs(time_to_first_progress)
    load_after = os.getloadavg()[0]

    print(
        f"\nrun start: POST /v1/runs -> first progress event, idle worker, {RUNS} runs, "
        f"{os.cpu_count()} cores"
    )
    print(
        f"  median {statistics.median(latencies):.3f} s (target <= 0.5), "
        f"min {min(latencies):.3f} s, max {max(latencies):.3f} s"
    )
    print("  each: " + ", ".join(f"{value:.3f}" for value in latencies) + " s")
    # Other work on the machine shows up here: the first epoch runs on `cores / workers` threads.
    print(f"  machine load average (1 min) before / after: {load_before:.2f} / {load_after:.2f}")
