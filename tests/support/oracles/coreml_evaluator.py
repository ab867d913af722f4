"""A small NumPy evaluator for the `.mlmodel` files the exporter writes (a test oracle).

Core ML does not run on Linux, so this is how the project proves an exported file predicts
what the trained network predicts. It executes exactly the layer types export.py emits, with
Core ML's rank-5 semantics (every blob is (C, H, W) for one sequence step, batch 1), in float64.
Anything else (another layer type, a non-default parameter it does not model, a quantised
weight) raises UnsupportedSpecError instead of being silently mis-evaluated.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from coremltools.models.utils import load_spec
from coremltools.proto import FeatureTypes_pb2, Model_pb2
from coremltools.proto import NeuralNetwork_pb2 as NN

from workers.exports.coreml.interface import STATE_INPUT, STATE_OUTPUT
from workers.exports.coreml.network import UnsupportedSpecError

Blob = np.ndarray  # (C, H, W), float64
LayerFn = Callable[[list[Blob]], list[Blob]]


@dataclass
class SessionPrediction:
    probabilities: np.ndarray  # (windows, C), columns in class-label order
    labels: list[str]  # top class per window
    state: np.ndarray  # (400,) stateOut after the last window


class CoreMLEvaluator:
    """Runs one window at a time: predict({feature: (pw,), ..., "stateIn": (400,)}) → outputs."""

    def __init__(self, model: str | os.PathLike[str] | Model_pb2.Model):
        spec = model if isinstance(model, Model_pb2.Model) else load_spec(os.fspath(model))
        if spec.WhichOneof("Type") != "neuralNetworkClassifier":
            raise UnsupportedSpecError(
                f"model type {spec.WhichOneof('Type')!r}; only neuralNetworkClassifier is supported"
            )
        _only(spec, {"specificationVersion", "description", "neuralNetworkClassifier"}, "model")
        classifier = spec.neuralNetworkClassifier
        _only(
            classifier, {"layers", "stringClassLabels", "labelProbabilityLayerName"}, "classifier"
        )
        description = spec.description
        _only(
            description,
            {"input", "output", "metadata", "predictedFeatureName", "predictedProbabilitiesName"},
            "description",
        )
        self.class_labels = list(classifier.stringClassLabels.vector)
        self.input_sizes = {f.name: _array_size(f) for f in description.input}
        self.outputs = list(description.output)
        self.predicted_feature = description.predictedFeatureName
        self.probabilities_name = description.predictedProbabilitiesName
        self.features = [name for name in self.input_sizes if name != STATE_INPUT]
        self.state_size = self.input_sizes.get(STATE_INPUT, 0)
        self._layers = [_compile(layer) for layer in classifier.layers]
        self._probability_blob = classifier.labelProbabilityLayerName or (
            classifier.layers[-1].output[0] if classifier.layers else ""
        )

    @property
    def prediction_window(self) -> int:
        return self.input_sizes[self.features[0]]

    def predict(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Every declared output: probability dict, top label (str), other arrays flattened."""
        missing = sorted(set(self.input_sizes) - set(inputs))
        unknown = sorted(set(inputs) - set(self.input_sizes))
        if missing or unknown:
            raise ValueError(f"inputs missing {missing}, unknown {unknown}")
        blobs: dict[str, Blob] = {}
        for name, size in self.input_sizes.items():
            value = np.asarray(inputs[name], dtype=np.float64)
            if value.shape != (size,):
                raise ValueError(f"input {name!r} has shape {value.shape}; expected ({size},)")
            blobs[name] = value.reshape(size, 1, 1)  # rank-5 mapping of a 1-D array: channels
        for name, input_names, output_names, run in self._layers:
            absent = [blob for blob in input_names if blob not in blobs]
            if absent:
                raise UnsupportedSpecError(f"layer {name!r} reads undefined blobs {absent}")
            results = run([blobs[blob] for blob in input_names])
            blobs.update(zip(output_names, results, strict=True))

        probabilities = blobs[self._probability_blob].ravel()
        if probabilities.size != len(self.class_labels):
            raise UnsupportedSpecError(
                f"{probabilities.size} probabilities for {len(self.class_labels)} class labels"
            )
        outputs: dict[str, Any] = {}
        for output in self.outputs:
            if output.name == self.probabilities_name:
                outputs[output.name] = dict(
                    zip(self.class_labels, probabilities.tolist(), strict=True)
                )
            elif output.name == self.predicted_feature:
                outputs[output.name] = self.class_labels[int(np.argmax(probabilities))]
            elif output.name in blobs:
                outputs[output.name] = blobs[output.name].ravel()
            else:
                raise UnsupportedSpecError(f"output {output.name!r} is produced by no layer")
        return outputs

    def predict_session(
        self, rows: np.ndarray, *, reset_state_every: int | None = None
    ) -> SessionPrediction:
        """Stream a session (n, F) window by window, carrying stateOut → stateIn like an app.

        A partial last window is zero-padded (Turi Create's rule). With reset_state_every=20
        the state restarts from zero every 20 windows, which is Turi Create's batch predict.
        """
        rows = np.asarray(rows, dtype=np.float64)
        window = self.prediction_window
        if rows.ndim != 2 or rows.shape[1] != len(self.features) or rows.shape[0] == 0:
            raise ValueError(f"rows has shape {rows.shape}; expected (n>0, {len(self.features)})")
        num_windows = -(-rows.shape[0] // window)
        padded = np.zeros((num_windows * window, rows.shape[1]))  # (W·pw, F)
        padded[: rows.shape[0]] = rows
        state = np.zeros(self.state_size)
        probabilities, labels = [], []
        for index in range(num_windows):
            if reset_state_every and index % reset_state_every == 0:
                state = np.zeros(self.state_size)
            chunk = padded[index * window : (index + 1) * window]  # (pw, F)
            inputs = {name: chunk[:, column] for column, name in enumerate(self.features)}
            outputs = self.predict({**inputs, STATE_INPUT: state})
            probabilities.append([outputs[self.probabilities_name][c] for c in self.class_labels])
            labels.append(outputs[self.predicted_feature])
            state = outputs[STATE_OUTPUT]
        return SessionPrediction(np.array(probabilities), labels, state)


def _only(message: Any, allowed: set[str], where: str) -> None:
    """Fail on any field set to a non-default value that the evaluator does not model."""
    for field, value in message.ListFields():
        if field.name not in allowed:
            shown = "<message>" if field.message_type else value
            raise UnsupportedSpecError(f"{where}: unsupported parameter {field.name}={shown}")


def _array_size(feature: Model_pb2.FeatureDescription) -> int:
    array = feature.type.multiArrayType
    if feature.type.WhichOneof("Type") != "multiArrayType" or len(array.shape) != 1:
        raise UnsupportedSpecError(f"input {feature.name!r}: only 1-D MultiArrays are supported")
    if array.dataType != FeatureTypes_pb2.ArrayFeatureType.DOUBLE:
        raise UnsupportedSpecError(f"input {feature.name!r}: only DOUBLE arrays are supported")
    return int(array.shape[0])


def _floats(params: NN.WeightParams, size: int, where: str) -> np.ndarray:
    _only(params, {"floatValue"}, where)  # float16 / raw / quantised weights are not modelled
    if len(params.floatValue) != size:
        raise UnsupportedSpecError(f"{where}: {len(params.floatValue)} weights, expected {size}")
    return np.array(params.floatValue, dtype=np.float64)


def _compile(layer: NN.NeuralNetworkLayer) -> tuple[str, list[str], list[str], LayerFn]:
    """Validate one layer's parameters once and return the function that runs it."""
    kind = layer.WhichOneof("layer")
    where = f"layer {layer.name!r} ({kind})"
    _only(layer, {"name", "input", "output", kind}, where)
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise UnsupportedSpecError(f"{where}: layer type not supported by the evaluator")
    params = getattr(layer, kind)
    return layer.name, list(layer.input), list(layer.output), builder(params, where)


def _concat(params: NN.ConcatLayerParams, where: str) -> LayerFn:
    _only(params, set(), where)  # sequenceConcat=True is not modelled
    return lambda xs: [np.concatenate(xs, axis=0)]  # along C


def _reshape(params: NN.ReshapeLayerParams, where: str) -> LayerFn:
    _only(params, {"targetShape"}, where)  # mode CHANNEL_LAST is not modelled
    shape = list(params.targetShape)
    if len(shape) == 4 and shape[0] == 1:
        shape = shape[1:]  # one sequence step
    if len(shape) != 3:
        raise UnsupportedSpecError(f"{where}: target shape {list(params.targetShape)}")
    # CHANNEL_FIRST: flatten (C, H, W) in C order, then refill the target (C, H, W).
    return lambda xs: [xs[0].reshape(shape)]


def _convolution(params: NN.ConvolutionLayerParams, where: str) -> LayerFn:
    allowed = {"outputChannels", "kernelChannels", "nGroups", "kernelSize", "stride"}
    _only(params, allowed | {"dilationFactor", "valid", "hasBias", "weights", "bias"}, where)
    if params.nGroups not in (0, 1) or list(params.dilationFactor) not in ([], [1, 1]):
        raise UnsupportedSpecError(f"{where}: grouped or dilated convolution")
    if params.WhichOneof("ConvolutionPaddingType") != "valid" or any(
        b.startEdgeSize or b.endEdgeSize for b in params.valid.paddingAmounts.borderAmounts
    ):
        raise UnsupportedSpecError(f"{where}: only valid padding without border amounts")
    if len(params.kernelSize) != 2 or len(params.stride) != 2:
        raise UnsupportedSpecError(f"{where}: kernelSize and stride must both be [h, w]")
    kernel_h, kernel_w = params.kernelSize
    stride_h, stride_w = params.stride
    out_c, in_c = params.outputChannels, params.kernelChannels
    weight = _floats(params.weights, out_c * in_c * kernel_h * kernel_w, where)
    weight = weight.reshape(out_c, in_c, kernel_h, kernel_w)
    bias = _floats(params.bias, out_c, where) if params.hasBias else np.zeros(out_c)

    def run(xs: list[Blob]) -> list[Blob]:
        x = xs[0]  # (C_in, H, W)
        if x.shape[0] != in_c:
            raise ValueError(f"{where}: input has {x.shape[0]} channels, kernel {in_c}")
        patches = np.lib.stride_tricks.sliding_window_view(x, (kernel_h, kernel_w), axis=(1, 2))
        patches = patches[:, ::stride_h, ::stride_w]  # (C_in, H_out, W_out, kh, kw)
        out = np.einsum("chwij,ocij->ohw", patches, weight)  # (C_out, H_out, W_out)
        return [out + bias[:, None, None]]

    return run


def _activation(params: NN.ActivationParams, where: str) -> LayerFn:
    if params.WhichOneof("NonlinearityType") != "ReLU":
        raise UnsupportedSpecError(
            f"{where}: only ReLU, not {params.WhichOneof('NonlinearityType')}"
        )
    return lambda xs: [np.maximum(xs[0], 0.0)]


def _slice(params: NN.SliceLayerParams, where: str) -> LayerFn:
    _only(params, {"startIndex", "endIndex", "stride"}, where)  # axis CHANNEL (the default)
    start, end, stride = params.startIndex, params.endIndex, params.stride
    if start < 0 or end <= start or stride < 1:  # negative (from-the-end) indices not modelled
        raise UnsupportedSpecError(f"{where}: slice [{start}:{end}:{stride}]")

    def run(xs: list[Blob]) -> list[Blob]:
        if end > xs[0].shape[0]:
            raise ValueError(f"{where}: slice end {end} beyond {xs[0].shape[0]} channels")
        return [xs[0][start:end:stride]]

    return run


def _lstm(params: NN.UniDirectionalLSTMLayerParams, where: str) -> LayerFn:
    allowed = {"inputVectorSize", "outputVectorSize", "activations", "params", "weightParams"}
    _only(params, allowed, where)  # reverseInput is not modelled
    _only(params.params, {"hasBiasVectors", "cellClipThreshold"}, where)
    activations = [a.WhichOneof("NonlinearityType") for a in params.activations]
    if activations != ["sigmoid", "tanh", "tanh"]:
        raise UnsupportedSpecError(f"{where}: activations {activations}")
    clip = params.params.cellClipThreshold
    if clip <= 0:  # Core ML's behaviour for an unset (0) threshold is not modelled
        raise UnsupportedSpecError(f"{where}: cellClipThreshold {clip}")
    n_in, n_out = params.inputVectorSize, params.outputVectorSize
    w = params.weightParams
    gates = ("inputGate", "forgetGate", "blockInput", "outputGate")
    matrix_fields = [f"{g}WeightMatrix" for g in gates] + [f"{g}RecursionMatrix" for g in gates]
    bias_fields = [f"{g}BiasVector" for g in gates] if params.params.hasBiasVectors else []
    _only(w, set(matrix_fields + bias_fields), where)  # peephole vectors are not modelled
    w_in = np.stack(
        [_floats(getattr(w, f"{g}WeightMatrix"), n_out * n_in, where) for g in gates]
    ).reshape(4 * n_out, n_in)  # (4·200, 64), rows [i, f, z, o]
    w_rec = np.stack(
        [_floats(getattr(w, f"{g}RecursionMatrix"), n_out * n_out, where) for g in gates]
    ).reshape(4 * n_out, n_out)  # (4·200, 200)
    bias = np.zeros(4 * n_out)
    if bias_fields:
        bias = np.concatenate([_floats(getattr(w, f), n_out, where) for f in bias_fields])

    def sigmoid(v: np.ndarray) -> np.ndarray:
        return 0.5 * (1.0 + np.tanh(0.5 * v))  # overflow-free form

    def run(xs: list[Blob]) -> list[Blob]:
        if len(xs) != 3:
            raise UnsupportedSpecError(f"{where}: expects inputs (x, hidden, cell)")
        x, h, c = (v.reshape(-1) for v in xs)  # (64,), (200,), (200,)
        if x.size != n_in or h.size != n_out or c.size != n_out:
            raise ValueError(f"{where}: input sizes {x.size}, {h.size}, {c.size}")
        pre = w_in @ x + w_rec @ h + bias  # (800,)
        i, f, z, o = np.split(pre, 4)
        c = np.clip(sigmoid(f) * c + sigmoid(i) * np.tanh(z), -clip, clip)  # (200,)
        h = sigmoid(o) * np.tanh(c)  # (200,)
        # sequenceOutput false: the output is the last step's h.
        return [v.reshape(n_out, 1, 1) for v in (h, h, c)]

    return run


def _inner_product(params: NN.InnerProductLayerParams, where: str) -> LayerFn:
    _only(params, {"inputChannels", "outputChannels", "hasBias", "weights", "bias"}, where)
    n_in, n_out = params.inputChannels, params.outputChannels
    weight = _floats(params.weights, n_out * n_in, where).reshape(n_out, n_in)
    bias = _floats(params.bias, n_out, where) if params.hasBias else np.zeros(n_out)

    def run(xs: list[Blob]) -> list[Blob]:
        if xs[0].shape != (n_in, 1, 1):
            raise ValueError(f"{where}: input shape {xs[0].shape}, expected ({n_in}, 1, 1)")
        return [(weight @ xs[0].reshape(n_in) + bias).reshape(n_out, 1, 1)]

    return run


def _batchnorm(params: NN.BatchnormLayerParams, where: str) -> LayerFn:
    # computeMeanVar / instanceNormalization (statistics from the input) are not modelled.
    _only(params, {"channels", "epsilon", "gamma", "beta", "mean", "variance"}, where)
    n = params.channels
    gamma, beta, mean, variance = (
        _floats(getattr(params, name), n, where) for name in ("gamma", "beta", "mean", "variance")
    )
    scale = gamma / np.sqrt(variance + params.epsilon)
    shift = beta - mean * scale
    return lambda xs: [xs[0] * scale[:, None, None] + shift[:, None, None]]


def _softmax(params: NN.SoftmaxLayerParams, where: str) -> LayerFn:
    def run(xs: list[Blob]) -> list[Blob]:
        shifted = np.exp(xs[0] - xs[0].max(axis=0, keepdims=True))  # over C
        return [shifted / shifted.sum(axis=0, keepdims=True)]

    return run


_BUILDERS: dict[str | None, Callable[[Any, str], LayerFn]] = {
    "concat": _concat,
    "reshape": _reshape,
    "convolution": _convolution,
    "activation": _activation,
    "slice": _slice,
    "uniDirectionalLSTM": _lstm,
    "innerProduct": _inner_product,
    "batchnorm": _batchnorm,
    "softmax": _softmax,
}
