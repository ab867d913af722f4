"""Upload 1,000,000 rows × 6 features in 1,000 sessions as one stacked CSV, over HTTP.

Prints end-to-end rows/s and the server's peak memory next to a bare pyarrow.csv.read_csv of
the same file. Targets: upload at least half the bare parse speed; peak memory (server's
growth while handling the upload) under 5x the file size.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from tests.conftest import free_port, start_serve_process

SESSIONS, ROWS_PER_SESSION, FEATURES = 1000, 1000, 6


def make_csv(path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = SESSIONS * ROWS_PER_SESSION
    session = np.repeat(np.arange(SESSIONS), ROWS_PER_SESSION)
    columns = {
        "sessionId": pa.array([f"s{i:04d}" for i in range(SESSIONS)]).take(session),
        "activity": pa.array(["walk", "run", "sit", "wave"]).take(session % 4),
        "timestamp": np.tile(np.arange(ROWS_PER_SESSION) * 0.02, SESSIONS),
    }
    values = rng.normal(size=(rows, FEATURES)).round(6)
    columns.update({f"f{j}": values[:, j] for j in range(FEATURES)})
    pacsv.write_csv(pa.table(columns), path)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bench_ingest() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stacked.csv"
        make_csv(path)
        size_mb = path.stat().st_size / 2**20
        rows = SESSIONS * ROWS_PER_SESSION

        start = time.perf_counter()
        pacsv.read_csv(path)
        bare_s = time.perf_counter() - start

        home, port = Path(tmp) / "home", free_port()
        server = start_serve_process(home, port, workers="0")
        try:
            url = f"http://127.0.0.1:{port}"
            baseline_mb = rss_mb(server.pid)
            body = path.read_bytes()
            start = time.perf_counter()
            response = httpx.post(
                f"{url}/v1/sessions",
                content=body,
                headers={"Content-Type": "text/csv"},
                timeout=600,
            )
            upload_s = time.perf_counter() - start
            assert response.status_code == 201, response.text[:500]
            assert len(response.json()["sessions"]) == SESSIONS
            growth_mb = peak_rss_mb(server.pid) - baseline_mb
        finally:
            server.terminate()
            server.wait()

    print(
        f"\ningest: file {size_mb:.1f} MiB, {rows:,} rows x {FEATURES} features, "
        f"{SESSIONS} sessions"
    )
    print(f"  bare pyarrow.csv.read_csv: {bare_s:.3f} s = {rows / bare_s:,.0f} rows/s")
    print(
        f"  HTTP upload end to end   : {upload_s:.3f} s = {rows / upload_s:,.0f} rows/s "
        f"({(rows / upload_s) / (rows / bare_s):.2f}x bare parse; target >= 0.5x)"
    )
    print(
        f"  server peak memory growth: {growth_mb:.0f} MiB = {growth_mb / size_mb:.2f}x file size "
        "(target < 5x)"
    )
