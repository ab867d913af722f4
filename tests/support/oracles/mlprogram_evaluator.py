"""A NumPy evaluator for the ML Programs mlprogram.py writes, read back from the `.mlpackage`.

Core ML does not run on Linux. The saved package is loaded back into a MIL program by
coremltools' own proto reader (the ops, their constants from weights/weight.bin) and its ops
are executed here in order, with MIL's semantics, in float64 except where the program casts to
float16 (then values are rounded to float16, as the device stores them). Any other op raises
UnsupportedSpecError instead of being silently mis-evaluated.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import coremltools as ct
import numpy as np
from coremltools.converters.mil.frontend.milproto.load import load as load_program

from workers.exports.coreml.network import UnsupportedSpecError


class MLProgramEvaluator:
    """predict({feature: (pw,), ..., "stateIn": (400,)}) → the package's outputs."""

    def __init__(self, package: str | os.PathLike[str]):
        model = ct.models.MLModel(os.fspath(package), skip_model_load=True)
        self.spec = model.get_spec()
        if self.spec.WhichOneof("Type") != "mlProgram":
            raise UnsupportedSpecError(f"model type {self.spec.WhichOneof('Type')!r}")
        weights = Path(package) / "Data" / "com.apple.CoreML" / "weights"
        program = load_program(self.spec, self.spec.specificationVersion, os.fspath(weights))
        self.function = program.functions["main"]
        self.input_names = list(self.function.inputs)
        self.output_names = [output.name for output in self.spec.description.output]
        self.predicted_feature = self.spec.description.predictedFeatureName
        self.probabilities_name = self.spec.description.predictedProbabilitiesName
        for op in self.function.operations:
            if op.op_type not in _OPS and op.op_type != "const":
                raise UnsupportedSpecError(f"op {op.name!r}: {op.op_type} is not supported")

    @property
    def class_labels(self) -> list[str]:
        """The labels of the program's classify op, in probability order."""
        classify = [op for op in self.function.operations if op.op_type == "classify"]
        if len(classify) != 1:
            raise UnsupportedSpecError(f"{len(classify)} classify ops, expected one")
        return [str(label) for label in classify[0].inputs["classes"].val]

    @property
    def op_types(self) -> list[str]:
        return [op.op_type for op in self.function.operations]

    def predict(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, var in self.function.inputs.items():
            value = np.asarray(inputs[name], dtype=np.float64)
            if value.shape != tuple(var.shape):
                raise ValueError(f"input {name!r}: shape {value.shape}, expected {var.shape}")
            values[name] = value
        for op in self.function.operations:
            if op.op_type == "const":
                values[op.outputs[0].name] = op.outputs[0].val
                continue
            arguments = {
                key: _value(var, values)
                for key, var in op.inputs.items()
                if not isinstance(var, (list, tuple))
            }
            arguments |= {
                key: [_value(v, values) for v in var]
                for key, var in op.inputs.items()
                if isinstance(var, (list, tuple))
            }
            results = _OPS[op.op_type](arguments)
            if op.op_type != "cast" and _is_half(arguments):  # float16 in, float16 out
                results = [
                    r.astype(np.float16) if isinstance(r, np.ndarray) else r for r in results
                ]
            for var, result in zip(op.outputs, results, strict=True):
                values[var.name] = result
        # The program's outputs, in the description's (renamed) order.
        return dict(
            zip(
                self.output_names,
                [values[var.name] for var in self._described_outputs()],
                strict=True,
            )
        )

    def _described_outputs(self) -> list[Any]:
        by_name = {var.name: var for var in self.function.outputs}
        return [by_name[name] for name in self.output_names]


def _value(var: Any, values: dict[str, Any]) -> Any:
    return values.get(var.name, var.val)


def _is_half(arguments: dict[str, Any]) -> bool:
    flat = [
        v for value in arguments.values() for v in (value if isinstance(value, list) else [value])
    ]
    return any(isinstance(v, np.ndarray) and v.dtype == np.float16 for v in flat)


def _f64(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=np.float64)


def _reshape(a: dict) -> list:
    return [np.reshape(a["x"], [int(s) for s in np.atleast_1d(a["shape"])])]


def _concat(a: dict) -> list:
    return [np.concatenate(a["values"], axis=int(a["axis"]))]


def _linear(a: dict) -> list:
    weight = _f64(a["weight"])
    bias = _f64(a["bias"]) if a.get("bias") is not None else 0.0
    return [_f64(a["x"]) @ weight.T + bias]


def _slice(a: dict) -> list:
    index = tuple(slice(int(b), int(e)) for b, e in zip(a["begin"], a["end"], strict=True))
    return [np.asarray(a["x"])[index]]


def _lstm(a: dict) -> list:
    """MIL lstm, one direction, gates (i, f, o, z), output_sequence False, cell clip."""
    if str(a.get("direction", "forward")) != "forward" or a.get("peephole") is not None:
        raise UnsupportedSpecError("only a forward LSTM without peepholes is supported")
    activations = [str(a.get(k)) for k in ("recurrent_activation", "cell_activation", "activation")]
    if activations != ["sigmoid", "tanh", "tanh"] or bool(a.get("output_sequence")):
        raise UnsupportedSpecError(f"lstm activations {activations} / sequence output")
    w_ih, w_hh, bias = _f64(a["weight_ih"]), _f64(a["weight_hh"]), _f64(a["bias"])
    h, c = _f64(a["initial_h"]), _f64(a["initial_c"])  # (batch, H)
    if a.get("clip") is not None:  # MIL's text leaves open what it clips
        raise UnsupportedSpecError("an lstm with clip is not modelled")

    def sigmoid(v: np.ndarray) -> np.ndarray:
        return 0.5 * (1.0 + np.tanh(0.5 * v))

    for step in _f64(a["x"]):  # (batch, I) per time step
        i, f, o, z = np.split(step @ w_ih.T + h @ w_hh.T + bias, 4, axis=-1)
        z = np.tanh(z)
        c = sigmoid(f) * c + sigmoid(i) * z
        h = sigmoid(o) * np.tanh(c)
    return [h[None], h, c]  # (1, batch, H), (batch, H), (batch, H)


def _batch_norm(a: dict) -> list:
    scale = _f64(a["gamma"]) / np.sqrt(_f64(a["variance"]) + float(a["epsilon"]))
    return [(_f64(a["x"]) - _f64(a["mean"])) * scale + _f64(a["beta"])]  # channels on axis 1


def _softmax(a: dict) -> list:
    x = _f64(a["x"])
    shifted = np.exp(x - x.max(axis=int(a["axis"]), keepdims=True))
    return [shifted / shifted.sum(axis=int(a["axis"]), keepdims=True)]


def _classify(a: dict) -> list:
    probabilities = _f64(a["probabilities"]).ravel()
    classes = [str(c) for c in np.atleast_1d(a["classes"])]
    return [
        classes[int(np.argmax(probabilities))],
        dict(zip(classes, probabilities.tolist(), strict=True)),
    ]


def _cast(a: dict) -> list:
    dtype = {"fp16": np.float16, "fp32": np.float32, "fp64": np.float64}.get(str(a["dtype"]))
    if dtype is None:
        raise UnsupportedSpecError(f"cast to {a['dtype']}")
    return [np.asarray(a["x"]).astype(dtype)]


_OPS: dict[str, Callable[[dict], list]] = {
    "reshape": _reshape,
    "concat": _concat,
    "linear": _linear,
    "relu": lambda a: [np.maximum(np.asarray(a["x"]), 0)],
    "slice_by_index": _slice,
    "lstm": _lstm,
    "batch_norm": _batch_norm,
    "softmax": _softmax,
    "classify": _classify,
    "cast": _cast,
}
