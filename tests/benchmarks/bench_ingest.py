"""Upload 1,000,000 rows × 6 features in 1,000 sessions as one stacked CSV, over HTTP.

Prints end-to-end rows/s and the server's peak memory next to a bare pyarrow.csv.read_csv of
the same bytes held in memory (best of 3 warm parses). The upload's figure is the median of
ROUNDS distinct files (each has its own random values, so content addressing cannot skip a
single session). Targets (issue #12): upload >= 0.3x the bare parse; peak memory (the server's
growth while handling the uploads) under 4x the file size. The client is the standard
library's http.client (httpx alone adds ~0.1 s to send 75 MB), and the disk is synced first so
the benchmark's own file writes do not slow the server's.
"""

from __future__ import annotations

import http.client
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from tests.support.processes import cpu_seconds, memory_mb
from tests.support.servers import free_port, start_serve_process

SESSIONS, ROWS_PER_SESSION, FEATURES = 1000, 1000, 6
ROUNDS = 5
PARSES = 3


def make_csv(path: Path, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    rows = SESSIONS * ROWS_PER_SESSION
    session = np.repeat(np.arange(SESSIONS), ROWS_PER_SESSION)
    columns = {
        "sessionId": pa.array([f"u{seed}-{i:04d}" for i in range(SESSIONS)]).take(session),
        "activity": pa.array(["walk", "run", "sit", "wave"]).take(session % 4),
        "timestamp": np.tile(np.arange(ROWS_PER_SESSION) * 0.02, SESSIONS),
    }
    values = rng.normal(size=(rows, FEATURES)).round(6)
    columns.update({f"f{j}": values[:, j] for j in range(FEATURES)})
    pacsv.write_csv(pa.table(columns), path)


def post(port: int, body: bytes) -> float:
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.request("POST", "/v1/sessions", body=body, headers={"Content-Type": "text/csv"})
    response = connection.getresponse()
    answer = response.read()
    elapsed = time.perf_counter() - start
    connection.close()
    assert response.status == 201, answer[:500]
    assert answer.count(b'"created":true') == SESSIONS
    return elapsed


def bench_ingest() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp) / f"stacked-{seed}.csv" for seed in range(ROUNDS)]
        for seed, path in enumerate(paths):
            make_csv(path, seed)
        size_mb = paths[0].stat().st_size / 2**20
        rows = SESSIONS * ROWS_PER_SESSION

        bare_s = []  # per file: the best of PARSES warm parses of its bytes
        for path in paths:
            data = path.read_bytes()
            parses = []
            for _ in range(PARSES):
                start = time.perf_counter()
                pacsv.read_csv(io.BytesIO(data))
                parses.append(time.perf_counter() - start)
            bare_s.append(min(parses))
            del data

        home, port = Path(tmp) / "home", free_port()
        server = start_serve_process(home, port, workers="0")
        try:
            baseline_mb = memory_mb(server.pid, "VmRSS")
            upload_s, cpu_s = [], []
            for path in paths:
                body = path.read_bytes()
                os.sync()
                cpu_before = cpu_seconds(server.pid)
                upload_s.append(post(port, body))
                cpu_s.append(cpu_seconds(server.pid) - cpu_before)
                del body
            growth_mb = memory_mb(server.pid, "VmHWM") - baseline_mb
        finally:
            server.terminate()
            server.wait()

    bare, upload = statistics.median(bare_s), statistics.median(upload_s)
    ratio = statistics.median(b / u for b, u in zip(bare_s, upload_s, strict=True))
    print(
        f"\ningest: file {size_mb:.1f} MiB, {rows:,} rows x {FEATURES} features, "
        f"{SESSIONS} sessions; medians over {ROUNDS} files (parse: best of {PARSES} per file)"
    )
    print(f"  bare pyarrow.csv.read_csv: {bare:.3f} s = {rows / bare:,.0f} rows/s")
    print(
        f"  HTTP upload end to end   : {upload:.3f} s = {rows / upload:,.0f} rows/s "
        f"({ratio:.2f}x bare parse, the median of the per-file ratios; target >= 0.3x)"
    )
    print(f"    all rounds: bare {_seconds(bare_s)}; upload {_seconds(upload_s)}")
    print(
        f"  server CPU time per upload: {_seconds(cpu_s)} on {os.cpu_count()} CPUs "
        f"(budget at 0.3x: {bare / 0.3:.3f} s of wall time)"
    )
    print(
        f"  server peak memory growth: {growth_mb:.0f} MiB = {growth_mb / size_mb:.2f}x file size "
        "(target < 4x)"
    )


def _seconds(values: list[float]) -> str:
    return ", ".join(f"{value:.3f}" for value in values) + " s"
