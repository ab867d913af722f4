"""The inputs a run's model takes: names and units, written into its `.mlmodel` whichever engine
trained it (every other format is converted from that file, so it inherits them).

A run trains on its features in their canonical units (core/channels.py); its exported model
takes what the run declared (service/runs/inputs.py; by default what Core Motion delivers).
The conversion is one factor per input, folded into the first convolution's weights as
standardisation is (workers/engines/torch/standardise.py): conv(s·x) = (W·s)·x, so the
network's interface and layers stay Turi Create's. Padding is unchanged: 0 in any unit is 0.
Turi Create trains on what it is given (the canonical values a run reads), so its own export is
folded afterwards the same way. The user-defined metadata says what each input takes: `units`
and `channels`, comma-separated in `features` order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from coremltools.models.utils import rename_feature
from coremltools.proto import Model_pb2

from core.channels import SENSORS, Sensor
from core.params import FeatureChannel, ModelInput, RunParams
from core.units import conversion
from workers.exports.coreml.interface import STATE_INPUT
from workers.exports.coreml.network import ActivityNetwork
from workers.model.shape import CONV_CHANNELS

UNITS_KEY, CHANNELS_KEY, FEATURES_KEY = "units", "channels", "features"


def input_scales(channels: Sequence[FeatureChannel], inputs: Sequence[ModelInput]) -> list[float]:
    """Per input: training value = input value × scale."""
    scales = []
    for channel, model_input in zip(channels, inputs, strict=True):
        kind = SENSORS.get(Sensor(channel.sensor))
        if kind is None:  # `other`: never converted
            scales.append(1.0)
        else:
            scales.append(conversion(model_input.unit, channel.unit, kind.quantity))
    return scales


def declare_inputs(spec: Model_pb2.Model, params: RunParams) -> None:
    """Make the spec of a network trained on `params.features` (its inputs named so, or already
    as the inputs) take `params.inputs`: renamed, converted (folded into the convolution) and
    described in the metadata. Runs stored before channels declared nothing: their spec stays as
    it is."""
    if params.channels is None or params.inputs is None:
        return
    features = [channel.name for channel in params.channels]
    names = [model_input.name for model_input in params.inputs]
    found = [item.name for item in spec.description.input if item.name != STATE_INPUT]
    if found not in (features, names):
        raise ValueError(f"the model's inputs are {found}, the run's features {features}")
    scales = np.asarray(input_scales(params.channels, params.inputs), dtype=np.float64)
    if not np.all(scales == 1.0):
        conv = next(layer for layer in spec.neuralNetworkClassifier.layers if layer.name == "conv")
        weights = conv.convolution.weights
        values = np.asarray(weights.floatValue, dtype=np.float64)
        values = values.reshape(CONV_CHANNELS, len(features), -1)  # (64, F, 1·pw)
        folded = (values * scales[None, :, None]).astype(np.float32)
        weights.ClearField("floatValue")
        weights.floatValue.extend(folded.ravel().tolist())
    if found != names:
        # Through names no feature has, so that a swap (a → b, b → a) never meets itself.
        for i, feature in enumerate(features):
            rename_feature(spec, feature, f"__motionlab_input_{i}", rename_outputs=False)
        for i, name in enumerate(names):
            rename_feature(spec, f"__motionlab_input_{i}", name, rename_outputs=False)
    metadata = spec.description.metadata.userDefined
    metadata[FEATURES_KEY] = ",".join(names)
    metadata[UNITS_KEY] = ",".join(model_input.unit for model_input in params.inputs)
    metadata[CHANNELS_KEY] = ",".join(
        f"{c.sensor}.{c.axis}" if c.axis else c.sensor for c in params.channels
    )


def training_network(network: ActivityNetwork, params: RunParams) -> ActivityNetwork:
    """The network of a `.mlmodel` as the run trained it: its features, in their training units
    (the inverse of `declare_inputs`), for steps fed with what predictions take."""
    if params.channels is None or params.inputs is None:
        return network
    scales = np.asarray(input_scales(params.channels, params.inputs), dtype=np.float64)
    weight = (network.conv_weight / scales[None, :, None]).astype(np.float32)  # (64, F, pw)
    return replace(network, features=list(params.features), conv_weight=weight)
