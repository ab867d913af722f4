"""Fixtures in the formats phone apps write, built as their public documentation describes.

Edge Impulse ("Data acquisition format"): the example document of the reference, signed the
way its examples sign (encode with 64 zeros as the signature, HMAC-SHA256 of those bytes with
the project's HMAC key, put the hex digest in, encode again), in JSON or CBOR.

Sensor Logger (the app's "awesome-sensor-logger" repository): a zip with one CSV per sensor,
`time` (epoch ns), `seconds_elapsed`, `z`, `y`, `x` columns, each sensor at its own rate,
plus `metadata.csv` and files of sensors the service does not use.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import io
import json
import zipfile
from typing import Any

import cbor2
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

HMAC_KEY = "a21230b301b87cead81ed89c3a4948c7"
ZERO_SIGNATURE = "0" * 64

# The example of Edge Impulse's data acquisition format reference (values as documented).
EDGE_IMPULSE_EXAMPLE: dict[str, Any] = {
    "protected": {"ver": "v1", "alg": "HS256", "iat": 1564128599},
    "signature": ZERO_SIGNATURE,
    "payload": {
        "device_name": "ac:87:a3:0a:2d:1b",
        "device_type": "DISCO-L475VG-IOT01A",
        "interval_ms": 10,
        "sensors": [
            {"name": "accX", "units": "m/s2"},
            {"name": "accY", "units": "m/s2"},
            {"name": "accZ", "units": "m/s2"},
        ],
        "values": [
            [-9.81, 0.03, 1.21],
            [-9.83, 0.04, 1.27],
            [-9.12, 0.03, 1.23],
            [-9.14, 0.01, 1.25],
        ],
    },
}


def edge_impulse_document(*, signed: bool) -> dict[str, Any]:
    document = copy.deepcopy(EDGE_IMPULSE_EXAMPLE)
    if not signed:
        document["protected"] = {"ver": "v1", "alg": "none"}
    return document


def encode(document: dict[str, Any], *, cbor: bool) -> bytes:
    return cbor2.dumps(document) if cbor else json.dumps(document).encode()


def edge_impulse_file(*, signed: bool, cbor: bool, key: str = HMAC_KEY) -> bytes:
    """The example as a device writes it: signed with `key` (HS256) or unsigned."""
    document = edge_impulse_document(signed=signed)
    if signed:
        unsigned = encode(document, cbor=cbor)
        document["signature"] = hmac.new(key.encode(), unsigned, hashlib.sha256).hexdigest()
    return encode(document, cbor=cbor)


def tampered(data: bytes) -> bytes:
    """The file with one sample value changed after signing (same length, same encoding)."""
    changed = data.replace(b"-9.12", b"-9.13") if b"-9.12" in data else None
    if changed is None:  # CBOR: the float64 -9.12 → -9.13
        changed = data.replace(cbor2.dumps(-9.12), cbor2.dumps(-9.13))
    assert changed != data
    return changed


def sensor_csv(time_ns: np.ndarray, start_ns: int, x, y, z) -> str:
    elapsed = (time_ns - start_ns) / 1e9
    rows = np.column_stack([elapsed, z, y, x]).tolist()  # Python floats: repr round-trips
    lines = ["time,seconds_elapsed,z,y,x"]
    lines += [
        f"{t},{e!r},{zz!r},{yy!r},{xx!r}"
        for t, (e, zz, yy, xx) in zip(time_ns.tolist(), rows, strict=True)
    ]
    return "\n".join(lines) + "\n"


# A recording started at this instant (UTC epoch, ns).
RECORDING_START_NS = 1_698_501_144_000_000_000


def accelerometer_signal(t_s):
    """Linear in time, so linear interpolation reproduces it exactly at any instant."""
    return 0.5 * t_s + 1.0, -2.0 * t_s, 9.81 + 0.0 * t_s


def gyroscope_signal(t_s):
    return 0.1 * t_s, 0.2 * t_s - 0.3, -0.05 * t_s + 0.7


def sensor_logger_zip(
    *, accel_hz: float = 100.0, gyro_hz: float = 50.0, seconds: float = 4.0, seed: int = 0
) -> bytes:
    """A Sensor Logger export: accelerometer and gyroscope at unequal, jittered rates with
    different first and last samples, metadata, and a sensor the service ignores."""
    rng = np.random.default_rng(seed)

    def times(rate_hz: float, offset_s: float) -> np.ndarray:
        count = int(seconds * rate_hz)
        jitter = rng.uniform(-0.2, 0.2, count) / rate_hz  # never exactly regular
        t = offset_s + np.arange(count) / rate_hz + jitter
        return RECORDING_START_NS + np.round(t * 1e9).astype(np.int64)

    accel_ns, gyro_ns = times(accel_hz, 0.013), times(gyro_hz, 0.061)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, time_ns, signal in (
            ("Accelerometer", accel_ns, accelerometer_signal),
            ("Gyroscope", gyro_ns, gyroscope_signal),
        ):
            t_s = (time_ns - RECORDING_START_NS) / 1e9
            archive.writestr(f"{name}.csv", sensor_csv(time_ns, RECORDING_START_NS, *signal(t_s)))
        archive.writestr(
            "metadata.csv",
            "version,device name,recording time,platform\n3,Ana's iPhone,2023-10-28_13-52-24,ios\n",
        )
        archive.writestr(
            "Location.csv",
            "time,seconds_elapsed,latitude,longitude\n1698501145514000000,1.33,0.0,0.0\n",
        )
    return out.getvalue()


HOUR_SECONDS = 3600


def noisy_sensor_csv(rate_hz: float, seed: int) -> bytes:
    """An hour of one Sensor Logger file at `rate_hz`, its times jittered by ±20 %."""
    rng = np.random.default_rng(seed)
    count = int(HOUR_SECONDS * rate_hz)
    t_s = np.arange(count) / rate_hz + rng.uniform(-0.2, 0.2, count) / rate_hz
    table = pa.table(
        {
            "time": RECORDING_START_NS + np.round(t_s * 1e9).astype(np.int64),
            "seconds_elapsed": t_s,
            **{axis: rng.normal(size=count) for axis in ("z", "y", "x")},
        }
    )
    out = io.BytesIO()
    pacsv.write_csv(table, out)
    return out.getvalue()
