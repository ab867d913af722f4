"""The inputs of a run's exported model: their names and the units they take, decided when the
run is created (the worker folds the conversion into the model's first layer).

Defaults: each feature's own name, in what the device delivers (`model.device_units`:
core-motion, so an iOS app feeds Core Motion's g and rad/s, and a run over BasicMotions exports
exactly the inputs it always did). `model.input_units` and `model.input_names` change single
features. An `other` feature is never converted: its input takes what the run trained on.
"""

from __future__ import annotations

from collections import Counter

from core.channels import SENSORS, Sensor
from core.params import FeatureChannel, ModelInfo, ModelInput
from core.units import DEVICE_UNITS, parse_unit, units_of
from service.errors import InvalidInput
from workers.exports.coreml.interface import STATE_INPUT, STATE_OUTPUT, layer_plan
from workers.exports.coreml.interface import probability_output as probabilities


def model_inputs(model: ModelInfo, channels: list[FeatureChannel], target: str) -> list[ModelInput]:
    names, units = model.input_names or {}, model.input_units or {}
    features = [channel.name for channel in channels]
    for field, declared in (("input_names", names), ("input_units", units)):
        unknown = [name for name in declared if name not in features]
        if unknown:
            raise InvalidInput(
                f"model.{field} names {unknown[:5]}, which are not features of the run "
                f"({features}); name features"
            )
    device = DEVICE_UNITS[model.device_units]
    inputs = []
    for channel in channels:
        name = names.get(channel.name, channel.name)
        if channel.sensor == Sensor.OTHER:
            stated = units.get(channel.name)
            if stated is not None and stated.strip() != channel.unit:
                raise InvalidInput(
                    f"feature {channel.name!r} is an other column, never converted: its input "
                    f"takes what the run trains on ({channel.unit or 'no unit'}); leave it out "
                    "of model.input_units"
                )
            inputs.append(ModelInput(name=name, unit=channel.unit))
            continue
        quantity = SENSORS[Sensor(channel.sensor)].quantity
        unit = parse_unit(units[channel.name], quantity) if channel.name in units else None
        if channel.name in units and unit is None:
            raise InvalidInput(
                f"model.input_units: {units[channel.name][:40]!r} is not a unit of "
                f"{quantity} ({channel.name}); use one of {', '.join(units_of(quantity))}"
            )
        inputs.append(ModelInput(name=name, unit=unit or device[quantity]))
    _check_names([i.name for i in inputs], target)
    return inputs


def _check_names(names: list[str], target: str) -> None:
    """The exported model's inputs must differ from each other and from its other names."""
    taken = {STATE_INPUT, STATE_OUTPUT, target, probabilities(target)}
    taken.update(out for layer in layer_plan(names, target) for out in layer.outputs)
    counts = Counter(names)
    clashes = sorted({n for n in names if n in taken or counts[n] > 1 or not n.strip()})
    if clashes:
        raise InvalidInput(
            f"the exported model's input names {clashes} collide with each other or with its "
            f"own names ({STATE_INPUT}, {STATE_OUTPUT}, {target}, {probabilities(target)}, its "
            "layers'); choose others in model.input_names"
        )
