"""Structural checks of an exported `.mlmodel` against Turi Create 6.4's interface (spec §4).

`check_interface` lists every difference as one precise sentence (empty list = conforms);
`require_interface` raises InterfaceError with that list. Weights are checked for size only;
their values are proven by running the NumPy evaluator against the torch network.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from coremltools.models.utils import load_spec
from coremltools.proto import FeatureTypes_pb2, Model_pb2

from workers.exports.coreml.interface import (
    BATCHNORM_EPSILON,
    CELL_CLIP_THRESHOLD,
    EXPORT_FORMAT_VERSION,
    MOTIONLAB_VERSION_KEY,
    SPECIFICATION_VERSION,
    STATE_INPUT,
    STATE_OUTPUT,
    layer_plan,
    probability_output,
)
from workers.model.shape import CONV_CHANNELS, DENSE_HIDDEN, LSTM_HIDDEN, STATE_SIZE

DOUBLE = FeatureTypes_pb2.ArrayFeatureType.DOUBLE
LSTM_GATES = ("inputGate", "forgetGate", "blockInput", "outputGate")


class InterfaceError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__(
            "the Core ML model does not match the interface:\n- " + "\n- ".join(problems)
        )
        self.problems = problems


def require_interface(spec: Model_pb2.Model | str | os.PathLike[str], **expected: Any) -> None:
    """check_interface, raising InterfaceError when anything differs."""
    problems = check_interface(spec, **expected)
    if problems:
        raise InterfaceError(problems)


def check_interface(
    spec: Model_pb2.Model | str | os.PathLike[str],
    *,
    features: Sequence[str],
    target: str,
    prediction_window: int,
    classes: Sequence[Any],
) -> list[str]:
    """Every way `spec` differs from the interface an app written for Turi Create expects."""
    if not isinstance(spec, Model_pb2.Model):
        spec = load_spec(os.fspath(spec))
    features = [str(f) for f in features]
    problems: list[str] = []

    def expect(what: str, actual: Any, wanted: Any) -> None:
        if actual != wanted:
            problems.append(f"{what}: {actual!r}, expected {wanted!r}")

    expect("specificationVersion", spec.specificationVersion, SPECIFICATION_VERSION)
    expect("model type", spec.WhichOneof("Type"), "neuralNetworkClassifier")
    description = spec.description
    probability = probability_output(target)

    expect("input names", [f.name for f in description.input], [*features, STATE_INPUT])
    wanted_inputs = {name: (prediction_window, f"{name} window input") for name in features}
    wanted_inputs[STATE_INPUT] = (STATE_SIZE, "LSTM state input")
    for feature in description.input:
        if feature.name in wanted_inputs:
            size, text = wanted_inputs[feature.name]
            _check_array(expect, f"input {feature.name!r}", feature, size, text)

    expect(
        "output names", [f.name for f in description.output], [probability, target, STATE_OUTPUT]
    )
    for feature in description.output:
        where = f"output {feature.name!r}"
        expect(f"{where} optional", feature.type.isOptional, False)
        if feature.name == probability:
            expect(f"{where} type", feature.type.WhichOneof("Type"), "dictionaryType")
            key_type = feature.type.dictionaryType.WhichOneof("KeyType")
            expect(f"{where} key type", key_type, "stringKeyType")
            expect(
                f"{where} description",
                feature.shortDescription,
                "Activity prediction probabilities",
            )
        elif feature.name == target:
            expect(f"{where} type", feature.type.WhichOneof("Type"), "stringType")
            expect(
                f"{where} description", feature.shortDescription, "Class label of top prediction"
            )
        elif feature.name == STATE_OUTPUT:
            _check_array(expect, where, feature, STATE_SIZE, "LSTM state output")
    expect("predictedFeatureName", description.predictedFeatureName, target)
    expect("predictedProbabilitiesName", description.predictedProbabilitiesName, probability)

    classifier = spec.neuralNetworkClassifier
    expect("class label type", classifier.WhichOneof("ClassLabels"), "stringClassLabels")
    expect(
        "stringClassLabels", list(classifier.stringClassLabels.vector), [str(c) for c in classes]
    )
    expect("labelProbabilityLayerName", classifier.labelProbabilityLayerName, probability)
    expect("preprocessing", len(classifier.preprocessing), 0)

    plan = layer_plan(features, target)
    layers = list(classifier.layers)
    expect("layer names", [layer.name for layer in layers], [p.name for p in plan])
    for planned, layer in zip(plan, layers, strict=False):
        where = f"layer {layer.name!r}"
        expect(f"{where} type", layer.WhichOneof("layer"), planned.kind)
        expect(f"{where} inputs", tuple(layer.input), planned.inputs)
        expect(f"{where} outputs", tuple(layer.output), planned.outputs)
        if layer.WhichOneof("layer") == planned.kind:
            wanted = _wanted_parameters(layer.name, len(features), prediction_window, len(classes))
            for key, value in wanted.items():
                expect(f"{where} {key}", _parameter(layer, key), value)

    user = dict(description.metadata.userDefined)
    wanted_metadata = {
        "features": ",".join(features),
        "prediction_window": str(prediction_window),
        "target": target,
        "type": "activity_classifier",
        "version": EXPORT_FORMAT_VERSION,
    }
    for key, value in wanted_metadata.items():
        expect(f"metadata {key!r}", user.get(key), value)
    for key in ("session_id", "max_iterations", MOTIONLAB_VERSION_KEY):
        if not user.get(key):
            problems.append(f"metadata {key!r} is missing")
    return problems


def _check_array(expect: Any, where: str, feature: Any, size: int, text: str) -> None:
    expect(f"{where} type", feature.type.WhichOneof("Type"), "multiArrayType")
    expect(f"{where} data type", feature.type.multiArrayType.dataType, DOUBLE)
    expect(f"{where} shape", list(feature.type.multiArrayType.shape), [size])
    expect(f"{where} optional", feature.type.isOptional, False)
    expect(f"{where} description", feature.shortDescription, text)


def _wanted_parameters(name: str, num_features: int, window: int, num_classes: int) -> dict:
    """Spec §4.2's parameters per layer name; dotted keys are paths into the layer message."""
    lstm_weights = {
        f"weightParams.{g}WeightMatrix": LSTM_HIDDEN * CONV_CHANNELS for g in LSTM_GATES
    }
    lstm_weights |= {f"weightParams.{g}RecursionMatrix": LSTM_HIDDEN**2 for g in LSTM_GATES}
    lstm_weights |= {f"weightParams.{g}BiasVector": LSTM_HIDDEN for g in LSTM_GATES}
    slice_start = 0 if name == "hiddenIn" else LSTM_HIDDEN  # state = [h, c]
    state_slice = {
        "slice.startIndex": slice_start,
        "slice.endIndex": slice_start + LSTM_HIDDEN,
        "slice.stride": 1,
        "slice.axis": 0,  # CHANNEL_AXIS
    }
    wanted: dict[str, dict[str, Any]] = {
        "features": {"concat.sequenceConcat": False},
        "reshape": {"reshape.targetShape": [1, num_features, 1, window], "reshape.mode": 0},
        "conv": {
            "convolution.outputChannels": CONV_CHANNELS,
            "convolution.kernelChannels": num_features,
            "convolution.nGroups": 1,
            "convolution.kernelSize": [1, window],
            "convolution.stride": [1, window],
            "convolution.dilationFactor": [1, 1],
            "convolution.padding": "valid",
            "convolution.isDeconvolution": False,
            "convolution.hasBias": True,
            "convolution.weights": CONV_CHANNELS * num_features * window,
            "convolution.bias": CONV_CHANNELS,
        },
        "relu1": {"activation.type": "ReLU"},
        "relu6": {"activation.type": "ReLU"},
        "hiddenIn": state_slice,
        "cellIn": state_slice,
        "lstm": {
            "uniDirectionalLSTM.inputVectorSize": CONV_CHANNELS,
            "uniDirectionalLSTM.outputVectorSize": LSTM_HIDDEN,
            "uniDirectionalLSTM.activations": ["sigmoid", "tanh", "tanh"],
            "uniDirectionalLSTM.reverseInput": False,
            "uniDirectionalLSTM.params.sequenceOutput": False,
            "uniDirectionalLSTM.params.hasBiasVectors": True,
            "uniDirectionalLSTM.params.forgetBias": False,
            "uniDirectionalLSTM.params.hasPeepholeVectors": False,
            "uniDirectionalLSTM.params.coupledInputAndForgetGate": False,
            "uniDirectionalLSTM.params.cellClipThreshold": CELL_CLIP_THRESHOLD,
            **{f"uniDirectionalLSTM.{key}": size for key, size in lstm_weights.items()},
        },
        STATE_OUTPUT: {"concat.sequenceConcat": False},
        "dense0": _dense(LSTM_HIDDEN, DENSE_HIDDEN, has_bias=True),
        "bn": {
            "batchnorm.channels": DENSE_HIDDEN,
            "batchnorm.epsilon": BATCHNORM_EPSILON,
            "batchnorm.computeMeanVar": False,
            "batchnorm.instanceNormalization": False,
            **{f"batchnorm.{v}": DENSE_HIDDEN for v in ("gamma", "beta", "mean", "variance")},
        },
        "dense1": _dense(DENSE_HIDDEN, num_classes, has_bias=False),
    }
    return wanted.get(name, {})


def _dense(n_in: int, n_out: int, *, has_bias: bool) -> dict[str, Any]:
    return {
        "innerProduct.inputChannels": n_in,
        "innerProduct.outputChannels": n_out,
        "innerProduct.hasBias": has_bias,
        "innerProduct.weights": n_in * n_out,
        "innerProduct.bias": n_out if has_bias else 0,
    }


def _parameter(layer: Any, path: str) -> Any:
    """A layer parameter by dotted path, in a comparable form (sizes for weight arrays)."""
    value = layer
    for part in path.split("."):
        if part == "padding":
            return value.WhichOneof("ConvolutionPaddingType")
        if part == "type":
            return value.WhichOneof("NonlinearityType")
        value = getattr(value, part)
    if path.endswith("activations"):
        return [a.WhichOneof("NonlinearityType") for a in value]
    if hasattr(value, "floatValue"):  # WeightParams
        return len(value.floatValue)
    if isinstance(value, float):  # float32 fields: compare at float32 precision
        return round(value, 6)
    return list(value) if hasattr(value, "__len__") and not isinstance(value, str) else value
