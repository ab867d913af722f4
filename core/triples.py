"""Which features are the x, y and z of one 3-D sensor: what a training recipe turns together
to make a model hold however the device is worn."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from core.channel_names import infer_channel
from core.channels import CANONICAL_NAMES, SENSORS, Channel, Sensor


class Triple(NamedTuple):
    """Positions of one 3-D sensor's x, y and z among a list of features."""

    x: int
    y: int
    z: int


def sensor_triples(features: Sequence[str | Channel]) -> list[Triple]:
    """The (x, y, z) positions of each vector sensor (accelerometer, user acceleration,
    gravity, gyroscope, magnetometer) complete in `features`, ordered by x. They are one
    device's sensors: a recipe turns all of them by the same rotation. A name is read as a
    canonical feature (a run's features are), else as an upload's column would be; attitude
    angles, `other` columns and incomplete sensors are never a triple.

    >>> sensor_triples(["ax", "ay", "az", "wx", "wy", "wz", "heart_rate"])
    [Triple(x=0, y=1, z=2), Triple(x=3, y=4, z=5)]
    """
    axes: dict[Sensor, dict[str, int]] = {}
    for position, feature in enumerate(features):
        if isinstance(feature, Channel):
            sensor, axis = feature.sensor, feature.axis
        elif feature in CANONICAL_NAMES:
            sensor, axis = CANONICAL_NAMES[feature]
        else:
            inferred = infer_channel(feature)
            sensor, axis = inferred.sensor, inferred.axis
        kind = SENSORS.get(sensor)
        if kind is not None and kind.vector and axis is not None:
            axes.setdefault(sensor, {}).setdefault(axis, position)
    return sorted(Triple(a["x"], a["y"], a["z"]) for a in axes.values() if len(a) == 3)
