"""Prediction latency and throughput over HTTP against a real `motionlab serve`.

Trains a small BasicMotions model (prediction_window 10, 2 iterations) with the server's own
worker, then:
* 8 concurrent clients, each on a keep-alive connection, POST one window (10 rows, JSON) per
  request for 10 s: requests/s, p50 and p99 latency (targets: p50 < 10 ms, p99 < 50 ms);
* one client posting one 10 s recording (500 rows at 50 Hz, JSON) per request for 10 s:
  p50 and p99 latency (targets, issue #20: p50 ≤ 8 ms, p99 ≤ 20 ms);
* one request with 100,000 rows (CSV, per_row classes): rows/s (target: under 1 s).
bench_predict_turicreate trains a Turi Create run the same way and times one client posting
one window per request (issue #31: p50 ≤ 10 ms; 864 ms when Turi Create's runner predicted).
The clients share the machine's cores with the server, as a load test on one box does.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time

import httpx
import numpy as np

from tests.support.bench_servers import PREDICTION_WINDOW, train, trained_server

FEATURES = ["accelX", "accelY", "accelZ", "rotX", "rotY", "rotZ"]
CLIENTS, DURATION_S, BIG_ROWS = 8, 10.0, 100_000
RECORDING_ROWS = 500  # 10 s at 50 Hz
ROUNDS = 3
TURICREATE_BASELINE_MS = 864  # issue #31: a window through Turi Create's own predict (runner)


def window_body(rng: np.random.Generator, rows: int = PREDICTION_WINDOW) -> bytes:
    samples = rng.normal(size=(rows, len(FEATURES))).round(5).tolist()
    return json.dumps({"columns": FEATURES, "samples": samples}).encode()


def client_loop(port: int, path: str, body: bytes, stop_at: float, latencies: list) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Content-Type": "application/json"}
    while time.perf_counter() < stop_at:
        started = time.perf_counter()
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
        latencies.append(time.perf_counter() - started)
    connection.close()


def concurrent_single_windows(port: int, run_id: str) -> tuple[float, np.ndarray]:
    path = f"/v1/runs/{run_id}/predict"
    bodies = [window_body(np.random.default_rng(i)) for i in range(CLIENTS)]
    client_loop(port, path, bodies[0], time.perf_counter() + 1.0, [])  # warm up
    per_client: list[list[float]] = [[] for _ in range(CLIENTS)]
    stop_at = time.perf_counter() + DURATION_S
    threads = [
        threading.Thread(target=client_loop, args=(port, path, body, stop_at, out))
        for body, out in zip(bodies, per_client, strict=True)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies = np.concatenate([np.asarray(out) for out in per_client])
    return len(latencies) / elapsed, latencies


def one_client_recordings(port: int, run_id: str) -> np.ndarray:
    path = f"/v1/runs/{run_id}/predict"
    body = window_body(np.random.default_rng(0), RECORDING_ROWS)
    client_loop(port, path, body, time.perf_counter() + 1.0, [])  # warm up
    latencies: list[float] = []
    client_loop(port, path, body, time.perf_counter() + DURATION_S, latencies)
    return np.asarray(latencies)


def big_request(api: httpx.Client, run_id: str) -> tuple[float, int]:
    rng = np.random.default_rng(0)
    values = rng.normal(size=(BIG_ROWS, len(FEATURES))).round(5)
    sessions = np.repeat(np.arange(BIG_ROWS // 1000), 1000)  # 100 sessions of 1,000 rows
    lines = [f"sessionId,{','.join(FEATURES)}"]
    lines += [
        f"s{s}," + ",".join(map(repr, row))
        for s, row in zip(sessions, values.tolist(), strict=True)
    ]
    body = ("\n".join(lines) + "\n").encode()
    started = time.perf_counter()
    response = api.post(
        f"/v1/runs/{run_id}/predict", content=body, headers={"Content-Type": "text/csv"}
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text[:300]
    assert response.json()["num_rows"] == BIG_ROWS
    return elapsed, len(body)


def bench_predict() -> None:
    with (
        trained_server() as (port, run_id),
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as api,
    ):
        recording_latencies = one_client_recordings(port, run_id)
        rate, latencies = concurrent_single_windows(port, run_id)
        big_s, big_bytes = min(big_request(api, run_id) for _ in range(3))

    p50, p99 = np.percentile(latencies, [50, 99]) * 1000
    print(
        f"\npredict: model prediction_window={PREDICTION_WINDOW}, {len(FEATURES)} features, "
        f"{os.cpu_count()} cores"
    )
    r50, r99 = np.percentile(recording_latencies, [50, 99]) * 1000
    print(
        f"  1 client x one 10 s recording ({RECORDING_ROWS} rows, JSON): p50 {r50:.2f} ms "
        f"(target <= 8), p99 {r99:.2f} ms (target <= 20), {len(recording_latencies):,} requests"
    )
    print(
        f"  {CLIENTS} clients x single-window JSON for {DURATION_S:.0f} s: {len(latencies):,} "
        f"requests, {rate:,.0f} requests/s"
    )
    print(
        f"  latency p50 {p50:.2f} ms (target < 10), p99 {p99:.2f} ms (target < 50), "
        f"max {latencies.max() * 1000:.1f} ms"
    )
    print(
        f"  one request of {BIG_ROWS:,} rows ({big_bytes / 2**20:.1f} MiB CSV, best of 3): "
        f"{big_s:.3f} s = {BIG_ROWS / big_s:,.0f} rows/s (target < 1 s)"
    )


def bench_predict_turicreate() -> None:
    """A Turi Create run and a torch run on one server, timed in turns (ROUNDS each): the
    torch figure is the yardstick on a shared machine."""
    latencies: dict[str, list[float]] = {"turicreate": [], "torch": []}
    with trained_server("turicreate") as (port, turicreate_run):
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as api:
            runs = {"turicreate": turicreate_run, "torch": train(api)}
        body = window_body(np.random.default_rng(0))
        for run_id in runs.values():  # warm up: each model loaded
            client_loop(port, f"/v1/runs/{run_id}/predict", body, time.perf_counter() + 1.0, [])
        for _ in range(ROUNDS):
            for engine, run_id in runs.items():
                stop_at = time.perf_counter() + DURATION_S / 2 / ROUNDS
                client_loop(port, f"/v1/runs/{run_id}/predict", body, stop_at, latencies[engine])
    print("\npredict, 1 client x single-window JSON, the two engines' runs in turns:")
    for engine, seconds in latencies.items():
        p50, p99 = np.percentile(seconds, [50, 99]) * 1000
        print(f"  {engine:10}: {len(seconds):,} requests, p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    print(
        f"  (Turi Create target p50 <= 10 ms on a quiet machine, baseline {TURICREATE_BASELINE_MS})"
    )
