"""Parse phone apps' exports: an hour of Sensor Logger (accelerometer 100 Hz, gyroscope
50 Hz, 540,000 rows in two CSVs, zipped) and an Edge Impulse JSON file of 100,000 × 6 values.

Prints the parser's time (best of ROUNDS, in process, no HTTP) next to the bare decoding of
the same bytes (unzip + pyarrow.csv.read_csv of both files; json.loads). Targets: the Sensor
Logger parse, resampling included, within 3x of the bare read; the Edge Impulse parse within
2x of json.loads (the alignment and the checks are NumPy passes over whole columns).
"""

from __future__ import annotations

import io
import json
import time
import zipfile

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from service.sessions.edge_impulse import parse_json_or_edge_impulse
from service.sessions.parsing import Payload, UploadOptions
from service.sessions.sensor_logger import parse_sensor_logger
from tests.support.phone_formats import HOUR_SECONDS, noisy_sensor_csv

ROUNDS = 3
EI_ROWS, EI_SENSORS = 100_000, 6


def sensor_logger_zip() -> tuple[bytes, list[bytes]]:
    files = [noisy_sensor_csv(100, 1), noisy_sensor_csv(50, 2)]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in zip(("Accelerometer.csv", "Gyroscope.csv"), files, strict=True):
            archive.writestr(name, data)
    return out.getvalue(), files


def best_s(function) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_sensor_logger_zip():
    body, _ = sensor_logger_zip()
    options = UploadOptions(session_id="hour", activity="walking")

    def bare():
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            for name in ("Accelerometer.csv", "Gyroscope.csv"):
                pacsv.read_csv(pa.BufferReader(archive.read(name)))

    parse_s = best_s(lambda: parse_sensor_logger(Payload(body), options))
    bare_s = best_s(bare)
    [session] = parse_sensor_logger(Payload(body), options)
    print(
        f"\nSensor Logger, {HOUR_SECONDS} s at 100 + 50 Hz ({len(body) / 1e6:.1f} MB zipped): "
        f"parse {parse_s:.3f} s → {session.rows} aligned rows × {len(session.features)}; "
        f"bare unzip + read_csv {bare_s:.3f} s; ratio {parse_s / bare_s:.2f} (target ≤ 3)"
    )


def bench_edge_impulse_json():
    rng = np.random.default_rng(0)
    document = {
        "protected": {"ver": "v1", "alg": "none"},
        "signature": "0" * 64,
        "payload": {
            "device_type": "PHONE",
            "interval_ms": 10,
            "sensors": [{"name": f"s{j}", "units": "m/s2"} for j in range(EI_SENSORS)],
            "values": rng.normal(size=(EI_ROWS, EI_SENSORS)).round(6).tolist(),
        },
    }
    body = json.dumps(document).encode()
    options = UploadOptions(session_id="ei", activity="idle")
    parse_s = best_s(lambda: parse_json_or_edge_impulse(Payload(body), options))
    bare_s = best_s(lambda: json.loads(body))
    print(
        f"\nEdge Impulse JSON, {EI_ROWS} × {EI_SENSORS} ({len(body) / 1e6:.1f} MB): parse "
        f"{parse_s:.3f} s, bare json.loads {bare_s:.3f} s; ratio {parse_s / bare_s:.2f} "
        "(target ≤ 2)"
    )
