"""The interface of a spec-1 activity-classifier `.mlmodel`: Turi Create 6.4's (spec §4).

Names, versions and the layer sequence every `.mlmodel` of a run has, whichever engine wrote it
(export.py here for torch runs, Turi Create's own exporter for its runs); the converters
(network.py, ../onnx.py, ../mlprogram.py) read files laid out this way.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from typing import NamedTuple

SPECIFICATION_VERSION = 1  # iOS 11; Turi Create never raises it, so neither do we
CELL_CLIP_THRESHOLD = 50000.0
BATCHNORM_EPSILON = 1e-3
STATE_INPUT = "stateIn"
STATE_OUTPUT = "stateOut"
MOTIONLAB_VERSION_KEY = "com.github.motionlab.version"
RUN_ID_KEY = "motionlab.run_id"
# Turi Create's user-defined `version` key: the activity-classifier export format, not a release.
EXPORT_FORMAT_VERSION = "2"
# Core ML's LSTM gates, in the order its weight fields and the stacked matrices keep them.
LSTM_GATES = ("inputGate", "forgetGate", "blockInput", "outputGate")


class Layer(NamedTuple):
    """One layer of the exported network: its name, protobuf kind, input and output blobs."""

    name: str
    kind: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


def probability_output(target: str) -> str:
    return f"{target}Probability"


def layer_plan(features: Sequence[str], target: str) -> list[Layer]:
    """The layer sequence of spec §4.2: export.py writes it, network.py reads it back."""
    plan = []
    if len(features) > 1:
        # A one-input concat is invalid Core ML (Turi Create issue #2945), hence the branch.
        plan.append(Layer("features", "concat", tuple(features), ("features",)))
    reshape_input = "features" if len(features) > 1 else features[0]
    plan += [
        Layer("reshape", "reshape", (reshape_input,), ("reshape",)),
        Layer("conv", "convolution", ("reshape",), ("conv",)),
        Layer("relu1", "activation", ("conv",), ("relu1",)),
        Layer("hiddenIn", "slice", (STATE_INPUT,), ("hiddenIn",)),
        Layer("cellIn", "slice", (STATE_INPUT,), ("cellIn",)),
        Layer(
            "lstm",
            "uniDirectionalLSTM",
            ("relu1", "hiddenIn", "cellIn"),
            ("lstm", "hiddenOut", "cellOut"),
        ),
        Layer(STATE_OUTPUT, "concat", ("hiddenOut", "cellOut"), (STATE_OUTPUT,)),
        Layer("dense0", "innerProduct", ("lstm",), ("dense0",)),
        Layer("bn", "batchnorm", ("dense0",), ("bn",)),
        Layer("relu6", "activation", ("bn",), ("relu6",)),
        Layer("dense1", "innerProduct", ("relu6",), ("dense1",)),
        Layer(probability_output(target), "softmax", ("dense1",), (probability_output(target),)),
    ]
    return plan


def motionlab_version() -> str:
    try:
        return importlib.metadata.version("motionlab")
    except importlib.metadata.PackageNotFoundError:  # running from a bare checkout
        return "0+unknown"
