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
import statistics
import time

import httpx

from tests.support.bench_servers import RUN_BODY, RUNS, timed_runs
from tests.support.runs import start_run


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
