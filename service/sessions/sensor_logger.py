"""The zip export of the Sensor Logger app (Kelvin Choi; iOS and Android) → one session.

The export (documented in the app's "awesome-sensor-logger" repository, UNITS.md) holds one
CSV per sensor, each with its own timestamps and the columns `time` (UTC epoch, nanoseconds),
`seconds_elapsed`, `z`, `y`, `x`, at the rate each sensor delivered (often unequal, never
exactly regular), plus `metadata.csv` (device name, platform, …). Read here, each to its
channels (core/channels.py), under their canonical names:
- `Accelerometer.csv`: user acceleration (gravity removed), m/s² → userAccelX…Z;
- `TotalAcceleration.csv` (Android): acceleration with gravity, m/s² → accelX…Z (on iOS, a run
  derives it from the user acceleration and gravity);
- `Gravity.csv`: m/s² → gravityX…Z;
- `Gyroscope.csv`: rad/s → rotX…Z.
An acceleration file is required. Other sensors are ignored: Orientation's angles wrap at ±π,
which linear interpolation cannot cross, and magnetometers and positions do not describe a
motion the same way twice.

Alignment: the sensors are resampled onto one time base by linear interpolation
(`numpy.interp`, one call per column): a regular grid at the session's rate (?sample_rate_hz=,
default the fastest sensor's mean rate, rounded to a whole Hz), spanning the time every
sensor covers (the latest first sample to the earliest last one). The grid's size depends on
the time span and the rate, not on the upload's: it is refused (413) before it is made when
its samples (float64, the timestamp included) would pass MOTIONLAB_MAX_UPLOAD_BYTES, as two
rows a year apart at ?sample_rate_hz=1000 would. Each sensor file is read unzipped only up to
MAX_MEMBER_BYTES (and the upload limit). The session's `timestamp` is the grid in seconds from
its first point.

Before channels, the accelerometer was stored as accelX…Z and the gyroscope as rotX…Z, aligned
by themselves: a re-sent zip that was stored so is still recognised as the same upload.
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from pathlib import PurePath

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from core.channels import SENSORS as CANONICAL
from core.channels import Channel, Sensor
from service.errors import InvalidInput, MalformedBody, PayloadTooLarge
from service.sessions.parsing import (
    Payload,
    UploadOptions,
    check_values,
    content_address,
    finish_session,
    samples_table,
)

# Sensor file → its channels' sensor and unit (UNITS.md of the app's repository).
SENSORS = {
    "Accelerometer": (Sensor.USER_ACCELERATION, "m/s2"),
    "TotalAcceleration": (Sensor.ACCELEROMETER, "m/s2"),
    "Gravity": (Sensor.GRAVITY, "m/s2"),
    "Gyroscope": (Sensor.GYROSCOPE, "rad/s"),
}
REQUIRED = ("Accelerometer", "TotalAcceleration")  # at least one
# What the versions before channels stored: these files only, under these name prefixes.
STORED_BEFORE_CHANNELS = {"Accelerometer": "accel", "Gyroscope": "rot"}
AXES = ("x", "y", "z")
NS_PER_S = 1_000_000_000
FLOAT64_BYTES = 8
MAX_MEMBER_BYTES = 256 * 1024 * 1024  # one sensor file, decompressed (a zip bomb stops here)


def parse_sensor_logger(payload: Payload, options: UploadOptions, source: str | None = None):
    data = payload.take()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise MalformedBody(f"malformed zip: {exc}; send Sensor Logger's zip export") from None
    with archive:
        members = {PurePath(info.filename).name: info for info in archive.infolist()}
        if not any(f"{name}.csv" in members for name in REQUIRED):
            raise InvalidInput(
                f"the zip has no {' or '.join(f'{n}.csv' for n in REQUIRED)}: export the "
                "recording from Sensor Logger as a zip with the accelerometer enabled (files "
                f"found: {', '.join(sorted(members)[:10]) or 'none'})"
            )
        member_limit = min(MAX_MEMBER_BYTES, options.max_upload_bytes)
        streams = {
            name: _read_sensor(archive, members[f"{name}.csv"], member_limit)
            for name in SENSORS
            if f"{name}.csv" in members
        }
        device = _device(archive, members.get("metadata.csv"))
    session_id = options.session_id or (PurePath(source).stem if source else None)
    if session_id is None:
        raise InvalidInput(
            "a Sensor Logger zip carries no session id: give ?session_id= (or upload it as a "
            "file, whose name becomes the id)"
        )
    rate_hz = options.sample_rate_hz or _fastest_rate_hz(streams)
    names = {name: CANONICAL[sensor].names for name, (sensor, _) in SENSORS.items()}
    grid_s, columns, features = _align(streams, rate_hz, names, options.max_upload_bytes)
    timestamps = pa.array(grid_s)
    known = {
        feature: Channel(feature, sensor, axis, unit)
        for name, (sensor, unit) in SENSORS.items()
        if name in streams
        for axis, feature in zip(AXES, names[name], strict=True)
    }
    check_values([session_id], np.zeros(1, dtype=np.int64), features, columns, timestamps)
    return [
        finish_session(
            session_id=session_id,
            activity=options.activity,
            subject=options.subject,
            split=options.split,
            sample_rate_hz=rate_hz,
            features=features,
            samples=samples_table(features, columns, timestamps),
            source=" ".join(filter(None, ("sensor-logger", device, source))),
            declared=options.channels,
            known=known,
            stored_before=lambda: _address_before_channels(
                streams, options.sample_rate_hz, options.max_upload_bytes
            ),
        )
    ]


def _address_before_channels(
    streams: dict, sample_rate_hz: float | None, max_bytes: int
) -> str | None:
    """The content address the versions before channels gave this zip (None: they refused it)."""
    kept = {name: streams[name] for name in STORED_BEFORE_CHANNELS if name in streams}
    if "Accelerometer" not in kept:
        return None
    try:
        rate_hz = sample_rate_hz or _fastest_rate_hz(kept)
        names = {
            name: tuple(f"{prefix}{axis.upper()}" for axis in AXES)
            for name, prefix in STORED_BEFORE_CHANNELS.items()
        }
        grid_s, columns, features = _align(kept, rate_hz, names, max_bytes)
    except InvalidInput:
        return None
    return content_address(features, samples_table(features, columns, pa.array(grid_s)))


def _read_sensor(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_bytes: int
) -> tuple[np.ndarray, dict]:
    """(time in ns as int64, {axis: float64 values}), sorted by time."""
    name = info.filename
    try:
        with archive.open(info) as member:
            raw = member.read(max_bytes + 1)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, zlib.error) as exc:
        raise MalformedBody(f"{name} cannot be unzipped: {exc}") from None
    if len(raw) > max_bytes:
        raise InvalidInput(f"{name} is larger than {max_bytes} bytes unzipped", limit=max_bytes)
    try:
        table = pacsv.read_csv(
            pa.BufferReader(raw),
            convert_options=pacsv.ConvertOptions(column_types={"time": pa.int64()}),
        )
    except pa.ArrowInvalid as exc:
        raise MalformedBody(f"{name} is not a readable CSV: {exc}") from None
    missing = [c for c in ("time", *AXES) if c not in table.column_names]
    if missing:
        raise InvalidInput(
            f"{name} has no column {', '.join(map(repr, missing))}; a Sensor Logger sensor file "
            "has time, seconds_elapsed, z, y, x"
        )
    if table.num_rows < 2:
        raise InvalidInput(f"{name} has {table.num_rows} samples; at least 2 are needed")
    time_ns = table.column("time").to_numpy()
    values = {}
    for axis in AXES:
        column = table.column(axis)
        if not pa.types.is_integer(column.type) and not pa.types.is_floating(column.type):
            raise InvalidInput(f"{name}, column {axis!r} is not numeric")
        values[axis] = column.cast(pa.float64()).to_numpy()
    if np.all(time_ns[1:] >= time_ns[:-1]):  # as the app writes them: nothing to move
        return time_ns, values
    order = np.argsort(time_ns, kind="stable")
    return time_ns[order], {axis: v[order] for axis, v in values.items()}


def _fastest_rate_hz(streams: dict) -> float:
    # The mean rate over each sensor's span: robust to the jitter of each sample's time.
    rates = [
        np.count_nonzero(np.diff(time_ns)) * NS_PER_S / float(time_ns[-1] - time_ns[0])
        for time_ns, _ in streams.values()
        if time_ns[-1] > time_ns[0]
    ]
    if not rates:
        raise InvalidInput("the sensor files have no two samples at different times")
    return float(max(1, round(max(rates))))


def _align(
    streams: dict, rate_hz: float, names: Mapping[str, Sequence[str]], max_bytes: int
) -> tuple[np.ndarray, list, list[str]]:
    """The grid (s from its start), one interpolated column per feature, the feature names
    (`names`: each sensor file's, for the axes x, y, z)."""
    start_ns = max(int(time_ns[0]) for time_ns, _ in streams.values())
    end_ns = min(int(time_ns[-1]) for time_ns, _ in streams.values())
    if end_ns <= start_ns:
        raise InvalidInput(
            f"the sensors do not overlap in time ({', '.join(streams)}): they cannot be "
            "aligned into one session"
        )
    count = int((end_ns - start_ns) * rate_hz // NS_PER_S) + 1
    width = len(AXES) * len(streams) + 1  # the features and the timestamp
    if count * width * FLOAT64_BYTES > max_bytes:  # checked before a byte of the grid exists
        most = max_bytes // (width * FLOAT64_BYTES)
        raise PayloadTooLarge(
            f"resampled at {rate_hz:g} Hz over the {(end_ns - start_ns) / NS_PER_S:g} s the "
            f"sensors share, the session would have {count:,} rows; at most {most:,} rows of "
            f"{width} columns fit in MOTIONLAB_MAX_UPLOAD_BYTES ({max_bytes} bytes as float64): "
            "give a lower ?sample_rate_hz=, or split the recording",
            limit=max_bytes,
        )
    grid_s = np.arange(count) / rate_hz  # (T,)
    columns, features = [], []
    for name, (time_ns, values) in streams.items():
        time_s = (time_ns - start_ns) / NS_PER_S  # exact in int64, then float seconds
        for axis, feature in zip(AXES, names[name], strict=True):
            columns.append(pa.array(np.interp(grid_s, time_s, values[axis])))
            features.append(feature)
    return grid_s, columns, features


def _device(archive: zipfile.ZipFile, info: zipfile.ZipInfo | None) -> str | None:
    """'<device name> <platform>' from metadata.csv, when the export has one."""
    if info is None or info.file_size > 64 * 1024:
        return None
    try:
        text = archive.read(info).decode("utf-8", errors="replace")
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, zlib.error):
        return None  # the metadata only names the device
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        return None
    row = rows[0]
    return " ".join(v[:64] for v in (row.get("device name"), row.get("platform")) if v) or None
