"""Sensor channels: what each feature column of a session measures — the sensor, the axis and
the unit — so that sessions of different apps combine and no unit is ever guessed silently.

Every column maps to a `Channel`. A known sensor's channel has one canonical feature name and
one canonical unit (the table below, which the README repeats); runs select and train on
canonical features, each stored column converted by its channel's `scale`. An `other` channel
is any other numeric column: usable under its own name, never rotated or converted.

| sensor            | canonical features       | unit  | units accepted          |
|-------------------|--------------------------|-------|-------------------------|
| accelerometer     | accelX accelY accelZ     | g     | g, m/s2, mg             |
| user_acceleration | userAccelX … Z           | g     | g, m/s2, mg             |
| gravity           | gravityX … Z             | g     | g, m/s2, mg             |
| gyroscope         | rotX rotY rotZ           | rad/s | rad/s, deg/s            |
| magnetometer      | magX magY magZ           | uT    | uT, nT, mT, gauss, …    |
| attitude          | pitch (x) roll (y) yaw (z) | rad | rad, deg                |
| other             | the column's own name    | as declared, never converted |

Light on purpose (no NumPy, no pydantic): the API, the workers and the migrations use it.
Column names are read by core/channel_names.py; core/triples.py tells a recipe which features
turn together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import Any

from core.units import Quantity, canonical_unit, to_canonical

AXES = ("x", "y", "z")


class Sensor(StrEnum):
    ACCELEROMETER = "accelerometer"  # acceleration with gravity: what the chip measures
    USER_ACCELERATION = "user_acceleration"  # without gravity: what the user adds
    GRAVITY = "gravity"
    GYROSCOPE = "gyroscope"
    MAGNETOMETER = "magnetometer"
    ATTITUDE = "attitude"
    OTHER = "other"


@dataclass(frozen=True)
class SensorKind:
    quantity: Quantity
    names: tuple[str, str, str]  # canonical feature names of the axes x, y, z
    # A vector in the device's frame: its three axes turn together when the device turns.
    vector: bool


SENSORS: dict[Sensor, SensorKind] = {
    Sensor.ACCELEROMETER: SensorKind(Quantity.ACCELERATION, ("accelX", "accelY", "accelZ"), True),
    Sensor.USER_ACCELERATION: SensorKind(
        Quantity.ACCELERATION, ("userAccelX", "userAccelY", "userAccelZ"), True
    ),
    Sensor.GRAVITY: SensorKind(Quantity.ACCELERATION, ("gravityX", "gravityY", "gravityZ"), True),
    Sensor.GYROSCOPE: SensorKind(Quantity.ANGULAR_VELOCITY, ("rotX", "rotY", "rotZ"), True),
    Sensor.MAGNETOMETER: SensorKind(Quantity.MAGNETIC_FIELD, ("magX", "magY", "magZ"), True),
    # Core Motion's angles: pitch turns about x, roll about y, yaw about z.
    Sensor.ATTITUDE: SensorKind(Quantity.ANGLE, ("pitch", "roll", "yaw"), False),
}
CANONICAL_NAMES = {
    name: (sensor, axis)
    for sensor, kind in SENSORS.items()
    for axis, name in zip(AXES, kind.names, strict=True)
}


TABLE_ORDER = {name: position for position, name in enumerate(CANONICAL_NAMES)}


def in_table_order(names: Iterable[str]) -> list[str]:
    """Canonical features in the table's order (accelerometer … attitude), then other columns
    by name: one order for a set of features, whatever the columns' order."""
    return sorted(names, key=lambda name: (TABLE_ORDER.get(name, len(TABLE_ORDER)), name))


class ChannelError(ValueError):
    """A channel declaration or layout that cannot be used; the message says how to fix it."""


@dataclass(frozen=True)
class Channel:
    """What one stored column holds. `unit` is a canonical spelling (core/units.py) for a known
    sensor, free text (maybe empty) for `other`."""

    column: str
    sensor: Sensor
    axis: str | None = None
    unit: str = ""

    @property
    def kind(self) -> SensorKind | None:
        return SENSORS.get(self.sensor)

    @property
    def name(self) -> str:
        """The canonical feature name: runs and models call the channel this."""
        kind = self.kind
        if kind is None or self.axis is None:
            return self.column
        return kind.names[AXES.index(self.axis)]

    @property
    def canonical_unit(self) -> str:
        kind = self.kind
        return self.unit if kind is None else canonical_unit(kind.quantity)

    @property
    def scale(self) -> float:
        """canonical value = stored value × scale (1 for `other`: never converted)."""
        kind = self.kind
        return 1.0 if kind is None else to_canonical(self.unit, kind.quantity)

    @property
    def declaration(self) -> str:
        """The channel in the upload's declaration syntax: `accelerometer.x:m/s2`."""
        axis = f".{self.axis}" if self.axis else ""
        unit = f":{self.unit}" if self.unit else ""
        return f"{self.sensor}{axis}{unit}"

    def stored(self) -> list[Any]:
        """The database's form: [column, sensor, axis, unit]."""
        return [self.column, str(self.sensor), self.axis, self.unit]

    @classmethod
    def from_stored(cls, value: Sequence[Any]) -> Channel:
        column, sensor, axis, unit = value
        return cls(column, Sensor(sensor), axis, unit or "")

    def describe(self) -> dict[str, Any]:
        """What GET /v1/sessions/{id} says of the column."""
        return {
            "column": self.column,
            "name": self.name,
            "sensor": str(self.sensor),
            "axis": self.axis,
            "unit": self.unit,
            "canonical_unit": self.canonical_unit,
            "scale": self.scale,
        }


