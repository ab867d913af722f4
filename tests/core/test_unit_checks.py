"""Unit checks: magnitudes that contradict a channel's unit are warnings that name the unit the
values look like, and sessions of one run that disagree are named (core/unit_checks.py)."""

from __future__ import annotations

import numpy as np
import pytest

from core.channel_names import channels_for
from core.channels import Layout
from core.unit_checks import SessionLevels, check_session, disagreements

pytestmark = pytest.mark.unit

G = 9.80665


def walking(seconds: float = 10.0, rate_hz: float = 50.0, seed: int = 0) -> dict[str, np.ndarray]:
    """A wrist while walking, in SI units: acceleration with gravity (m/s²), rotation rate
    (rad/s), attitude (rad)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    tilt = 0.3 * np.sin(2 * np.pi * 0.9 * t)  # the arm swings: gravity turns in the frame
    gravity = np.column_stack([G * np.sin(tilt), np.zeros_like(t), G * np.cos(tilt)])
    user = 2.0 * np.column_stack([np.sin(2 * np.pi * 1.8 * t), np.cos(2 * np.pi * 1.8 * t), 0 * t])
    rotation = np.column_stack([3.0 * np.cos(2 * np.pi * 0.9 * t), 0.5 * t % 1, 0.2 + 0 * t])
    return {
        "acc": gravity + user + rng.normal(0, 0.1, gravity.shape),
        "gyro": rotation + rng.normal(0, 0.02, rotation.shape),
        "att": np.column_stack([tilt, 0.1 + 0 * t, np.pi * np.sin(t / 5)]),
    }


def checked(columns: dict[str, np.ndarray], declared: dict[str, str]):
    layout = Layout(channels_for(list(columns), declared=declared))
    return check_session(layout, columns.__getitem__)


def triple(prefix: str, values: np.ndarray) -> dict[str, np.ndarray]:
    return {f"{prefix}_{axis}": values[:, i] for i, axis in enumerate("xyz")}


def declare(prefix: str, declaration: str) -> dict[str, str]:
    sensor, _, unit = declaration.partition(":")
    return {f"{prefix}_{a}": f"{sensor}.{a}:{unit}" for a in "xyz"}


def test_data_in_the_units_it_declares_passes():
    signal = walking()
    columns = {**triple("acc", signal["acc"]), **triple("gyro", signal["gyro"])}
    levels, warnings = checked(
        columns, {**declare("acc", "accelerometer:m/s2"), **declare("gyro", "gyroscope:rad/s")}
    )
    assert warnings == []
    assert 0.9 < levels["accelerometer"] < 1.3  # g, whatever unit it was stored in
    assert 1 < levels["gyroscope"] < 5  # rad/s


def test_a_deg_per_second_gyroscope_declared_as_rad_per_second_is_a_warning():
    degrees = np.rad2deg(walking()["gyro"])  # what the web's DeviceMotionEvent delivers
    levels, warnings = checked(triple("gyro", degrees), declare("gyro", "gyroscope:rad/s"))
    [warning] = warnings
    assert "gyroscope (gyro_x, gyro_y, gyro_z, in rad/s)" in warning, warning
    assert "look like deg/s, not rad/s" in warning, warning
    assert "channels=gyro_x=:deg/s,gyro_y=:deg/s,gyro_z=:deg/s" in warning, warning
    assert levels["gyroscope"] > 100
    # Declared right, the same values pass, and their level is the rad/s one.
    levels, warnings = checked(triple("gyro", degrees), declare("gyro", "gyroscope:deg/s"))
    assert warnings == [] and levels["gyroscope"] < 5


def test_an_accelerometer_in_m_s2_read_as_g_is_a_warning_and_g_read_as_m_s2_too():
    acc = walking()["acc"]
    [warning] = checked(triple("acc", acc), declare("acc", "accelerometer:g"))[1]
    assert "median magnitude of 10 g" in warning and "look like m/s2, not g" in warning, warning
    [warning] = checked(triple("acc", acc / G), declare("acc", "accelerometer:m/s2"))[1]
    assert "look like g, not m/s2" in warning, warning


def test_user_acceleration_declared_as_the_accelerometer_is_a_warning():
    user = walking()["acc"] - np.array([0, 0, G])  # roughly gravity removed
    user /= 20 * G  # in g, and small
    [warning] = checked(triple("acc", user), declare("acc", "accelerometer:g"))[1]
    assert "reads like user acceleration" in warning, warning


def test_attitude_in_degrees_declared_as_radians_is_a_warning():
    degrees = np.rad2deg(walking()["att"])
    columns = {"roll": degrees[:, 0], "pitch": degrees[:, 1], "yaw": degrees[:, 2]}
    [warning] = checked(columns, {})[1]
    assert "attitude" in warning and "look like deg, not rad" in warning, warning


def test_columns_of_no_known_sensor_and_incomplete_sensors_are_not_checked():
    signal = walking()
    columns = {"acc_x": signal["acc"][:, 0] * 1000, "heart_rate": np.full(500, 70.0)}
    assert checked(columns, {}) == ({}, [])


def test_sessions_that_disagree_are_named_by_activity_where_the_level_is_the_motion_s():
    sessions = [
        SessionLevels("walk-1", "walk", {"gyroscope": 3.0, "accelerometer": 1.0}),
        SessionLevels("walk-2", "walk", {"gyroscope": 2.5, "accelerometer": 1.02}),
        SessionLevels("walk-3", "walk", {"gyroscope": 2.8 * 57.3, "accelerometer": 9.8}),
        SessionLevels("rest-1", "rest", {"gyroscope": 0.05, "accelerometer": 1.0}),  # its own
        SessionLevels("rest-2", "rest", {"gyroscope": 0.04, "accelerometer": 0.99}),
        SessionLevels("old", "rest", None),  # not checked: no level, never named
    ]
    gyroscope, accelerometer = disagreements(sessions, ["gyroscope", "accelerometer"])
    assert "'walk-3' (160 against 3)" in gyroscope and "of the same activity" in gyroscope
    assert "rest" not in gyroscope and "'walk-1'" not in gyroscope
    assert "'walk-3' (9.8 against 1)" in accelerometer, accelerometer
    assert disagreements(sessions[:2], ["gyroscope", "accelerometer"]) == []
