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
    files = {
        name: (time_ns, np.column_stack(signal((time_ns - RECORDING_START_NS) / 1e9)))
        for name, time_ns, signal in (
            ("Accelerometer", accel_ns, accelerometer_signal),
            ("Gyroscope", gyro_ns, gyroscope_signal),
        )
    }
    return sensor_logger_export(files)


def sensor_logger_export(files: dict[str, tuple[np.ndarray, np.ndarray]]) -> bytes:
    """A Sensor Logger zip of sensor files {name: (time in epoch ns (n,), x y z (n, 3))}, with
    metadata and a sensor the service ignores."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (time_ns, xyz) in files.items():
            archive.writestr(f"{name}.csv", sensor_csv(time_ns, RECORDING_START_NS, *xyz.T))
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


G = 9.80665  # m/s² per g


def phone_motion(activity: str, t_s: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """A phone's motion at times t (s), in its own frame and Sensor Logger's units: user
    acceleration and gravity (m/s²), rotation rate (rad/s), each (n, 3). `wave`: swung to and
    fro about its z axis; `still`: at rest, tilted."""
    rng = np.random.default_rng(seed)
    phase, tilt = rng.uniform(0, 2 * np.pi), rng.uniform(0.1, 0.4)
    zero = np.zeros_like(t_s)
    if activity == "wave":
        swing = 0.8 * np.sin(2 * np.pi * 1.5 * t_s + phase)  # the angle about z (rad)
        spin = 0.8 * 2 * np.pi * 1.5 * np.cos(2 * np.pi * 1.5 * t_s + phase)  # its rate
        gravity = G * np.column_stack(
            [np.sin(tilt) * np.cos(swing), np.sin(tilt) * np.sin(swing), np.cos(tilt) + zero]
        )
        user = np.column_stack([3 * np.sin(2 * np.pi * 3 * t_s + phase), zero, 0.5 * spin])
        rotation = np.column_stack([0.3 * np.sin(2 * np.pi * t_s), zero, spin])
    else:
        gravity = G * np.column_stack([np.sin(tilt) + zero, zero, np.cos(tilt) + zero])
        user = np.column_stack([0.05 * np.sin(2 * np.pi * 0.7 * t_s + phase), zero, zero])
        rotation = np.column_stack([0.01 * np.sin(2 * np.pi * 0.5 * t_s), zero, zero + 0.005])
    return {"user": user, "gravity": gravity, "rotation": rotation}


def phone_recordings(
    activity: str, *, seconds: float = 6.0, rate_hz: int = 50, seed: int = 0
) -> tuple[bytes, bytes]:
    """The same motion as the two apps record it on an iPhone, sample for sample: Sensor
    Logger's zip (user acceleration, gravity: m/s²; gyroscope: rad/s) and an Edge Impulse file
    (acceleration with gravity: m/s², gyroscope: deg/s)."""
    count = int(seconds * rate_hz)
    time_ns = RECORDING_START_NS + np.arange(count) * (1_000_000_000 // rate_hz)
    motion = phone_motion(activity, (time_ns - RECORDING_START_NS) / 1e9, seed)
    zip_file = sensor_logger_export(
        {
            "Accelerometer": (time_ns, motion["user"]),
            "Gravity": (time_ns, motion["gravity"]),
            "Gyroscope": (time_ns, motion["rotation"]),
        }
    )
    names = [("accX", "m/s2"), ("accY", "m/s2"), ("accZ", "m/s2")]
    names += [("gyrX", "deg/s"), ("gyrY", "deg/s"), ("gyrZ", "deg/s")]
    values = np.column_stack([motion["user"] + motion["gravity"], np.rad2deg(motion["rotation"])])
    document = edge_impulse_document(signed=False)
    document["payload"] = {
        "device_type": "MOBILE_CLIENT",
        "interval_ms": 1000 / rate_hz,
        "sensors": [{"name": name, "units": unit} for name, unit in names],
        "values": values.tolist(),
    }
    return zip_file, encode(document, cbor=False)
