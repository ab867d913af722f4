"""The trained network inside a spec-1 `.mlmodel`, read back as NumPy arrays.

Every other export format (ONNX, Core ML ML Program) is built from this, not from a torch
checkpoint: both engines leave a `.mlmodel` with the same layers (Turi Create's own exporter
and export.py write one layout), so one converter serves torch and Turi Create runs alike and
every format carries exactly the weights of the file an iOS app already uses.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from coremltools.models.utils import load_spec, save_spec
from coremltools.proto import Model_pb2
from coremltools.proto import NeuralNetwork_pb2 as NN

from core.atomic import atomic_path
from workers.exports.coreml.interface import LSTM_GATES, STATE_INPUT, layer_plan, probability_output
from workers.exports.formats import NotConvertible
from workers.model.shape import CONV_CHANNELS, LSTM_HIDDEN


class UnsupportedSpecError(NotConvertible):
    """The `.mlmodel` is not an activity classifier laid out as interface.py says (or uses
    something the NumPy test oracles do not implement)."""


@dataclass(frozen=True)
class ActivityNetwork:
    """Interface and float32 weights of an exported activity classifier.

    LSTM matrices keep Core ML's gate order (input, forget, block input, output), each gate a
    block of LSTM_HIDDEN rows; `lstm_bias` is the one bias per gate Core ML keeps.
    """

    features: list[str]
    target: str
    classes: list[str]
    prediction_window: int
    conv_weight: np.ndarray  # (64, F, pw): output channel, feature, time
    conv_bias: np.ndarray  # (64,)
    lstm_input_weight: np.ndarray  # (800, 64)
    lstm_recurrent_weight: np.ndarray  # (800, 200)
    lstm_bias: np.ndarray  # (800,)
    dense0_weight: np.ndarray  # (128, 200)
    dense0_bias: np.ndarray  # (128,)
    bn_gamma: np.ndarray  # (128,)
    bn_beta: np.ndarray  # (128,)
    bn_mean: np.ndarray  # (128,)
    bn_variance: np.ndarray  # (128,)
    bn_epsilon: float
    dense1_weight: np.ndarray  # (C, 128)
    # The .mlmodel's metadata: user-defined keys, then author / license / description.
    metadata: dict[str, str] = field(default_factory=dict)
    author: str = ""
    license: str = ""
    short_description: str = ""
    version_string: str = ""


def read_network(model: str | os.PathLike[str] | Model_pb2.Model) -> ActivityNetwork:
    """The network of an activity-classifier `.mlmodel`; UnsupportedSpecError for any other."""
    spec = model if isinstance(model, Model_pb2.Model) else load_spec(os.fspath(model))
    if spec.WhichOneof("Type") != "neuralNetworkClassifier":
        raise UnsupportedSpecError(f"model type {spec.WhichOneof('Type')!r} is not a classifier")
    description = spec.description
    inputs = [feature.name for feature in description.input]
    if STATE_INPUT not in inputs or len(inputs) < 2:
        raise UnsupportedSpecError(f"inputs {inputs}: expected the features, then {STATE_INPUT}")
    features = [name for name in inputs if name != STATE_INPUT]
    target = description.predictedFeatureName
    classifier = spec.neuralNetworkClassifier
    layers = {layer.name: layer for layer in classifier.layers}
    plan = layer_plan(features, target)
    found = [(layer.name, layer.WhichOneof("layer")) for layer in classifier.layers]
    if found != [(p.name, p.kind) for p in plan]:
        raise UnsupportedSpecError(f"layers {found} are not an activity classifier's")

    conv = layers["conv"].convolution
    window = int(conv.kernelSize[1])
    lstm = layers["lstm"].uniDirectionalLSTM
    weights = lstm.weightParams
    dense0, dense1 = layers["dense0"].innerProduct, layers["dense1"].innerProduct
    bn = layers["bn"].batchnorm
    metadata = description.metadata
    classes = list(classifier.stringClassLabels.vector)

    def gates(kind: str, columns: int) -> np.ndarray:
        blocks = [
            _array(getattr(weights, f"{g}{kind}"), (LSTM_HIDDEN, columns)) for g in LSTM_GATES
        ]
        return np.concatenate(blocks)

    return ActivityNetwork(
        features=features,
        target=target,
        classes=classes,
        prediction_window=window,
        conv_weight=_array(conv.weights, (CONV_CHANNELS, len(features), window)),
        conv_bias=_array(conv.bias, (CONV_CHANNELS,)),
        lstm_input_weight=gates("WeightMatrix", CONV_CHANNELS),
        lstm_recurrent_weight=gates("RecursionMatrix", LSTM_HIDDEN),
        lstm_bias=np.concatenate(
            [_array(getattr(weights, f"{g}BiasVector"), (LSTM_HIDDEN,)) for g in LSTM_GATES]
        ),
        dense0_weight=_array(dense0.weights, (dense0.outputChannels, dense0.inputChannels)),
        dense0_bias=_array(dense0.bias, (dense0.outputChannels,)),
        bn_gamma=_array(bn.gamma, (bn.channels,)),
        bn_beta=_array(bn.beta, (bn.channels,)),
        bn_mean=_array(bn.mean, (bn.channels,)),
        bn_variance=_array(bn.variance, (bn.channels,)),
        bn_epsilon=float(bn.epsilon),
        dense1_weight=_array(dense1.weights, (len(classes), dense1.inputChannels)),
        metadata=dict(metadata.userDefined),
        author=metadata.author,
        license=metadata.license,
        short_description=metadata.shortDescription,
        version_string=metadata.versionString,
    )


def save_spec_atomically(spec: Model_pb2.Model, path: str | os.PathLike[str]) -> Path:
    """A reader (or a crashed writer) never sees half a file: temp file, then os.replace."""
    # save_spec wants a .mlmodel suffix; auto_set_specification_version stays off so the
    # file keeps version 1 (with it on, coremltools would rewrite the version).
    with atomic_path(path, suffix=".mlmodel") as temporary:
        save_spec(spec, temporary, auto_set_specification_version=False)
    return Path(path)


def probability_name(network: ActivityNetwork) -> str:
    return probability_output(network.target)


def _array(params: NN.WeightParams, shape: tuple[int, ...]) -> np.ndarray:
    values = np.asarray(params.floatValue, dtype=np.float32)
    if values.size != int(np.prod(shape)):
        raise UnsupportedSpecError(f"{values.size} float weights where {shape} were expected")
    return values.reshape(shape)
