"""Networks and classifiers for the export tests, with every weight made to matter, and the
reference streams an exported model must reproduce (torch's step, ONNX Runtime's session).

A freshly initialised ActivityNet has zero biases and identity BatchNorm statistics, so an
exporter that dropped or misplaced them would still pass. These helpers randomise all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from core.recipes import MOTIONLAB, TURICREATE
from workers.engines.torch.classifier import ActivityClassifier
from workers.engines.torch.model import ActivityNet
from workers.engines.torch.standardise import Standardiser
from workers.exports.coreml.network import ActivityNetwork
from workers.model.hyperparameters import Hyperparameters
from workers.model.shape import STATE_SIZE


def random_net(
    *, num_features: int, num_classes: int, prediction_window: int, seed: int = 0
) -> ActivityNet:
    torch.manual_seed(seed)
    net = ActivityNet(
        num_features=num_features, num_classes=num_classes, prediction_window=prediction_window
    )
    with torch.no_grad():
        for name, parameter in net.named_parameters():
            if "bias" in name:
                parameter.uniform_(-0.5, 0.5)
        net.bn.weight.uniform_(0.5, 1.5)
        net.bn.running_mean.uniform_(-0.3, 0.3)
        net.bn.running_var.uniform_(0.5, 2.0)
    return net.eval()


def net_from_network(network: ActivityNetwork) -> ActivityNet:
    """The torch network holding an exported model's weights (e.g. Turi Create's own).

    Core ML keeps the LSTM gates in torch's order (input, forget, block input, output) and
    one bias per gate: torch's input-side bias takes it, its recurrent-side bias stays zero.
    """
    net = ActivityNet(
        num_features=len(network.features),
        num_classes=len(network.classes),
        prediction_window=network.prediction_window,
    )
    weights = {
        "conv.weight": network.conv_weight,
        "conv.bias": network.conv_bias,
        "lstm.weight_ih_l0": network.lstm_input_weight,
        "lstm.weight_hh_l0": network.lstm_recurrent_weight,
        "lstm.bias_ih_l0": network.lstm_bias,
        "lstm.bias_hh_l0": np.zeros_like(network.lstm_bias),
        "dense0.weight": network.dense0_weight,
        "dense0.bias": network.dense0_bias,
        "bn.weight": network.bn_gamma,
        "bn.bias": network.bn_beta,
        "bn.running_mean": network.bn_mean,
        "bn.running_var": network.bn_variance,
        "dense1.weight": network.dense1_weight,
    }
    state = net.state_dict()
    state.update({name: torch.from_numpy(np.asarray(w, np.float32)) for name, w in weights.items()})
    net.load_state_dict(state, strict=True)
    net.bn.eps = network.bn_epsilon
    return net.eval()


def wrap(
    net: ActivityNet,
    *,
    classes: Sequence[Any],
    features: Sequence[str],
    recipe: str = TURICREATE,
) -> ActivityClassifier:
    """A classifier around `net`, as training with `recipe` would return it: the motionlab
    recipe's network carries a standardisation folded into its first layer."""
    if recipe == MOTIONLAB:
        rng = np.random.default_rng(len(features))
        standardiser = Standardiser(
            mean=rng.normal(0, 3, len(features)), sd=rng.uniform(0.2, 5, len(features))
        )
        standardiser.fold_into(net)
    return ActivityClassifier(
        net=net,
        classes=classes,
        features=features,
        target="activity",
        session_id="session",
        params=Hyperparameters(
            prediction_window=net.prediction_window, max_iterations=7, random_seed=0, recipe=recipe
        ),
        num_sessions=1,
        num_examples=0,
        training_time=0.0,
        training_metrics={},
    )


def session_rows(num_rows: int, num_features: int, seed: int = 1) -> np.ndarray:
    """(n, F) float32 sensor-like rows: float32 so torch and NumPy see identical inputs."""
    rng = np.random.default_rng(seed)
    time = np.arange(num_rows)[:, None]  # (n, 1)
    phase = rng.uniform(0, 2 * np.pi, num_features)  # (F,)
    wave = np.sin(time / 7.0 + phase) * 2.0  # (n, F)
    return (wave + rng.normal(0, 0.5, (num_rows, num_features))).astype(np.float32)


def torch_stream(
    step: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    rows: np.ndarray,
    prediction_window: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Drive step() like an app: zero state, one window at a time, last window zero-padded."""
    num_windows = -(-len(rows) // prediction_window)
    padded = np.zeros((num_windows * prediction_window, rows.shape[1]), np.float32)
    padded[: len(rows)] = rows
    state = np.zeros(STATE_SIZE)
    probabilities = []
    for index in range(num_windows):
        window = padded[index * prediction_window : (index + 1) * prediction_window]
        p, state = step(window, state)
        probabilities.append(p)
    return np.array(probabilities), state  # (W, C), (400,)


def onnx_stream(session, features, rows, window):
    """Drive the ONNX model (an onnxruntime.InferenceSession) like an app: zero state, one
    window at a time, stateOut → stateIn, the last window zero-padded."""
    num_windows = -(-len(rows) // window)
    padded = np.zeros((num_windows * window, rows.shape[1]), np.float32)
    padded[: len(rows)] = rows
    state = np.zeros(STATE_SIZE, np.float32)
    probabilities, labels = [], []
    for index in range(num_windows):
        chunk = padded[index * window : (index + 1) * window]
        inputs = {name: chunk[:, j] for j, name in enumerate(features)}
        p, label, state = session.run(None, {**inputs, "stateIn": state})
        probabilities.append(p)
        labels.append(label[0])
    return np.array(probabilities), labels, state
