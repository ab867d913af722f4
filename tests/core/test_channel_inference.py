"""Channels: the inference table name by name, declarations, units, derived features and the
triples a recipe turns together (core/channels.py, channel_names.py, units.py, triples.py)."""

from __future__ import annotations

import math

import pytest

from core.channel_names import channels_for, infer_channel, parse_declaration, parse_declarations
from core.channels import Channel, ChannelError, Layout, Sensor, layout_of
from core.triples import sensor_triples
from core.units import Quantity, conversion, parse_unit

pytestmark = pytest.mark.unit

ACC, USER, GRAVITY = Sensor.ACCELEROMETER, Sensor.USER_ACCELERATION, Sensor.GRAVITY
GYRO, MAG, ATT, OTHER = Sensor.GYROSCOPE, Sensor.MAGNETOMETER, Sensor.ATTITUDE, Sensor.OTHER

# (column name, the format's unit) → (sensor, axis, unit, canonical feature)
INFERENCE_TABLE = [
    # BasicMotions and Core Motion apps
    ("accelX", None, ACC, "x", "g", "accelX"),
    ("accelZ", None, ACC, "z", "g", "accelZ"),
    ("rotY", None, GYRO, "y", "rad/s", "rotY"),
    ("userAcceleration.x", None, USER, "x", "g", "userAccelX"),
    ("userAccelerationY", None, USER, "y", "g", "userAccelY"),
    ("gravity.z", None, GRAVITY, "z", "g", "gravityZ"),
    ("rotationRate.x", None, GYRO, "x", "rad/s", "rotX"),
    ("magneticField.y", None, MAG, "y", "uT", "magY"),
    ("acceleration.x", None, ACC, "x", "g", "accelX"),  # CMAccelerometerData
    ("attitude.roll", None, ATT, "y", "rad", "roll"),
    ("pitch", None, ATT, "x", "rad", "pitch"),
    ("yaw", None, ATT, "z", "rad", "yaw"),
    # SensorLog (iOS): units in the names
    ("accelerometerAccelerationX(G)", None, ACC, "x", "g", "accelX"),
    ("motionUserAccelerationZ(G)", None, USER, "z", "g", "userAccelZ"),
    ("gyroRotationY(rad/s)", None, GYRO, "y", "rad/s", "rotY"),
    ("motionMagneticFieldX(µT)", None, MAG, "x", "uT", "magX"),
    ("motionYaw(rad)", None, ATT, "z", "rad", "yaw"),
    # the dev data and papers: accelerometer in g, gyroscope in rad/s
    ("ax", None, ACC, "x", "g", "accelX"),
    ("az", None, ACC, "z", "g", "accelZ"),
    ("wx", None, GYRO, "x", "rad/s", "rotX"),
    ("gx", None, GYRO, "x", "rad/s", "rotX"),
    ("mx", None, MAG, "x", "uT", "magX"),
    # generic names
    ("acc_x", None, ACC, "x", "g", "accelX"),
    ("Accel-Y", None, ACC, "y", "g", "accelY"),
    ("accelerometer_z", None, ACC, "z", "g", "accelZ"),
    ("gyro_x", None, GYRO, "x", "rad/s", "rotX"),
    ("Gyro.X", None, GYRO, "x", "rad/s", "rotX"),
    ("gyroscope z", None, GYRO, "z", "rad/s", "rotZ"),
    ("mag_x", None, MAG, "x", "uT", "magX"),
    ("mag-z", None, MAG, "z", "uT", "magZ"),
    ("user_acc_y", None, USER, "y", "g", "userAccelY"),
    ("acc_x [m/s^2]", None, ACC, "x", "m/s2", "accelX"),
    ("gyro_z (deg/s)", None, GYRO, "z", "deg/s", "rotZ"),
    # Android and the web
    ("linear_acceleration_x", None, USER, "x", "m/s2", "userAccelX"),
    ("accelerationIncludingGravity.y", None, ACC, "y", "m/s2", "accelY"),
    ("rotationRate.alpha", None, GYRO, "z", "deg/s", "rotZ"),
    ("rotationRate.beta", None, GYRO, "x", "deg/s", "rotX"),
    ("rotationRate.gamma", None, GYRO, "y", "deg/s", "rotY"),
    # Edge Impulse: the sensors' units
    ("accX", "m/s2", ACC, "x", "m/s2", "accelX"),
    ("accY", "g", ACC, "y", "g", "accelY"),
    ("gyrZ", "dps", GYRO, "z", "deg/s", "rotZ"),
    ("gyrX", "rad/s", GYRO, "x", "rad/s", "rotX"),
    ("magX", "uT", MAG, "x", "uT", "magX"),
    ("accX", "N/A", ACC, "x", "g", "accelX"),  # not stated: the name's convention
    # not a sensor, or a unit the sensor cannot have: other, under its own name
    ("heart_rate", None, OTHER, None, "", "heart_rate"),
    ("locationSpeed(m/s)", None, OTHER, None, "m/s", "locationSpeed(m/s)"),
    ("x", None, OTHER, None, "", "x"),
    ("posX", None, OTHER, None, "", "posX"),
    ("max", None, OTHER, None, "", "max"),
    ("X1-r", None, OTHER, None, "", "X1-r"),
    ("quaternionX", None, OTHER, None, "", "quaternionX"),
    ("temperature", "degC", OTHER, None, "degC", "temperature"),
    ("accX", "deg", OTHER, None, "deg", "accX"),
]


