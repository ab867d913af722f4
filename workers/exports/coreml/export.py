"""Core ML export with exactly Turi Create 6.4's activity-classifier interface (spec §4).

The spec is written as raw protobuf (coremltools.proto) rather than with NeuralNetworkBuilder:
the builder stamps its own specification version and optional fields, while an app written
for a Turi Create model expects a spec-v1 neural-network classifier laid out field for field
like Turi Create's C++ exporter writes it.

It reads a torch network's weights, so it imports torch: the torch engine writes each run's
`.mlmodel` with it when the run ends. Turi Create runs come with their own; every other format
is converted from the `.mlmodel` (network.py), whichever engine wrote it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from coremltools.proto import FeatureTypes_pb2, Model_pb2, NeuralNetwork_pb2

from workers.engines.torch.model import ActivityNet, lstm_parameters, tensor
from workers.exports.coreml.interface import (
    BATCHNORM_EPSILON,
    CELL_CLIP_THRESHOLD,
    EXPORT_FORMAT_VERSION,
    LSTM_GATES,
    MOTIONLAB_VERSION_KEY,
    RUN_ID_KEY,
    SPECIFICATION_VERSION,
    STATE_INPUT,
    STATE_OUTPUT,
    layer_plan,
    motionlab_version,
    probability_output,
)
from workers.exports.coreml.network import save_spec_atomically
from workers.model.shape import CONV_CHANNELS, DENSE_HIDDEN, LSTM_HIDDEN, STATE_SIZE

if TYPE_CHECKING:  # the classifier module pulls in metrics and data; only its type is needed
    from workers.engines.torch.classifier import ActivityClassifier


def build_spec(
    net: ActivityNet,
    *,
    classes: Sequence[Any],
    features: Sequence[str],
    target: str,
    session_id: str,
    prediction_window: int,
    max_iterations: int,
    run_id: str | None = None,
    short_description: str | None = None,
    author: str | None = None,
    license: str | None = None,
    version_string: str | None = None,
) -> Model_pb2.Model:
    """The Core ML spec of a trained network. `classes` is in the network's output order."""
    features = [str(f) for f in features]
    labels = [str(c) for c in classes]
    _validate(net, labels=labels, features=features, target=target, window=prediction_window)

    spec = Model_pb2.Model()
    spec.specificationVersion = SPECIFICATION_VERSION
    description = spec.description
    for feature in features:
        _array_feature(
            description.input.add(), feature, f"{feature} window input", prediction_window
        )
    _array_feature(description.input.add(), STATE_INPUT, "LSTM state input", STATE_SIZE)
    probability = description.output.add()
    probability.name = probability_output(target)
    probability.shortDescription = "Activity prediction probabilities"
    probability.type.dictionaryType.stringKeyType.SetInParent()
    label = description.output.add()
    label.name = target
    label.shortDescription = "Class label of top prediction"
    label.type.stringType.SetInParent()
    _array_feature(description.output.add(), STATE_OUTPUT, "LSTM state output", STATE_SIZE)
    description.predictedFeatureName = target
    description.predictedProbabilitiesName = probability_output(target)

    version = motionlab_version()
    metadata = description.metadata
    metadata.shortDescription = (
        short_description or f"Activity classifier created by motionlab (version {version})"
    )
    metadata.author = author or ""
    metadata.license = license or ""
    metadata.versionString = version_string or ""
    metadata.userDefined.update(
        {
            "features": ",".join(features),
            "max_iterations": str(int(max_iterations)),
            "prediction_window": str(int(prediction_window)),
            "session_id": str(session_id),
            "target": target,
            "type": "activity_classifier",
            "version": EXPORT_FORMAT_VERSION,
            MOTIONLAB_VERSION_KEY: version,
        }
    )
    if run_id is not None:
        metadata.userDefined[RUN_ID_KEY] = str(run_id)

    classifier = spec.neuralNetworkClassifier
    classifier.stringClassLabels.vector.extend(labels)
    classifier.labelProbabilityLayerName = probability_output(target)
    weights = _network_weights(net)
    for planned in layer_plan(features, target):
        layer = classifier.layers.add()
        layer.name = planned.name
        layer.input.extend(planned.inputs)
        layer.output.extend(planned.outputs)
        _fill_layer(layer, planned.kind, weights, len(features), prediction_window, len(labels))
    return spec


