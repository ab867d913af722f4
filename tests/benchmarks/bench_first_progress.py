"""A sign of life within a second on a large run: POST /v1/runs → its first progress event.

A real `motionlab serve` with one embedded worker (the fork server warm: the worker has claimed
and finished a tiny run first) stores 10,000 sessions of 100 rows × 6 features (10 uploads of
1,000: 1,000,000 rows); then RUNS runs over all of them (prediction_window 10, one epoch of the
default recipe), one after the other, each timed from its POST to the first event of its event
stream (SSE) that says how far the run is: `preparing` (its data loads: sessions loaded of
total), `batch` (the epoch in progress: batches done of total, at training start and about
every half second) or `progress` (an epoch done); the first training event is timed too.
Target (issue #31): ≤ 1 s (the first event was the first epoch's row: 8.6–9.1 s).
"""

from __future__ import annotations

import signal
import statistics
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import httpx

from tests.support.bulk_sessions import UPLOADS, upload_sessions
from tests.support.runs import start_run, upload_tiny, wait_for
from tests.support.servers import free_port, start_serve_process

RUNS = 3
RUN_BODY = {"prediction_window": 10, "max_iterations": 1, "split": {"strategy": "none"}}
BASELINE_S = 8.9


class Timeline(NamedTuple):
    """Seconds from a run's POST: its answer, its claim (status running), its first progress
    event of any kind (`preparing`: its data loads) and its first training event."""

    answered: float
    running: float
    first: float
    training: float


def timeline(api: httpx.Client, body: dict) -> Timeline:
    posted = time.perf_counter()
    run_id = start_run(api, **body)
    answered = time.perf_counter() - posted
    seen: dict[str, float] = {}
    with api.stream("GET", f"/v1/runs/{run_id}/events", timeout=600) as stream:
        name = None
        for line in stream.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                now = time.perf_counter() - posted
                if name == "status" and '"running"' in line:
                    seen.setdefault("running", now)
                elif name in ("preparing", "batch", "progress"):
                    seen.setdefault("first", now)
                    if name != "preparing":
                        api.post(f"/v1/runs/{run_id}/cancel")
                        wait_for(api, run_id, {"canceled", "succeeded"}, timeout_s=600)
                        return Timeline(answered, seen.get("running", now), seen["first"], now)
    raise AssertionError(f"run {run_id} ended without a progress event")


def figures(name: str, values: list[float]) -> str:
    return (
        f"  {name}: median {statistics.median(values):.2f} s "
        f"(min {min(values):.2f}, max {max(values):.2f})"
    )


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
                seen = [timeline(api, body) for _ in range(RUNS)]
        finally:
            server.send_signal(signal.SIGINT)
            server.wait()
    print(f"\nfirst progress: a run over {UPLOADS * 1000:,} sessions x 100 rows (1,000,000 rows)")
    print(figures("POST answered", [t.answered for t in seen]))
    print(figures("POST -> claimed (status running)", [t.running for t in seen]))
    print(
        figures("POST -> first progress event", [t.first for t in seen])
        + f"; target <= 1 s, baseline {BASELINE_S} s"
    )
    print(figures("POST -> first training event (batch 0)", [t.training for t in seen]))