@pytest.mark.parametrize(
    ("column", "unit", "sensor", "axis", "expected_unit", "name"), INFERENCE_TABLE
)
def test_the_inference_table_name_by_name(column, unit, sensor, axis, expected_unit, name):
    channel = infer_channel(column, unit)
    assert (channel.sensor, channel.axis, channel.unit, channel.name) == (
        sensor,
        axis,
        expected_unit,
        name,
    )


@pytest.mark.parametrize(
    ("text", "quantity", "unit"),
    [
        ("m/s²", Quantity.ACCELERATION, "m/s2"),
        ("m/s^2", Quantity.ACCELERATION, "m/s2"),
        ("ms-2", Quantity.ACCELERATION, "m/s2"),
        ("G", Quantity.ACCELERATION, "g"),
        ("mg", Quantity.ACCELERATION, "mg"),
        ("°/s", Quantity.ANGULAR_VELOCITY, "deg/s"),
        ("degrees per second", Quantity.ANGULAR_VELOCITY, "deg/s"),
        ("rad/sec", Quantity.ANGULAR_VELOCITY, "rad/s"),
        ("dps", Quantity.ANGULAR_VELOCITY, "deg/s"),
        ("µT", Quantity.MAGNETIC_FIELD, "uT"),
        ("G", Quantity.MAGNETIC_FIELD, "gauss"),  # the same letters, another quantity
        ("degrees", Quantity.ANGLE, "deg"),
        ("m/s2", Quantity.ANGULAR_VELOCITY, None),
        ("bananas", Quantity.ACCELERATION, None),
    ],
)
def test_units_are_read_as_apps_write_them(text, quantity, unit):
    assert parse_unit(text, quantity) == unit


def test_conversion_factors():
    assert conversion("m/s2", "g", Quantity.ACCELERATION) == pytest.approx(1 / 9.80665)
    assert conversion("deg/s", "rad/s", Quantity.ANGULAR_VELOCITY) == pytest.approx(math.pi / 180)
    assert conversion("gauss", "uT", Quantity.MAGNETIC_FIELD) == pytest.approx(100)
    assert Channel("accX", ACC, "x", "m/s2").scale == pytest.approx(1 / 9.80665)
    assert Channel("hr", OTHER, None, "bpm").scale == 1.0  # never converted


@pytest.mark.parametrize(
    ("column", "text", "expected"),
    [
        ("accX", "accelerometer.x:m/s2", Channel("accX", ACC, "x", "m/s2")),
        ("a", "acc.z", Channel("a", ACC, "z", "g")),  # the canonical unit by default
        ("gyrX", ":deg/s", Channel("gyrX", GYRO, "x", "deg/s")),  # sensor and axis from the name
        ("hr", "other:bpm", Channel("hr", OTHER, None, "bpm")),
        ("hr", ":bpm", Channel("hr", OTHER, None, "bpm")),
        ("ux", "user_acceleration.x:m/s²", Channel("ux", USER, "x", "m/s2")),
        ("r", "attitude.roll:deg", Channel("r", ATT, "y", "deg")),
        ("b", "magnetometer.y:G", Channel("b", MAG, "y", "gauss")),
    ],
)
def test_declarations(column, text, expected):
    assert parse_declaration(column, text) == expected


@pytest.mark.parametrize(
    ("column", "text", "words"),
    [
        ("a", "speedometer.x", ["names no sensor", "accelerometer"]),
        ("a", "accelerometer", ["needs an axis", "accelerometer.x:g"]),
        ("a", "accelerometer.w", ["needs an axis"]),
        ("a", "gyroscope.x:m/s2", ["not a unit of angular velocity", "rad/s, deg/s"]),
        ("a", "other.x", ["no axis"]),
        ("heart", ":", ["its name says no sensor"]),
    ],
)
def test_bad_declarations_say_what_to_write(column, text, words):
    with pytest.raises(ChannelError) as error:
        parse_declaration(column, text)
    for word in words:
        assert word in str(error.value), error.value