def export_coreml(
    net: ActivityNet,
    path: str | os.PathLike[str],
    *,
    classes: Sequence[Any],
    features: Sequence[str],
    target: str,
    session_id: str,
    prediction_window: int,
    max_iterations: int,
    run_id: str | None = None,
    short_description: str | None = None,
    author: str | None = None,
    license: str | None = None,
    version_string: str | None = None,
) -> Path:
    """Write the `.mlmodel` for `net` atomically (see build_spec) and return its path."""
    spec = build_spec(
        net,
        classes=classes,
        features=features,
        target=target,
        session_id=session_id,
        prediction_window=prediction_window,
        max_iterations=max_iterations,
        run_id=run_id,
        short_description=short_description,
        author=author,
        license=license,
        version_string=version_string,
    )
    return save_spec_atomically(spec, path)


def model_spec(
    model: ActivityClassifier, *, inputs: Sequence[str] | None = None, **metadata: str | None
) -> Model_pb2.Model:
    """The spec of a trained classifier, its inputs named `inputs` (default: its features);
    metadata: run_id, short_description, author, license, version_string. Everything else
    (classes, features, window…) is read off the model."""
    return build_spec(
        model.net,
        classes=model.classes,
        features=inputs or model.features,
        target=model.target,
        session_id=model.session_id,
        prediction_window=model.prediction_window,
        max_iterations=model.max_iterations,
        **metadata,
    )


def export_model(
    model: ActivityClassifier, path: str | os.PathLike[str], **metadata: str | None
) -> Path:
    """Write the `.mlmodel` of a trained classifier (see model_spec)."""
    return save_spec_atomically(model_spec(model, **metadata), path)


def _validate(
    net: ActivityNet, *, labels: list[str], features: list[str], target: str, window: int
) -> None:
    """Mismatches would give a file Core ML rejects, or one that silently mislabels."""
    if net.conv.in_channels != len(features):
        raise ValueError(f"the network has {net.conv.in_channels} features, got {features}")
    if net.prediction_window != window:
        raise ValueError(
            f"the network's prediction_window is {net.prediction_window}, not {window}"
        )
    if not np.isclose(net.bn.eps, BATCHNORM_EPSILON):
        raise ValueError(f"the network's BatchNorm epsilon is {net.bn.eps}, the export writes 1e-3")
    if net.dense1.out_features != len(labels):
        raise ValueError(f"the network has {net.dense1.out_features} classes, got {len(labels)}")
    if len(set(labels)) != len(labels):
        raise ValueError(f"class labels are not unique as strings: {labels}")
    if not target or any(not f for f in features):
        raise ValueError("feature and target names must be non-empty")
    interface = [*features, STATE_INPUT, probability_output(target), target, STATE_OUTPUT]
    if len(set(interface)) != len(interface):
        raise ValueError(f"input / output names collide: {interface}")
    # A feature named like an internal blob would be overwritten by that layer's output.
    internal = {out for layer in layer_plan(features, target) for out in layer.outputs}
    clashes = sorted(set(features) & internal)
    if clashes:
        raise ValueError(f"feature names {clashes} are reserved by the Core ML network's layers")


def _array_feature(feature: Model_pb2.FeatureDescription, name: str, text: str, size: int) -> None:
    feature.name = name
    feature.shortDescription = text
    feature.type.multiArrayType.shape.append(size)
    feature.type.multiArrayType.dataType = FeatureTypes_pb2.ArrayFeatureType.DOUBLE


def _network_weights(net: ActivityNet) -> dict[str, np.ndarray]:
    """Every tensor the spec needs, as float32 in Core ML's layout."""
    tensors: dict[str, torch.Tensor] = {
        # Conv1d (64, F, pw) → Core ML [64][F][1][pw]: the height axis is 1.
        "conv.weight": net.conv.weight.unsqueeze(2),
        "conv.bias": tensor(net.conv.bias),
        "dense0.weight": net.dense0.weight,  # (128, 200): Core ML's [out][in] already
        "dense0.bias": net.dense0.bias,
        "bn.gamma": net.bn.weight,
        "bn.beta": net.bn.bias,
        "bn.mean": tensor(net.bn.running_mean),
        "bn.variance": tensor(net.bn.running_var),
        "dense1.weight": net.dense1.weight,  # (C, 128)
    }
    weight_ih, weight_hh, bias_ih, bias_hh = lstm_parameters(net.lstm)
    # PyTorch stacks the gates (i, f, g, o) along dim 0 of (800, ·); Core ML keeps one
    # [200][in] matrix per gate, with g called the block input. Core ML has one bias per gate.
    input_weights = weight_ih.chunk(4, dim=0)  # 4 × (200, 64)
    recurrent_weights = weight_hh.chunk(4, dim=0)  # 4 × (200, 200)
    biases = (bias_ih + bias_hh).chunk(4, dim=0)  # 4 × (200,)
    for gate, w_in, w_rec, bias in zip(
        LSTM_GATES, input_weights, recurrent_weights, biases, strict=True
    ):
        tensors[f"lstm.{gate}WeightMatrix"] = w_in
        tensors[f"lstm.{gate}RecursionMatrix"] = w_rec
        tensors[f"lstm.{gate}BiasVector"] = bias
    return {k: t.detach().cpu().float().numpy() for k, t in tensors.items()}


