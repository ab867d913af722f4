"""Unit checks: magnitudes that contradict a channel's unit are a warning, never silent.

Each vector sensor with all three axes has one physical level, computed in canonical units
(NumPy, a few passes over its columns): an accelerometer with gravity reads about 1 g whatever
the motion, a gyroscope never passes the ±2,000 °/s range of phone and watch chips (35 rad/s),
the Earth's magnetic field is 25-65 µT, an attitude angle stays within ±π rad. A level outside
its sensor's range is a warning on the session that names the unit the values look like.
Levels are kept with the session, so that a run compares its sessions without reading them:
sessions whose level differs from the others' by more than the sensor's factor (9.8× between g
and m/s², 57× between deg/s and rad/s) are named in a run warning.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from statistics import median

import numpy as np

from core.channels import SENSORS, Channel, Layout, Sensor
from core.units import to_canonical, units_of

SHOWN = 3  # sessions named in one warning


@dataclass(frozen=True)
class Check:
    statistic: str  # what the level is, for messages
    level: Callable[[np.ndarray], float]  # (N, 3) canonical values → the level
    low: float  # the plausible range, in the canonical unit
    high: float
    expected: str  # why, for messages
    factor: float  # sessions of one run further apart than this disagree
    by_activity: bool  # the level depends on the motion: compare sessions of one label only


def _norms(values: np.ndarray) -> np.ndarray:
    return np.sqrt(np.einsum("ij,ij->i", values, values))  # (N,)


CHECKS: dict[Sensor, Check] = {
    # 0.4-4 g: vigorous exercise keeps a median above 2 g, and still 9.8 (m/s² read as g) and
    # 0.1 (g read as m/s²) stay far outside.
    Sensor.ACCELEROMETER: Check(
        "median magnitude",
        lambda v: float(np.median(_norms(v))),
        0.4,
        4.0,
        "an accelerometer with gravity reads about 1 g (9.8 m/s2) whatever the motion",
        2.0,
        False,
    ),
    Sensor.GRAVITY: Check(
        "median magnitude",
        lambda v: float(np.median(_norms(v))),
        0.8,
        1.25,
        "gravity is 1 g (9.8 m/s2)",
        2.0,
        False,
    ),
    Sensor.USER_ACCELERATION: Check(
        "median magnitude",
        lambda v: float(np.median(_norms(v))),
        0.0,
        1.5,
        "what a person adds to gravity keeps a median under 1.5 g",
        10.0,
        True,
    ),
    Sensor.GYROSCOPE: Check(
        "99th percentile of the magnitude",
        lambda v: float(np.percentile(_norms(v), 99)),
        0.0,
        40.0,
        "phone and watch gyroscopes stop at 2000 deg/s (35 rad/s)",
        10.0,
        True,
    ),
    Sensor.MAGNETOMETER: Check(
        "median magnitude",
        lambda v: float(np.median(_norms(v))),
        5.0,
        1000.0,
        "the Earth's field is 25-65 uT",
        10.0,
        False,
    ),
    Sensor.ATTITUDE: Check(
        "largest angle",
        lambda v: float(np.abs(v).max()),
        0.0,
        2 * math.pi + 0.01,
        "angles stay within ±pi rad (±180 deg)",
        10.0,
        True,
    ),
}


def _triples(layout: Layout) -> dict[Sensor, list[Channel]]:
    """The checked sensors' channels: all three axes (attitude: any)."""
    found: dict[Sensor, list[Channel]] = {}
    for channel in layout.channels:
        if channel.sensor in CHECKS:
            found.setdefault(channel.sensor, []).append(channel)
    return {
        sensor: sorted(channels, key=lambda c: c.axis or "")
        for sensor, channels in found.items()
        if sensor is Sensor.ATTITUDE or len(channels) == 3
    }


def sensor_levels(layout: Layout, column: Callable[[str], np.ndarray]) -> dict[str, float]:
    """{sensor: level in its canonical unit} of a session; `column(name)` gives a stored
    column's values."""
    levels: dict[str, float] = {}
    for sensor, channels in _triples(layout).items():
        values = np.column_stack([column(c.column) * c.scale for c in channels])  # (N, k)
        if len(values):
            levels[str(sensor)] = CHECKS[sensor].level(values)
    return levels


def unit_warnings(layout: Layout, levels: Mapping[str, float]) -> list[str]:
    """A warning for each sensor whose level contradicts its unit, naming the unit it looks
    like and the declaration that says so."""
    warnings = []
    for sensor, channels in _triples(layout).items():
        level, check = levels.get(str(sensor)), CHECKS[sensor]
        if level is None or check.low <= level <= check.high:
            continue
        quantity, unit = SENSORS[sensor].quantity, channels[0].unit
        canonical = channels[0].canonical_unit
        # As if the values were in another unit: which one makes the level plausible?
        stored_level = level / channels[0].scale
        fits = [
            other
            for other in units_of(quantity)
            if other != unit
            and check.low <= stored_level * to_canonical(other, quantity) <= check.high
        ]
        columns = ", ".join(c.column for c in channels)
        text = (
            f"the {sensor} ({columns}, in {unit}) has a {check.statistic} of {level:.3g} "
            f"{canonical}, where {check.expected}"
        )
        if fits:
            declared = ",".join(f"{c.column}=:{fits[0]}" for c in channels)
            text += f": the values look like {fits[0]}, not {unit}; declare ?channels={declared}"
        elif sensor is Sensor.ACCELEROMETER:
            text += (
                ": it reads like user acceleration (gravity removed); declare it so, with its unit"
            )
        warnings.append(text)
    return warnings


@dataclass(frozen=True)
class SessionLevels:
    session_id: str
    label: str
    levels: Mapping[str, float] | None  # None: not checked (lost, or not migrated yet)


def disagreements(sessions: Sequence[SessionLevels], sensors: Sequence[str]) -> list[str]:
    """Warnings naming the sessions whose level of a sensor is off from the others' by more
    than its factor: the median of the run's sessions, or of the same activity's where the
    level depends on the motion."""
    warnings = []
    for name in sensors:
        check = CHECKS[Sensor(name)]
        groups: dict[str, list[tuple[str, float]]] = {}
        for session in sessions:
            level = (session.levels or {}).get(name)
            if level is not None:
                key = session.label if check.by_activity else ""
                groups.setdefault(key, []).append((session.session_id, level))
        odd: list[tuple[str, float, float]] = []
        for members in groups.values():
            if len(members) < 2:
                continue
            usual = max(median(level for _, level in members), 1e-12)
            odd += [
                (sid, level, usual)
                for sid, level in members
                if not 1 / check.factor <= max(level, 1e-12) / usual <= check.factor
            ]
        if odd:
            shown = ", ".join(
                f"{sid!r} ({level:.3g} against {usual:.3g})" for sid, level, usual in odd[:SHOWN]
            )
            more = f" … ({len(odd)} in all)" if len(odd) > SHOWN else ""
            scope = " of the same activity" if check.by_activity else ""
            warnings.append(
                f"sessions disagree on the {name}'s {check.statistic}: {shown}{more} differ by "
                f"more than {check.factor:g}x from the median of the run's sessions{scope}; "
                "a unit is likely wrong: GET /v1/sessions/{id} shows each one's channels"
            )
    return warnings


def check_session(
    layout: Layout, column: Callable[[str], np.ndarray]
) -> tuple[dict[str, float], list[str]]:
    """(levels, warnings) of a session's samples: what is stored with it."""
    levels = sensor_levels(layout, column)
    return levels, unit_warnings(layout, levels)
