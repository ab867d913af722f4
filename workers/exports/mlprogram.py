"""Core ML ML Program (`.mlpackage`) export with the spec-1 file's interface (iOS 15+).

Written as a MIL program with coremltools' builder from the `.mlmodel`'s weights (coreml/network.py)
and converted by `ct.convert`, so torch and Turi Create runs both have one. Same input and
output names, class labels and metadata as the `.mlmodel`; what differs is what an ML Program
can express: arrays are Float32 (Float16 inside with precision="float16"), not Double.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import IO

import coremltools as ct
import numpy as np
from coremltools.converters.mil.mil import Builder as mb
from coremltools.converters.mil.mil import Function, Program, types

from core.atomic import atomic_path
from workers.exports.coreml.interface import STATE_INPUT, STATE_OUTPUT
from workers.exports.coreml.network import ActivityNetwork, probability_name, read_network
from workers.exports.formats import NotConvertible, Precision
from workers.model.shape import CONV_CHANNELS, LSTM_HIDDEN, STATE_SIZE

# iOS 15 brought ML Programs; its LSTM op is float32 only, so a float16 program (where the
# LSTM holds most weights) needs iOS 17's.
DEPLOYMENT_TARGETS = {"float32": ct.target.iOS15, "float16": ct.target.iOS17}
# Core ML keeps LSTM gates (input, forget, block input, output); MIL wants (i, f, o, z).
MIL_GATE_ORDER = (0, 1, 3, 2)
# The classifier op names its outputs these; they are renamed to the spec-1 file's names.
_CLASS_LABEL, _PROBABILITIES, _SOFTMAX = "classLabel", "classLabel_probs", "probabilities"
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # ML Program input / output names
# Its graph passes log every op they remove at INFO: ~100 lines a conversion in the API's log.
logging.getLogger("coremltools").setLevel(logging.WARNING)


class UnsupportedInterface(NotConvertible):
    """The `.mlmodel`'s interface cannot be kept as it is in an ML Program."""


def build_mlprogram(
    network: ActivityNetwork, *, precision: Precision = "float32", **extra_metadata: str
) -> ct.models.MLModel:
    """The ML Program of `network` (held in a temporary weights folder until saved)."""
    names = [*network.features, STATE_INPUT, probability_name(network), network.target]
    reserved = {_CLASS_LABEL, _PROBABILITIES, _SOFTMAX}  # the program's own names
    invalid = [name for name in names if not IDENTIFIER.fullmatch(name) or name in reserved]
    if invalid:
        # Renamed inputs would break the app code written for the .mlmodel: refuse instead.
        raise UnsupportedInterface(
            f"an ML Program's input and output names must be identifiers "
            f"([A-Za-z_][A-Za-z0-9_]*, not {sorted(reserved)}), and {invalid} are not; train "
            "with features and a target named that way, or use the .mlmodel or .onnx file, "
            "which keep any name"
        )
    target = DEPLOYMENT_TARGETS[precision]
    model = ct.convert(
        _program(network, target),
        convert_to="mlprogram",
        minimum_deployment_target=target,
        compute_precision=ct.precision.FLOAT16 if precision == "float16" else ct.precision.FLOAT32,
        classifier_config=ct.ClassifierConfig(
            network.classes, predicted_probabilities_output=_SOFTMAX
        ),
    )
    spec = model.get_spec()
    ct.utils.rename_feature(spec, _PROBABILITIES, probability_name(network))
    ct.utils.rename_feature(spec, _CLASS_LABEL, network.target)
    description = spec.description
    outputs = {output.name: output for output in description.output}
    ordered = [outputs[n] for n in (probability_name(network), network.target, STATE_OUTPUT)]
    copies = [type(o)() for o in ordered]
    for copy, output in zip(copies, ordered, strict=True):
        copy.CopyFrom(output)
    del description.output[:]
    description.output.extend(copies)  # the spec-1 file's order
    metadata = description.metadata
    metadata.author, metadata.license = network.author, network.license
    metadata.shortDescription = network.short_description
    metadata.versionString = network.version_string
    metadata.userDefined.update({**network.metadata, "precision": precision, **extra_metadata})
    return ct.models.MLModel(spec, weights_dir=model.weights_dir, skip_model_load=True)