def _put(params: NeuralNetwork_pb2.WeightParams, array: np.ndarray) -> None:
    params.floatValue.extend(np.ascontiguousarray(array, dtype=np.float32).ravel().tolist())


def _fill_layer(
    layer: NeuralNetwork_pb2.NeuralNetworkLayer,
    kind: str,
    weights: dict[str, np.ndarray],
    num_features: int,
    window: int,
    num_classes: int,
) -> None:
    """Layer parameters exactly as Turi Create's model_spec writes them (rank-5 semantics)."""
    if kind == "concat":
        layer.concat.SetInParent()  # along channels; the default, sequenceConcat false
    elif kind == "reshape":
        # (F·pw, 1, 1) → (Seq 1, C = F, H = 1, W = pw): channel = feature, width = time.
        layer.reshape.targetShape.extend([1, num_features, 1, window])
        layer.reshape.mode = NeuralNetwork_pb2.ReshapeLayerParams.CHANNEL_FIRST
    elif kind == "convolution":
        conv = layer.convolution
        conv.outputChannels = CONV_CHANNELS
        conv.kernelChannels = num_features
        conv.nGroups = 1
        conv.kernelSize.extend([1, window])
        conv.stride.extend([1, window])
        conv.dilationFactor.extend([1, 1])
        conv.valid.paddingAmounts.borderAmounts.add()
        conv.valid.paddingAmounts.borderAmounts.add()
        conv.hasBias = True
        _put(conv.weights, weights["conv.weight"])
        _put(conv.bias, weights["conv.bias"])
    elif kind == "activation":
        layer.activation.ReLU.SetInParent()
    elif kind == "slice":
        start = 0 if layer.name == "hiddenIn" else LSTM_HIDDEN  # state = [h, c]
        layer.slice.startIndex = start
        layer.slice.endIndex = start + LSTM_HIDDEN
        layer.slice.stride = 1
        layer.slice.axis = NeuralNetwork_pb2.SliceLayerParams.CHANNEL_AXIS
    elif kind == "uniDirectionalLSTM":
        lstm = layer.uniDirectionalLSTM
        lstm.inputVectorSize = CONV_CHANNELS
        lstm.outputVectorSize = LSTM_HIDDEN
        lstm.activations.add().sigmoid.SetInParent()  # gates
        lstm.activations.add().tanh.SetInParent()  # block input
        lstm.activations.add().tanh.SetInParent()  # cell output
        lstm.params.hasBiasVectors = True
        lstm.params.cellClipThreshold = CELL_CLIP_THRESHOLD
        # sequenceOutput and forgetBias stay false: one step per call, bias taken as trained.
        for field in NeuralNetwork_pb2.LSTMWeightParams.DESCRIPTOR.fields:
            if "Peephole" not in field.name:
                _put(getattr(lstm.weightParams, field.name), weights[f"lstm.{field.name}"])
    elif kind == "innerProduct":
        dense = layer.innerProduct
        is_first = layer.name == "dense0"
        dense.inputChannels = LSTM_HIDDEN if is_first else DENSE_HIDDEN
        dense.outputChannels = DENSE_HIDDEN if is_first else num_classes
        _put(dense.weights, weights[f"{layer.name}.weight"])
        if is_first:  # dense1 has no bias (spec §2.1)
            dense.hasBias = True
            _put(dense.bias, weights["dense0.bias"])
    elif kind == "batchnorm":
        bn = layer.batchnorm
        bn.channels = DENSE_HIDDEN
        bn.epsilon = BATCHNORM_EPSILON
        for name in ("gamma", "beta", "mean", "variance"):
            _put(getattr(bn, name), weights[f"bn.{name}"])
    elif kind == "softmax":
        layer.softmax.SetInParent()
    else:  # pragma: no cover - layer_plan and this function change together
        raise AssertionError(f"no parameters known for layer kind {kind!r}")
