"""Units of the motion sensors' quantities: their canonical spellings, the ways apps write them,
and the factor that converts each into its quantity's canonical unit.

Canonical units are what Core Motion delivers on an iPhone (g, rad/s, µT, rad): what an iOS app
feeds a Core ML model by default, and what every run trains on (core/channels.py).
"""

from __future__ import annotations

import math
import re
from enum import StrEnum

STANDARD_GRAVITY = 9.80665  # m/s² per g (ISO 80000-3; what Sensor Logger and Android assume)


class Quantity(StrEnum):
    ACCELERATION = "acceleration"
    ANGULAR_VELOCITY = "angular velocity"
    MAGNETIC_FIELD = "magnetic field"
    ANGLE = "angle"


# Each quantity's units: the spelling used in answers and model metadata → the factor that
# converts a value in it into the first one, the canonical unit.
UNITS: dict[Quantity, dict[str, float]] = {
    Quantity.ACCELERATION: {"g": 1.0, "m/s2": 1.0 / STANDARD_GRAVITY, "mg": 1e-3},
    Quantity.ANGULAR_VELOCITY: {"rad/s": 1.0, "deg/s": math.pi / 180.0},
    Quantity.MAGNETIC_FIELD: {"uT": 1.0, "nT": 1e-3, "mT": 1e3, "gauss": 100.0, "mgauss": 0.1},
    Quantity.ANGLE: {"rad": 1.0, "deg": math.pi / 180.0},
}
# How apps and files write them, after `_normalised` (lower case, no spaces, ² → 2, µ → u,
# ° → deg, …). "g" is g-force for an acceleration and gauss for a magnetic field.
ALIASES: dict[Quantity, dict[str, str]] = {
    Quantity.ACCELERATION: {
        **dict.fromkeys(("g", "gs", "gforce", "g0", "gn"), "g"),
        **dict.fromkeys(("m/s2", "ms2", "m/s/s", "ms-2", "m.s-2", "m*s-2", "mps2"), "m/s2"),
        **dict.fromkeys(("mg", "millig", "milli-g"), "mg"),
    },
    Quantity.ANGULAR_VELOCITY: {
        **dict.fromkeys(("rad/s", "rads", "rad.s-1", "rads-1", "radps", "rps"), "rad/s"),
        **dict.fromkeys(("deg/s", "dps", "degs", "deg.s-1", "degs-1", "degps"), "deg/s"),
    },
    Quantity.MAGNETIC_FIELD: {
        **dict.fromkeys(("ut", "microtesla", "microteslas"), "uT"),
        **dict.fromkeys(("nt", "nanotesla", "nanoteslas"), "nT"),
        **dict.fromkeys(("mt", "millitesla", "milliteslas"), "mT"),
        **dict.fromkeys(("g", "gauss", "gs"), "gauss"),
        **dict.fromkeys(("mg", "mgauss", "milligauss"), "mgauss"),
    },
    Quantity.ANGLE: {
        **dict.fromkeys(("rad", "radian", "radians"), "rad"),
        **dict.fromkeys(("deg", "degree", "degrees"), "deg"),
    },
}
_REPLACEMENTS = (
    ("²", "2"),
    ("^", ""),
    ("µ", "u"),
    ("μ", "u"),
    ("°", "deg"),
    ("degrees", "deg"),
    ("degree", "deg"),
    ("radians", "rad"),
    ("radian", "rad"),
    ("seconds", "s"),
    ("second", "s"),
    ("sec", "s"),
    ("/s/s", "/s2"),
    ("per", "/"),
)
_SPACES = re.compile(r"\s+")


def _normalised(unit: str) -> str:
    text = _SPACES.sub("", unit.strip().lower())
    for old, new in _REPLACEMENTS:
        text = text.replace(old, new)
    return text


def parse_unit(unit: str, quantity: Quantity) -> str | None:
    """The canonical spelling of `unit` as a unit of `quantity`; None when it is not one."""
    text = _normalised(unit)
    return ALIASES[quantity].get(text) or ALIASES[quantity].get(text.replace("/", ""))


def canonical_unit(quantity: Quantity) -> str:
    return next(iter(UNITS[quantity]))


def to_canonical(unit: str, quantity: Quantity) -> float:
    """The factor that converts a value in `unit` (a canonical spelling) into the canonical
    unit of `quantity`."""
    return UNITS[quantity][unit]


def conversion(from_unit: str, to_unit: str, quantity: Quantity) -> float:
    """The factor that converts values of `quantity` in `from_unit` into `to_unit`."""
    return to_canonical(from_unit, quantity) / to_canonical(to_unit, quantity)


def units_of(quantity: Quantity) -> list[str]:
    return list(UNITS[quantity])


# What each kind of device delivers, for a model's inputs (a run's `model.device_units`).
DEVICE_UNITS: dict[str, dict[Quantity, str]] = {
    # Core Motion (iOS, watchOS): the canonical units.
    "core-motion": {quantity: canonical_unit(quantity) for quantity in Quantity},
    # Android's SensorManager: SI units.
    "android": {
        Quantity.ACCELERATION: "m/s2",
        Quantity.ANGULAR_VELOCITY: "rad/s",
        Quantity.MAGNETIC_FIELD: "uT",
        Quantity.ANGLE: "rad",
    },
    # The web's DeviceMotionEvent and DeviceOrientationEvent.
    "web": {
        Quantity.ACCELERATION: "m/s2",
        Quantity.ANGULAR_VELOCITY: "deg/s",
        Quantity.MAGNETIC_FIELD: "uT",
        Quantity.ANGLE: "deg",
    },
}