def _program(network: ActivityNetwork, target: ct.target) -> Program:
    """The MIL program: the spec-1 file's layers, one op (or two) each."""
    window, num_features = network.prediction_window, len(network.features)
    placeholders = {
        name: mb.placeholder(shape=(window,), dtype=types.fp32) for name in network.features
    }
    placeholders[STATE_INPUT] = mb.placeholder(shape=(STATE_SIZE,), dtype=types.fp32)
    with Function(placeholders, opset_version=target) as function:
        features = [function.inputs[name] for name in network.features]
        state = function.inputs[STATE_INPUT]
        rows = [mb.reshape(x=f, shape=[1, window]) for f in features]
        x = mb.concat(values=rows, axis=0) if num_features > 1 else rows[0]  # (F, pw)
        x = mb.reshape(x=x, shape=[1, num_features * window])
        # The window convolution is one dense layer over the flattened (F, pw) rows.
        conv_weight = network.conv_weight.reshape(CONV_CHANNELS, num_features * window)
        x = mb.relu(x=mb.linear(x=x, weight=conv_weight, bias=network.conv_bias))  # (1, 64)
        hidden = mb.slice_by_index(x=state, begin=[0], end=[LSTM_HIDDEN])
        cell = mb.slice_by_index(x=state, begin=[LSTM_HIDDEN], end=[STATE_SIZE])
        output, hidden, cell = mb.lstm(
            x=mb.reshape(x=x, shape=[1, 1, CONV_CHANNELS]),  # (seq, batch, 64)
            initial_h=mb.reshape(x=hidden, shape=[1, LSTM_HIDDEN]),
            initial_c=mb.reshape(x=cell, shape=[1, LSTM_HIDDEN]),
            weight_ih=_mil_gates(network.lstm_input_weight),
            weight_hh=_mil_gates(network.lstm_recurrent_weight),
            bias=_mil_gates(network.lstm_bias),
        )  # no cell clip: the docstring of workers/exports/onnx.py says why
        state_out = mb.concat(
            values=[
                mb.reshape(x=hidden, shape=[LSTM_HIDDEN]),
                mb.reshape(x=cell, shape=[LSTM_HIDDEN]),
            ],
            axis=0,
            name=STATE_OUTPUT,
        )
        x = mb.linear(
            x=mb.reshape(x=output, shape=[1, LSTM_HIDDEN]),
            weight=network.dense0_weight,
            bias=network.dense0_bias,
        )  # (1, 128)
        x = mb.batch_norm(
            x=x,
            mean=network.bn_mean,
            variance=network.bn_variance,
            gamma=network.bn_gamma,
            beta=network.bn_beta,
            epsilon=np.float32(network.bn_epsilon),
        )
        x = mb.linear(x=mb.relu(x=x), weight=network.dense1_weight)  # (1, C)
        probabilities = mb.softmax(x=mb.reshape(x=x, shape=[-1]), axis=0, name=_SOFTMAX)
        function.set_outputs([probabilities, state_out])
    program = Program()
    program.add_function("main", function)
    return program


def export_mlpackage_zip(
    mlmodel: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    precision: Precision = "float32",
    package_name: str = "model",
    **extra_metadata: str,
) -> Path:
    """Zip the ML Program of a `.mlmodel` atomically to `path`: one folder,
    `<package_name>.mlpackage` (Xcode names the generated class after it)."""
    model = build_mlprogram(read_network(mlmodel), precision=precision, **extra_metadata)
    with tempfile.TemporaryDirectory(prefix="motionlab-mlpackage-") as folder:
        package = Path(folder) / f"{package_name}.mlpackage"
        model.save(os.fspath(package))
        with (
            atomic_path(path, suffix=".zip") as temporary,
            zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive,
        ):
            for file in sorted(package.rglob("*")):
                if file.is_file():
                    archive.write(file, file.relative_to(folder).as_posix())
    return Path(path)


def _mil_gates(stacked: np.ndarray) -> np.ndarray:
    """Core ML's (i, f, z, o) blocks of LSTM_HIDDEN rows → MIL's (i, f, o, z)."""
    blocks = np.split(stacked, 4)
    return np.concatenate([blocks[i] for i in MIL_GATE_ORDER]).astype(np.float32)


def unzip_package(
    archive: str | os.PathLike[str] | IO[bytes], folder: str | os.PathLike[str]
) -> Path:
    """Extract a downloaded zip into `folder`; returns the one `.mlpackage` folder inside."""
    with zipfile.ZipFile(archive) as source:
        source.extractall(folder)
    packages = sorted(Path(folder).glob("*.mlpackage"))
    if len(packages) != 1:
        raise ValueError(f"the archive holds {len(packages)} .mlpackage folders, not one")
    return packages[0]
