"""Channels read off column names, and channels declared by the uploader.

The inference table (`STEMS`): a column name ends with its axis (accelX, acc_x,
userAcceleration.x, Gyro.X, ax, wx) after a stem that names its sensor; Core Motion's attitude
angles are roll, pitch and yaw (attitude.roll, motionPitch); the web's rotationRate axes are
alpha, beta and gamma. A unit in parentheses or brackets at the end of the name (SensorLog's
`accelerometerAccelerationX(G)`, `acc_x [m/s^2]`) is the column's unit; else the stem's
convention says it. A unit the sensor cannot have, or any other name, makes the column `other`:
usable under its own name, never converted.

A declaration says it instead: `sensor.axis:unit` (`accelerometer.x:m/s2`), `:unit` (the sensor
and axis its name says, in that unit: `:deg/s`), `other` or `other:bpm`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core.channels import AXES, CANONICAL_NAMES, SENSORS, Channel, ChannelError, Sensor
from core.units import canonical_unit, parse_unit, units_of

MAX_OTHER_UNIT_LENGTH = 32
NO_UNIT = frozenset({"", "n/a", "na", "none", "unknown", "-", "?"})  # a format's "not stated"


@dataclass(frozen=True)
class Stem:
    sensor: Sensor
    unit: str  # what a column named so holds, unless its name or format says otherwise


def _stems(names: str, sensor: Sensor, unit: str) -> dict[str, Stem]:
    return dict.fromkeys(names.split(), Stem(sensor, unit))


# Stems lower case, separators removed. Who names columns so:
STEMS: dict[str, Stem] = {
    # BasicMotions and Core Motion apps (accelX); CMAccelerometerData.acceleration; SensorLog's
    # accelerometerAccelerationX; Edge Impulse (accX, unit from its file); papers and watch
    # exports (ax, acc_x, a_x).
    **_stems(
        "accel acc accl a accelerometer acceleration accelerometeracceleration rawacceleration "
        "totalacceleration",
        Sensor.ACCELEROMETER,
        "g",
    ),
    # The web's DeviceMotionEvent.accelerationIncludingGravity.
    **_stems("accelerationincludinggravity", Sensor.ACCELEROMETER, "m/s2"),
    # CMDeviceMotion.userAcceleration; SensorLog's motionUserAccelerationX.
    **_stems(
        "useracceleration useraccel useracc motionuseracceleration", Sensor.USER_ACCELERATION, "g"
    ),
    # Android's TYPE_LINEAR_ACCELERATION.
    **_stems("linearacceleration linearaccel linacc linaccel", Sensor.USER_ACCELERATION, "m/s2"),
    **_stems("gravity grav motiongravity", Sensor.GRAVITY, "g"),  # CMDeviceMotion.gravity
    # BasicMotions (rotX), CMDeviceMotion.rotationRate, SensorLog's gyroRotationX, Edge
    # Impulse (gyrX), papers (wx, gx: ω and gyro).
    **_stems(
        "rot rotation rotationrate motionrotationrate gyrorotation gyro gyr gyroscope g w omega "
        "angularvelocity angvel",
        Sensor.GYROSCOPE,
        "rad/s",
    ),
    **_stems(
        "mag magn magnet magnetometer magneticfield motionmagneticfield m",
        Sensor.MAGNETOMETER,
        "uT",
    ),
}
ATTITUDE_PREFIXES = ("", "attitude", "motion", "orientation")
ATTITUDE_AXES = {"pitch": "x", "roll": "y", "yaw": "z"}  # the axis each angle turns about
# The web's DeviceMotionEvent.rotationRate: alpha about z, beta about x, gamma about y, in °/s.
WEB_ROTATION_AXES = {"alpha": "z", "beta": "x", "gamma": "y"}
SENSOR_WORDS = {
    **dict.fromkeys(("accelerometer", "accel", "acc"), Sensor.ACCELEROMETER),
    **dict.fromkeys(("user_acceleration", "useracceleration", "user"), Sensor.USER_ACCELERATION),
    "gravity": Sensor.GRAVITY,
    **dict.fromkeys(("gyroscope", "gyro"), Sensor.GYROSCOPE),
    **dict.fromkeys(("magnetometer", "mag"), Sensor.MAGNETOMETER),
    "attitude": Sensor.ATTITUDE,
    "other": Sensor.OTHER,
}
DECLARATION_HELP = (
    "declare a column as sensor.axis:unit (accelerometer.x:m/s2, gyroscope.z:deg/s), :unit "
    "(the sensor and axis its name says), or other[:unit]; sensors: "
    + ", ".join(str(s) for s in Sensor)
)
_UNIT_IN_NAME = re.compile(r"^(?P<base>.*?)\s*[(\[](?P<unit>[^()\[\]]*)[)\]]\s*$")
_AXIS_AT_END = re.compile(r"^(?P<stem>.*?)[\s._-]*(?P<axis>[xyz])$", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s._-]+")


def _compact(text: str) -> str:
    return _SEPARATORS.sub("", text).lower()


def _sensor_axis(base: str) -> tuple[Sensor, str | None, str]:
    """(sensor, axis, the unit its naming implies) of a name without its unit."""
    compact = _compact(base)
    for prefix in ATTITUDE_PREFIXES:
        angle = compact.removeprefix(prefix) if compact.startswith(prefix) else None
        if angle in ATTITUDE_AXES:
            return Sensor.ATTITUDE, ATTITUDE_AXES[angle], "rad"
    for greek, axis in WEB_ROTATION_AXES.items():
        if compact == f"rotationrate{greek}":
            return Sensor.GYROSCOPE, axis, "deg/s"
    match = _AXIS_AT_END.match(base.strip())
    stem = STEMS.get(_compact(match["stem"])) if match else None
    if match is None or stem is None:
        return Sensor.OTHER, None, ""
    return stem.sensor, match["axis"].lower(), stem.unit


def _other(column: str, unit: str | None) -> Channel:
    text = (unit or "").strip()
    printable = text.isprintable() and len(text) <= MAX_OTHER_UNIT_LENGTH
    return Channel(column, Sensor.OTHER, None, text if printable else "")


def infer_channel(column: str, unit: str | None = None) -> Channel:
    """The channel a column's name says; `unit`: the one its format states (Edge Impulse's
    sensors carry theirs), else the name's, else its naming convention's."""
    found = _UNIT_IN_NAME.match(column)
    base, named_unit = (found["base"], found["unit"]) if found else (column, None)
    sensor, axis, convention = _sensor_axis(base)
    given = unit if unit and unit.strip().lower() not in NO_UNIT else named_unit
    if sensor is Sensor.OTHER:
        return _other(column, given)
    parsed = parse_unit(given or convention, SENSORS[sensor].quantity)
    if parsed is None:  # a unit this sensor cannot have: not what the name suggests
        return _other(column, given)
    return Channel(column, sensor, axis, parsed)


def parse_declaration(column: str, text: str) -> Channel:
    """A declared channel (see the module's doc); ChannelError saying what is wrong."""
    body, _, unit = text.strip().partition(":")
    word, _, axis = body.strip().partition(".")
    where = f"the channel declared for column {column!r} ({text[:80]!r})"
    if word.strip():
        found = SENSOR_WORDS.get(word.strip().lower().replace("-", "_"))
        if found is None:
            raise ChannelError(f"{where} names no sensor; {DECLARATION_HELP}")
        sensor = found
    else:
        inferred = infer_channel(column)
        if inferred.sensor is Sensor.OTHER and unit.strip():
            return _other(column, unit)
        if inferred.sensor is Sensor.OTHER:
            raise ChannelError(f"{where}: its name says no sensor; {DECLARATION_HELP}")
        sensor, axis = inferred.sensor, inferred.axis or ""
    if sensor is Sensor.OTHER:
        if axis:
            raise ChannelError(
                f"{where}: an `other` channel has no axis; write other or other:unit"
            )
        return _other(column, unit)
    kind = SENSORS[sensor]
    axis = axis.strip().lower()
    axis = ATTITUDE_AXES.get(axis, axis) if sensor is Sensor.ATTITUDE else axis
    if axis not in AXES:
        raise ChannelError(
            f"{where}: the {sensor} needs an axis, x, y or z"
            + (" (or pitch, roll, yaw)" if sensor is Sensor.ATTITUDE else "")
            + f", e.g. {sensor}.x:{canonical_unit(kind.quantity)}"
        )
    parsed = parse_unit(unit or canonical_unit(kind.quantity), kind.quantity)
    if parsed is None:
        raise ChannelError(
            f"{where}: {unit.strip()[:40]!r} is not a unit of {kind.quantity}; use one of "
            + ", ".join(units_of(kind.quantity))
        )
    return Channel(column, sensor, axis, parsed)


def parse_declarations(text: str) -> dict[str, str]:
    """`?channels=accX=accelerometer.x:m/s2,gyrX=:deg/s` → {column: declaration}."""
    declared: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        column, equals, declaration = item.rpartition("=")
        if not equals or not column.strip():
            raise ChannelError(
                f"channels: {item.strip()[:80]!r} is not column=declaration; write e.g. "
                "channels=accX=accelerometer.x:m/s2,gyrX=gyroscope.x:deg/s"
            )
        declared[column.strip()] = declaration
    return declared


def channels_for(
    columns: Sequence[str],
    *,
    declared: Mapping[str, str] | None = None,
    known: Mapping[str, Channel] | None = None,
    units: Mapping[str, str] | None = None,
    strict: bool = True,
) -> tuple[Channel, ...]:
    """The channel of each column: declared by the uploader, else known from the format
    (Sensor Logger's files), else inferred from its name and its format's unit (`units`:
    Edge Impulse's). Declarations of columns that are not there are the caller's to refuse.
    strict (uploads): two columns of one canonical feature, or an `other` column named as a
    canonical feature, is a ChannelError; otherwise the second one becomes `other`."""
    declared, known, units = declared or {}, known or {}, units or {}
    chosen = [
        parse_declaration(column, declared[column])
        if column in declared
        else known.get(column) or infer_channel(column, units.get(column))
        for column in columns
    ]
    owner: dict[str, int] = {}
    # A column named as its canonical feature keeps the name when another one claims it too.
    for i in sorted(range(len(chosen)), key=lambda i: chosen[i].name != chosen[i].column):
        channel = chosen[i]
        taken = owner.get(channel.name)
        if strict and taken is not None:
            raise ChannelError(
                f"columns {chosen[taken].column!r} and {channel.column!r} are both "
                f"{channel.name} ({channel.sensor} {channel.axis}); declare which is which, "
                f"e.g. channels={channel.column}=other"
            )
        if strict and channel.sensor is Sensor.OTHER and channel.name in CANONICAL_NAMES:
            sensor, axis = CANONICAL_NAMES[channel.name]
            raise ChannelError(
                f"column {channel.column!r} would be an `other` column, but {channel.name} is "
                f"the canonical name of the {sensor} {axis}: declare it as that sensor with a "
                "unit it can have, or rename the column"
            )
        if taken is not None:
            chosen[i] = _other(channel.column, None)
        owner.setdefault(chosen[i].name, i)
    return tuple(chosen)
