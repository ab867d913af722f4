"""A sign of life within a second on a large run: POST /v1/runs → its first progress event.

A real `motionlab serve` with one embedded worker (the fork server warm: the worker has claimed
and finished a tiny run first) stores 10,000 sessions of 100 rows × 6 features (10 uploads of
1,000: 1,000,000 rows); then RUNS runs over all of them (prediction_window 10, one epoch of the
default recipe), one after the other, each timed from its POST to the first event of its event
stream (SSE) that says how far training is: `batch` (the epoch in progress: batches done of
total, at training start and about every half second) or `progress` (an epoch done).
Target (issue #31): ≤ 1 s (the first event was the first epoch's row: 8.6–9.1 s).
"""

from __future__ import annotations

import signal
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from tests.support.bulk_sessions import UPLOADS, upload_sessions
from tests.support.runs import start_run, upload_tiny, wait_for
from tests.support.servers import free_port, start_serve_process

RUNS = 3
RUN_BODY = {"prediction_window": 10, "max_iterations": 1, "split": {"strategy": "none"}}
BASELINE_S = 8.9


def first_progress(api: httpx.Client, run_id: str, posted: float) -> tuple[str, float]:
    """(the event's name, seconds from the POST) of the run's first batch / progress event."""
    with api.stream("GET", f"/v1/runs/{run_id}/events", timeout=600) as stream:
        name = None
        for line in stream.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: ") and name in ("batch", "progress"):
                return name, time.perf_counter() - posted
    raise AssertionError(f"run {run_id} ended without a progress event")


def bench_first_progress() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start_serve_process(Path(tmp) / "home", port, workers="1")
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as api:
                upload_tiny(api)  # a tiny run first: the worker's fork server is warm after it
                warm = start_run(
                    api, prediction_window=5, max_iterations=1, data={"activities": ["a", "b"]}
                )
                wait_for(api, warm, {"succeeded"}, timeout_s=600)
                upload_sessions(api)
                body = {**RUN_BODY, "data": {"activities": ["walk", "run", "sit", "wave"]}}
                seen = []
                for _ in range(RUNS):
                    posted = time.perf_counter()
                    run_id = start_run(api, **body)
                    seen.append(first_progress(api, run_id, posted))
                    api.post(f"/v1/runs/{run_id}/cancel")
                    wait_for(api, run_id, {"canceled", "succeeded"}, timeout_s=600)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait()
    seconds = [s for _, s in seen]
    print(f"\nfirst progress: a run over {UPLOADS * 1000:,} sessions x 100 rows (1,000,000 rows)")
    print(
        f"  POST -> first progress event: median {statistics.median(seconds):.2f} s "
        f"(min {min(seconds):.2f}, max {max(seconds):.2f}; target <= 1 s, baseline "
        f"{BASELINE_S} s), events {[name for name, _ in seen]}"
    )
