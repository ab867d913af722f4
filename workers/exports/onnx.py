"""ONNX export with the Core ML file's streaming interface (Android, the web, anything ORT runs).

Built node by node with onnx.helper from the `.mlmodel`'s weights (coreml/network.py), not with
torch.onnx.export: the graph is small and fixed, this covers Turi Create runs too (they have no
torch network), and it can emit the label as a string, which tracing cannot.

Interface (stable; docs/exports.md's Kotlin snippet uses it):
- inputs: one float32 tensor [prediction_window] per feature, named after the feature (as in
  the Core ML file), and `stateIn` float32 [400] (LSTM hidden 200, then cell 200);
- outputs: `<target>Probability` float32 [classes] (class-label order), `<target>` string [1]
  (the top class) and `stateOut` float32 [400];
- metadata_props: `classes` (JSON list, output order), `features`, `prediction_window`,
  `target` and the rest of the Core ML file's metadata.

The `.mlmodel`'s LSTM clips its cell state to ±50000 (Turi Create's cellClipThreshold); the
ONNX and ML Program LSTMs have no such clip (ONNX's `clip` bounds gate inputs instead). It
never acts: each window adds less than 1 in magnitude to the cell (|f·c + i·z| ≤ |c| + 1), so
the cell stays under the number of windows since the state was zero (20 with the reset).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from core.atomic import atomic_path
from workers.exports.coreml.interface import MOTIONLAB_VERSION_KEY, STATE_INPUT, STATE_OUTPUT
from workers.exports.coreml.network import ActivityNetwork, probability_name, read_network
from workers.model.shape import CONV_CHANNELS, LSTM_HIDDEN, STATE_SIZE

OPSET = 17  # ONNX Runtime 1.14+ (Android, web) runs it
IR_VERSION = 8  # what ONNX Runtime Mobile of the same era loads
CLASSES_KEY = "classes"
# Core ML keeps LSTM gates (input, forget, block input, output); ONNX wants (i, o, f, c).
ONNX_GATE_ORDER = (0, 3, 1, 2)


def build_onnx(network: ActivityNetwork, **extra_metadata: str) -> onnx.ModelProto:
    """The ONNX model of `network`; `extra_metadata` (engine, recipe, run id…) joins its
    metadata_props."""
    window, num_features = network.prediction_window, len(network.features)
    num_classes = len(network.classes)
    probabilities, label = probability_name(network), network.target
    constants = {
        # Conv1d with kernel = stride = window over one window is one dense layer over the
        # (F, pw) rows flattened feature-major, which is how the inputs are concatenated.
        "conv_weight": network.conv_weight.reshape(CONV_CHANNELS, num_features * window),
        "conv_bias": network.conv_bias,
        "lstm_W": _onnx_gates(network.lstm_input_weight)[None],  # (1, 800, 64)
        "lstm_R": _onnx_gates(network.lstm_recurrent_weight)[None],  # (1, 800, 200)
        # Core ML has one bias per gate; ONNX adds an input and a recurrent bias.
        "lstm_B": np.concatenate(
            [_onnx_gates(network.lstm_bias), np.zeros(4 * LSTM_HIDDEN, np.float32)]
        )[None],  # (1, 1600)
        "dense0_weight": network.dense0_weight,
        "dense0_bias": network.dense0_bias,
        "bn_gamma": network.bn_gamma,
        "bn_beta": network.bn_beta,
        "bn_mean": network.bn_mean,
        "bn_variance": network.bn_variance,
        "dense1_weight": network.dense1_weight,
        "shape_row": np.array([1, -1], np.int64),
        "shape_step": np.array([1, 1, -1], np.int64),  # (seq, batch, ·)
        "shape_flat": np.array([-1], np.int64),
        "hidden_start": np.array([0], np.int64),
        "hidden_end": np.array([LSTM_HIDDEN], np.int64),
        "cell_start": np.array([LSTM_HIDDEN], np.int64),
        "cell_end": np.array([STATE_SIZE], np.int64),
        "slice_axis": np.array([0], np.int64),
    }
    initializers = [numpy_helper.from_array(np.asarray(v), name) for name, v in constants.items()]
    labels = np.array([label.encode() for label in network.classes], dtype=object)  # UTF-8
    initializers.append(numpy_helper.from_array(labels, "class_labels"))
    rows = [f"{feature}.row" for feature in network.features]
    nodes = [
        *(
            helper.make_node("Reshape", [feature, "shape_row"], [row])  # (1, pw)
            for feature, row in zip(network.features, rows, strict=True)
        ),
        helper.make_node("Concat", rows, ["window"], axis=0),  # (F, pw)
        helper.make_node("Reshape", ["window", "shape_row"], ["window_flat"]),  # (1, F·pw)
        helper.make_node(
            "Gemm", ["window_flat", "conv_weight", "conv_bias"], ["conv"], transB=1
        ),  # (1, 64)
        helper.make_node("Relu", ["conv"], ["relu1"]),
        helper.make_node("Reshape", ["relu1", "shape_step"], ["lstm_x"]),  # (1, 1, 64)
        *_state_slice("hidden"),
        *_state_slice("cell"),
        helper.make_node(
            "LSTM",
            ["lstm_x", "lstm_W", "lstm_R", "lstm_B", "", "hidden_in", "cell_in"],
            ["", "hidden_out", "cell_out"],  # 2 × (1, 1, 200)
            hidden_size=LSTM_HIDDEN,
        ),
        helper.make_node("Reshape", ["hidden_out", "shape_flat"], ["hidden_flat"]),
        helper.make_node("Reshape", ["cell_out", "shape_flat"], ["cell_flat"]),
        helper.make_node("Concat", ["hidden_flat", "cell_flat"], [STATE_OUTPUT], axis=0),
        helper.make_node("Reshape", ["hidden_out", "shape_row"], ["lstm"]),  # (1, 200)
        helper.make_node(
            "Gemm", ["lstm", "dense0_weight", "dense0_bias"], ["dense0"], transB=1
        ),  # (1, 128)
        helper.make_node(
            "BatchNormalization",
            ["dense0", "bn_gamma", "bn_beta", "bn_mean", "bn_variance"],
            ["bn"],
            epsilon=network.bn_epsilon,
        ),
        helper.make_node("Relu", ["bn"], ["relu6"]),
        helper.make_node("Gemm", ["relu6", "dense1_weight"], ["dense1"], transB=1),  # (1, C)
        helper.make_node("Softmax", ["dense1"], ["softmax"], axis=-1),
        helper.make_node("Reshape", ["softmax", "shape_flat"], [probabilities]),  # (C,)
        helper.make_node("ArgMax", [probabilities], ["top"], axis=0, keepdims=1),  # (1,)
        helper.make_node("Gather", ["class_labels", "top"], [label], axis=0),  # (1,) string
    ]
    graph = helper.make_graph(
        nodes,
        "activity_classifier",
        inputs=[
            *(_float_info(f, window) for f in network.features),
            _float_info(STATE_INPUT, STATE_SIZE),
        ],
        outputs=[
            _float_info(probabilities, num_classes),
            helper.make_tensor_value_info(label, TensorProto.STRING, [1]),
            _float_info(STATE_OUTPUT, STATE_SIZE),
        ],
        initializer=initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
        producer_name="motionlab",
        producer_version=network.metadata.get(MOTIONLAB_VERSION_KEY, ""),
        doc_string=network.short_description,
    )
    metadata = {
        **network.metadata,
        CLASSES_KEY: json.dumps(network.classes),
        "author": network.author,
        "license": network.license,
        "version_string": network.version_string,
        **extra_metadata,
    }
    helper.set_model_props(model, {k: str(v) for k, v in metadata.items() if v})
    onnx.checker.check_model(model, full_check=True)
    return model


def export_onnx(
    mlmodel: str | os.PathLike[str], path: str | os.PathLike[str], **extra_metadata: str
) -> Path:
    """Write the ONNX model of a `.mlmodel` atomically and return its path."""
    model = build_onnx(read_network(mlmodel), **extra_metadata)
    with atomic_path(path, suffix=".onnx") as temporary:
        onnx.save_model(model, temporary)
    return Path(path)


def _onnx_gates(stacked: np.ndarray) -> np.ndarray:
    """Core ML's (i, f, z, o) blocks of LSTM_HIDDEN rows → ONNX's (i, o, f, c)."""
    blocks = np.split(stacked, 4)
    return np.concatenate([blocks[i] for i in ONNX_GATE_ORDER]).astype(np.float32)


def _state_slice(part: str) -> list[onnx.NodeProto]:
    """stateIn [h, c] → `part`_in (num_directions 1, batch 1, 200)."""
    return [
        helper.make_node(
            "Slice",
            [STATE_INPUT, f"{part}_start", f"{part}_end", "slice_axis"],
            [f"{part}_sliced"],
        ),
        helper.make_node("Reshape", [f"{part}_sliced", "shape_step"], [f"{part}_in"]),
    ]


def _float_info(name: str, size: int) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [size])