def test_a_query_of_declarations():
    assert parse_declarations("accX=accelerometer.x:m/s2, gyrX=:deg/s,,a=b=other") == {
        "accX": "accelerometer.x:m/s2",
        "gyrX": ":deg/s",
        "a=b": "other",  # a column name may hold "="; the declaration never does
    }
    with pytest.raises(ChannelError, match="column=declaration"):
        parse_declarations("accX")


def test_declared_channels_win_over_format_and_names():
    channels = channels_for(
        ["accX", "gyrX", "hr"],
        declared={"gyrX": ":deg/s"},
        units={"accX": "m/s2", "gyrX": "rad/s"},
    )
    assert [c.declaration for c in channels] == [
        "accelerometer.x:m/s2",
        "gyroscope.x:deg/s",
        "other",
    ]


def test_two_columns_of_one_feature_are_refused_at_upload_and_demoted_elsewhere():
    with pytest.raises(ChannelError, match="'ax' and 'accX' are both accelX"):
        channels_for(["ax", "accX"])
    # A column named as its canonical feature keeps it, whichever comes first.
    lenient = channels_for(["ax", "accelX"], strict=False)
    assert [c.name for c in lenient] == ["ax", "accelX"] and lenient[0].sensor is OTHER
    with pytest.raises(ChannelError, match="canonical name of the accelerometer x"):
        channels_for(["accelX"], declared={"accelX": "other"})


def test_user_acceleration_and_gravity_give_the_accelerometer():
    layout = Layout(
        channels_for(
            ["ux", "uy", "uz", "gx2", "gy2", "gz2"],
            declared={
                **{f"u{a}": f"user_acceleration.{a}:m/s2" for a in "xyz"},
                **{f"g{a}2": f"gravity.{a}:m/s2" for a in "xyz"},
            },
        )
    )
    assert list(layout.offered) == [
        *(f"userAccel{a}" for a in "XYZ"),
        *(f"gravity{a}" for a in "XYZ"),
        *(f"accel{a}" for a in "XYZ"),
    ]
    scale = 1 / 9.80665
    assert layout.source("accelY") == (("uy", pytest.approx(scale)), ("gy2", pytest.approx(scale)))
    assert layout.source("rotX") is None


def test_a_layout_round_trips_the_database_form_and_is_shared():
    channels = channels_for(["accX", "gyrX"], units={"accX": "m/s2"})
    stored = Layout(channels).stored()
    assert stored == [["accX", "accelerometer", "x", "m/s2"], ["gyrX", "gyroscope", "x", "rad/s"]]
    assert layout_of(stored).channels == channels
    assert layout_of(stored) is layout_of([list(item) for item in stored])
    assert layout_of(stored).sources(["accelX", "gyrX"], by_column=True) == [
        (("accX", pytest.approx(1 / 9.80665)),),
        (("gyrX", 1.0),),  # a model trained before channels takes the column as it is
    ]


@pytest.mark.parametrize(
    ("names", "triples"),
    [
        (["accelX", "accelY", "accelZ", "rotX", "rotY", "rotZ"], [(0, 1, 2), (3, 4, 5)]),
        (["ax", "ay", "az", "wx", "wy", "wz"], [(0, 1, 2), (3, 4, 5)]),
        (["acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z"], [(0, 1, 2), (3, 4, 5)]),
        (["accX", "accY", "accZ"], [(0, 1, 2)]),
        (["Gyro.X", "Gyro.Y", "Gyro.Z", "heart_rate"], [(0, 1, 2)]),
        (["userAccelerationX", "userAccelerationY", "userAccelerationZ"], [(0, 1, 2)]),
        (["mag-x", "mag-y", "mag-z"], [(0, 1, 2)]),
        (["gravityX", "gravityY", "gravityZ", "userAccelX", "userAccelY", "userAccelZ"],
         [(0, 1, 2), (3, 4, 5)]),
        # Columns in any order: each triple is (x, y, z) wherever they stand.
        (["wz", "ax", "wy", "az", "wx", "ay"], [(1, 5, 3), (4, 2, 0)]),
        # Not sensors, not vectors, or not complete: never rotated.
        (["x", "y", "z"], []),
        (["posX", "posY", "posZ"], []),
        (["accelX", "accelY"], []),
        (["X1-r", "X2-r", "X3-r"], []),
        (["roll", "pitch", "yaw"], []),
    ],
)  # fmt: skip
def test_sensor_triples_by_name(names, triples):
    assert sensor_triples(names) == triples


def test_sensor_triples_of_channels_follow_the_channel_not_the_name():
    channels = [Channel(f"c{a}", GYRO, a, "deg/s") for a in "zyx"]
    assert sensor_triples([*channels, Channel("h", OTHER)]) == [(2, 1, 0)]
    assert sensor_triples(channels)[0].x == 2
