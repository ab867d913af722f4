"""Which feature columns are the x, y, z axes of one 3-D sensor in the device's frame.

Inferred from column names alone, until the sessions carry real channel knowledge (issue 27
replaces `sensor_triples`; nothing else here needs to change). A triple is three columns
named <stem><axis> for axes x, y and z, where the stem (case and separators ignored) is a
known vector sensor: accelerometer, gyroscope, magnetometer, gravity, user acceleration.
accelX/accelY/accelZ, rotX/rotY/rotZ (BasicMotions), ax/ay/az, wx/wy/wz, acc_x, gyro.x all
qualify. Anything else, a lone axis, or a stem that is not a sensor (`posX`, `x`), is never
treated as a vector.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Stems of body-fixed 3-D sensors, lower case, separators removed. Single letters are the
# usual shorthand of papers and watch exports: a (acceleration), w / g (angular velocity,
# ω or gyro), m (magnetic field).
VECTOR_SENSOR_STEMS = frozenset(
    {
        "a", "acc", "accel", "accelerometer", "acceleration", "linacc", "linearacceleration",
        "useracc", "useraccel", "useracceleration", "gravity", "grav",
        "w", "g", "gyr", "gyro", "gyroscope", "rot", "rotation", "rotationrate", "angvel",
        "m", "mag", "magnet", "magnetometer", "magneticfield",
    }
)  # fmt: skip
_AXIS_NAME = re.compile(r"^(?P<stem>.*?)[\s._-]*(?P<axis>[xyz])$", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s._-]+")


def sensor_triples(feature_names: Sequence[str]) -> list[tuple[int, int, int]]:
    """(x, y, z) column indices of each 3-D sensor in `feature_names`, in order of x.

    >>> sensor_triples(["ax", "ay", "az", "wx", "wy", "wz", "heart_rate"])
    [(0, 1, 2), (3, 4, 5)]
    """
    axes: dict[str, dict[str, int]] = {}
    for index, name in enumerate(feature_names):
        match = _AXIS_NAME.match(name.strip())
        if match is None:
            continue
        stem = _SEPARATORS.sub("", match["stem"]).lower()
        if stem in VECTOR_SENSOR_STEMS:
            axes.setdefault(stem, {}).setdefault(match["axis"].lower(), index)
    triples = [(a["x"], a["y"], a["z"]) for a in axes.values() if len(a) == 3]
    return sorted(triples)
