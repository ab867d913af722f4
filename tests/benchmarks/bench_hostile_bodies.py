"""Issue 26's bounds, measured on a live `motionlab serve` (workers=0), a fresh one per body.

bench_peak_memory_per_format: the server's peak memory growth for the largest body each
upload format allows, plain and gzip, as a multiple of its limit: the API process's (VmHWM -
VmRSS at start) plus, for JSON and CBOR, the decoder processes' (VmHWM - their VmHWM after a
512 KiB warm-up body started them). The CSV limit is MOTIONLAB_BENCH_UPLOAD_MB (default
64 MiB, not the 512 MiB default: the machine is shared; the multiples do not depend on it);
JSON, Edge Impulse JSON and CBOR have their own 16 MiB limit.

MOTIONLAB_BENCH_HOSTILE_CASES (comma-separated, case-insensitive) runs only the cases whose
name contains one of them, in both benches: e.g. `JSON,CBOR` for the JSON and Edge Impulse
rows alone.

bench_event_loop_stalls: the worst /healthz latency (polled every 20 ms by another client)
while each hostile body of the issue is answered, with the answer and the server's peak
memory growth. Before the fixes: 80,000 empty gzip members 5.6 s, an 8 MB gzip bomb 2.7 s and
+1 GB, a 25 MB gzip upload 0.9 s, two Sensor Logger rows 2e7 s apart at 1 Hz 10.8 s and
+770 MB.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import cbor2
import httpx

from service.offload import OFFLOAD_MIN_BYTES
from tests.support.hostile_bodies import (
    FILL,
    edge_impulse_body,
    gzip_bomb,
    gzip_members,
    json_body,
    multipart,
    sensor_logger_far_apart,
    sensor_rows_csv,
)
from tests.support.phone_formats import HOUR_SECONDS, noisy_sensor_csv
from tests.support.processes import memory_mb, process_tree
from tests.support.servers import free_port, start_serve_process

UPLOAD_LIMIT = int(os.environ.get("MOTIONLAB_BENCH_UPLOAD_MB", "64")) << 20
JSON_LIMIT = 16 << 20
JSON = "application/json"
POLL_INTERVAL_S = 0.02
SELECTED = [
    word.strip().lower()
    for word in os.environ.get("MOTIONLAB_BENCH_HOSTILE_CASES", "").split(",")
    if word.strip()
]


def selected(name: str) -> bool:
    """Whether MOTIONLAB_BENCH_HOSTILE_CASES (empty: every case) selects the case `name`."""
    return not SELECTED or any(word in name.lower() for word in SELECTED)


def csv_body(limit: int) -> bytes:
    """A stacked CSV of sensor rows just under `limit` bytes."""
    sample = sensor_rows_csv(seed=0, rows=10_000)
    rows = int(FILL * limit / (len(sample) / 10_000))
    return sensor_rows_csv(seed=1, rows=rows)


def sensor_logger_body(limit: int) -> bytes:
    """Accelerometer and gyroscope at one rate, unzipped just under `limit` in all."""
    per_row = len(noisy_sensor_csv(10_000 / HOUR_SECONDS, 0)) / 10_000
    rate_hz = FILL * limit / 2 / per_row / HOUR_SECONDS  # an hour of rows
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("Accelerometer.csv", noisy_sensor_csv(rate_hz, 1))
        archive.writestr("Gyroscope.csv", noisy_sensor_csv(rate_hz, 2))
    return out.getvalue()


def post(url: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, float]:
    started = time.perf_counter()
    with httpx.Client(base_url=url, timeout=900) as client:
        status = client.post(path, content=body, headers=headers).status_code
    return status, time.perf_counter() - started


class Served:
    """A fresh `motionlab serve` on its own home, for one measurement."""

    def __init__(self, **settings: str):
        self.tmp = tempfile.TemporaryDirectory()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = start_serve_process(Path(self.tmp.name), self.port, workers="0", **settings)
        self.baseline_mb = memory_mb(self.process.pid, "VmRSS")
        self.decoders_baseline_mb = 0.0

    def api_growth_mb(self) -> float:
        return memory_mb(self.process.pid, "VmHWM") - self.baseline_mb

    def start_decoders(self) -> None:
        """Start the decoder processes with a small body decoded apart, and note their peak:
        their imports (~130 MiB each) are paid once per process, not per request."""
        body = edge_impulse_body(2 * OFFLOAD_MIN_BYTES, lambda d: json.dumps(d).encode())
        path = "/v1/sessions?session_id=warm-up&activity=idle"
        status, _ = post(self.url, path, body, {"Content-Type": JSON})
        assert status == 201, status
        self.decoders_baseline_mb = self.decoders_peak_mb()

    def decoders_peak_mb(self) -> float:
        """The peaks of the processes the API started (JSON / CBOR decoders: service.offload),
        less their peak before the request when start_decoders ran."""
        pids = process_tree(self.process.pid)[1:]
        return sum(memory_mb(pid, "VmHWM") for pid in pids) - self.decoders_baseline_mb

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        self.tmp.cleanup()


def bench_peak_memory_per_format() -> None:
    # Bodies are made only for the selected cases: the CSV ones take a while.
    cases = [
        ("CSV", UPLOAD_LIMIT, "text/csv", lambda: csv_body(UPLOAD_LIMIT), "/v1/sessions"),
        ("JSON", JSON_LIMIT, JSON, lambda: json_body(JSON_LIMIT), "/v1/sessions"),
        (
            "Edge Impulse JSON",
            JSON_LIMIT,
            JSON,
            lambda: edge_impulse_body(JSON_LIMIT, lambda d: json.dumps(d).encode()),
            "/v1/sessions?session_id=ei&activity=idle",
        ),
        (
            "Edge Impulse CBOR",
            JSON_LIMIT,
            "application/cbor",
            lambda: edge_impulse_body(JSON_LIMIT, cbor2.dumps),
            "/v1/sessions?session_id=eic&activity=idle",
        ),
        (
            "Sensor Logger zip",
            UPLOAD_LIMIT,
            "application/zip",
            lambda: sensor_logger_body(UPLOAD_LIMIT),
            "/v1/sessions?session_id=sl&activity=walk",
        ),
    ]
    print(
        f"\npeak server memory growth, the largest body of each format (CSV limit "
        f"{UPLOAD_LIMIT >> 20} MiB, JSON {JSON_LIMIT >> 20} MiB; fresh server each):"
    )
    print(
        f"  {'format':<20} {'coding':<6} {'sent':>9} {'decoded':>9} {'status':>6} {'s':>6} "
        f"{'API +':>7} {'decoder':>8} {'x limit':>8}"
    )
    for name, limit, content_type, make_body, path in cases:
        if not selected(name):
            continue
        body = make_body()
        for coding in ("plain", "gzip"):
            sent = body if coding == "plain" else gzip.compress(body, 1)
            headers = {"Content-Type": content_type}
            if coding == "gzip":
                headers["Content-Encoding"] = "gzip"
            measure(name, coding, limit, sent, len(body), path, headers)
    if selected("multipart, 4 CSVs"):
        rows = csv_body(UPLOAD_LIMIT).count(b"\n") // 4
        files = [sensor_rows_csv(seed=10 + i, rows=rows) for i in range(4)]
        for coding in ("plain", "gzip"):
            parts = [
                multipart_part(f"part{i}.csv" + (".gz" if coding == "gzip" else ""), data, coding)
                for i, data in enumerate(files)
            ]
            body = b"".join(parts) + b"--bench--\r\n"
            headers = {"Content-Type": "multipart/form-data; boundary=bench"}
            decoded = sum(map(len, files))
            measure(
                "multipart, 4 CSVs", coding, UPLOAD_LIMIT, body, decoded, "/v1/sessions", headers
            )


def multipart_part(filename: str, data: bytes, coding: str) -> bytes:
    payload = gzip.compress(data, 1) if coding == "gzip" else data
    return (
        (
            f'--bench\r\nContent-Disposition: form-data; name="files"; filename="{filename}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + payload
        + b"\r\n"
    )


def measure(name, coding, limit, body, decoded, path, headers) -> None:
    served = Served(max_upload_bytes=str(UPLOAD_LIMIT))
    try:
        if limit == JSON_LIMIT:  # decoded apart: the decoder's own growth, not its imports
            served.start_decoders()
        status, seconds = post(served.url, path, body, headers)
        api, decoders = served.api_growth_mb(), served.decoders_peak_mb()
    finally:
        served.close()
    print(
        f"  {name:<20} {coding:<6} {len(body) / 2**20:>7.1f} M {decoded / 2**20:>7.1f} M "
        f"{status:>6} {seconds:>6.1f} {api:>5.0f} M {decoders:>6.0f} M "
        f"{(api + decoders) / (limit / 2**20):>8.2f}"
    )


def bench_event_loop_stalls() -> None:
    zip_path = "/v1/sessions?session_id=far&activity=walk&sample_rate_hz=1"
    gz = {"Content-Type": "text/csv", "Content-Encoding": "gzip"}
    cases = [
        *[
            (f"gzip, {n:,} empty members", "/v1/sessions", lambda n=n: gzip_members(n), gz)
            for n in (5_000, 20_000, 40_000, 80_000)
        ],
        (
            "multipart .gz of 80,000 members",
            "/v1/sessions",
            lambda: multipart("rec.csv.gz", gzip_members(80_000), boundary="bench")[0],
            {"Content-Type": "multipart/form-data; boundary=bench"},
        ),
        ("gzip bomb, 8 MB (size field forged)", "/v1/sessions", lambda: gzip_bomb(8 << 20), gz),
        (
            "gzip upload, 870,000 CSV rows (25 MB)",
            "/v1/sessions",
            lambda: gzip.compress(sensor_rows_csv(seed=26, rows=870_000), 1),
            gz,
        ),
        (
            "JSON upload, 15 MB",
            "/v1/sessions",
            lambda: json_body(JSON_LIMIT),
            {"Content-Type": JSON},
        ),
        (
            "Edge Impulse CBOR, 15 MB",
            "/v1/sessions?session_id=c&activity=idle",
            lambda: edge_impulse_body(JSON_LIMIT, cbor2.dumps),
            {"Content-Type": "application/cbor"},
        ),
        (
            "sensor logger, 2 rows 2e7 s apart, 1 Hz",
            zip_path,
            lambda: sensor_logger_far_apart(2e7),
            {"Content-Type": "application/zip"},
        ),
    ]
    print("\nworst /healthz latency while each hostile body is answered (default limits):")
    print(f"  {'body':<42} {'status':>6} {'s':>6} {'worst /healthz':>15} {'peak RSS +':>10}")
    for name, path, make_body, headers in cases:
        if not selected(name):
            continue
        body = make_body()
        served = Served()
        polls: list[float] = []
        stop = threading.Event()
        poller = threading.Thread(target=poll_health, args=(served.url, stop, polls), daemon=True)
        try:
            poller.start()
            time.sleep(0.2)
            status, seconds = post(served.url, path, body, headers)
            time.sleep(0.1)
            stop.set()
            poller.join(120)
            growth = served.api_growth_mb() + served.decoders_peak_mb()
        finally:
            served.close()
        print(f"  {name:<42} {status:>6} {seconds:>6.2f} {max(polls):>13.3f} s {growth:>8.0f} M")


def poll_health(url: str, stop: threading.Event, polls: list[float]) -> None:
    """GET /healthz every POLL_INTERVAL_S until `stop`; each latency into `polls`."""
    with httpx.Client(base_url=url, timeout=120) as client:
        while not stop.is_set():
            started = time.perf_counter()
            client.get("/healthz")
            polls.append(time.perf_counter() - started)
            time.sleep(POLL_INTERVAL_S)