# A feature read from stored columns: Σ scale × column (one term, or two for a derived one).
Source = tuple[tuple[str, float], ...]
# The accelerometer measures what the user adds plus gravity: each one follows from the others.
DERIVATIONS: dict[Sensor, tuple[tuple[Sensor, float], tuple[Sensor, float]]] = {
    Sensor.ACCELEROMETER: ((Sensor.USER_ACCELERATION, 1.0), (Sensor.GRAVITY, 1.0)),
    Sensor.USER_ACCELERATION: ((Sensor.ACCELEROMETER, 1.0), (Sensor.GRAVITY, -1.0)),
    Sensor.GRAVITY: ((Sensor.ACCELEROMETER, 1.0), (Sensor.USER_ACCELERATION, -1.0)),
}


@dataclass(frozen=True)
class Layout:
    """A session's channels, one per stored feature column, in column order."""

    channels: tuple[Channel, ...]

    @cached_property
    def by_name(self) -> dict[str, Channel]:
        return {channel.name: channel for channel in self.channels}

    @cached_property
    def by_column(self) -> dict[str, Channel]:
        return {channel.column: channel for channel in self.channels}

    @cached_property
    def derived(self) -> dict[str, Source]:
        """Canonical features the session has no column for but two of its channels give."""
        found: dict[str, Source] = {}
        for sensor, terms in DERIVATIONS.items():
            for axis, name in zip(AXES, SENSORS[sensor].names, strict=True):
                parts = [self.by_name.get(SENSORS[s].names[AXES.index(axis)]) for s, _ in terms]
                if name not in self.by_name and all(parts):
                    found[name] = tuple(
                        (part.column, sign * part.scale)
                        for part, (_, sign) in zip(parts, terms, strict=True)
                        if part is not None
                    )
        return found

    @cached_property
    def offered(self) -> dict[str, None]:
        """Every canonical feature a run can take from the session, in order (a dict: ordered
        and quick to look in): its columns', then the derived ones."""
        return dict.fromkeys((*self.by_name, *self.derived))

    @cached_property
    def is_canonical(self) -> bool:
        """Every column is named and scaled as its canonical feature (BasicMotions' are)."""
        return all(c.name == c.column and c.scale == 1.0 for c in self.channels)

    def source(self, feature: str, *, by_column: bool = False) -> Source | None:
        """Where `feature` comes from; by_column: a column of that name, raw, when no channel is
        named so (models trained before channels took columns by their stored names)."""
        channel = self.by_name.get(feature)
        if channel is not None:
            return ((channel.column, channel.scale),)
        if feature in self.derived:
            return self.derived[feature]
        if by_column and feature in self.by_column:
            return ((feature, 1.0),)
        return None

    def sources(self, features: Sequence[str], *, by_column: bool = False) -> list[Source] | None:
        """The source of each feature; None when one is missing."""
        found = [self.source(name, by_column=by_column) for name in features]
        return None if any(s is None for s in found) else [s for s in found if s is not None]

    def stored(self) -> list[list[Any]]:
        return [channel.stored() for channel in self.channels]

    def canonical(self) -> Layout:
        """The channels of `offered`, each in its canonical unit: the session as a run reads
        it."""
        channels = []
        for name in self.offered:
            sensor, axis = CANONICAL_NAMES.get(name, (None, None))
            if sensor is None:  # an `other` column: as it is
                channels.append(self.by_name[name])
            else:
                unit = canonical_unit(SENSORS[sensor].quantity)
                channels.append(Channel(name, sensor, axis, unit))
        return Layout(tuple(channels))


def combine(source: Source, column: Callable[[str], Any]) -> Any:
    """A feature's values from its stored columns (`column(name)`: an array): Σ scale × column."""
    (first, scale), *rest = source
    values = column(first) if scale == 1.0 else column(first) * scale
    for name, factor in rest:
        values = values + column(name) * factor
    return values


@lru_cache(maxsize=4096)
def _layout(key: tuple[tuple[Any, ...], ...]) -> Layout:
    return Layout(tuple(Channel.from_stored(item) for item in key))


def layout_of(stored: Iterable[Sequence[Any]]) -> Layout:
    """The layout of a session's stored channels (the database's JSON), shared by every
    session laid out alike."""
    return _layout(tuple(tuple(item) for item in stored))


def is_identity(sources: Sequence[Source], features: Sequence[str]) -> bool:
    """Each feature is its own column, unscaled: what runs stored before channels read."""
    return all(
        source == ((feature, 1.0),) for source, feature in zip(sources, features, strict=True)
    )
