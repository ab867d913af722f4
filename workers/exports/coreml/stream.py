"""An exported `.mlmodel`'s network stepped window by window in NumPy: the loop an iOS app
runs, for live classification of runs whose own engine cannot step windows (Turi Create's
model predicts in its own Python 3.8 process).

The arithmetic is Core ML's layer by layer (spec §4.2, interface.py's layer_plan): convolution
over the whole window, ReLU, one LSTM step (Core ML's gate order: input, forget, block input,
output), dense, batch norm, ReLU, dense, softmax — in float64 on the file's float32 weights,
batched over independent streams.

Production code, not a test oracle: live streams of Turi Create runs classify with it. It
steps the weights network.py reads; it shares no code with tests/support/oracles, which
evaluate the file's protobuf layers independently.
"""

from __future__ import annotations

import numpy as np

from workers.exports.coreml.network import ActivityNetwork
from workers.model.shape import LSTM_HIDDEN


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-values))


class NetworkStreamer:
    """Steps the network of an activity-classifier `.mlmodel` (a live.Streamer)."""

    def __init__(self, network: ActivityNetwork):
        self.network = network
        self.classes: list = list(network.classes)
        self.features: list[str] = list(network.features)
        f64 = np.float64
        self._conv = network.conv_weight.astype(f64)  # (64, F, pw)
        self._conv_bias = network.conv_bias.astype(f64)
        self._lstm_input = network.lstm_input_weight.astype(f64).T  # (64, 800)
        self._lstm_recurrent = network.lstm_recurrent_weight.astype(f64).T  # (200, 800)
        self._lstm_bias = network.lstm_bias.astype(f64)
        self._dense0 = network.dense0_weight.astype(f64).T  # (200, 128)
        self._dense0_bias = network.dense0_bias.astype(f64)
        scale = network.bn_gamma.astype(f64) / np.sqrt(
            network.bn_variance.astype(f64) + network.bn_epsilon
        )
        self._bn_scale = scale
        self._bn_shift = network.bn_beta.astype(f64) - network.bn_mean.astype(f64) * scale
        self._dense1 = network.dense1_weight.astype(f64).T  # (128, C)

    @property
    def prediction_window(self) -> int:
        return self.network.prediction_window

    def step_many(self, windows: np.ndarray, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, pw, F) windows and (B, 400) states [h, c] → (B, C) probabilities, new states."""
        conv = np.einsum("btf,oft->bo", windows, self._conv) + self._conv_bias  # (B, 64)
        hidden, cell = states[:, :LSTM_HIDDEN], states[:, LSTM_HIDDEN:]
        gates = np.maximum(conv, 0.0) @ self._lstm_input + hidden @ self._lstm_recurrent
        gates += self._lstm_bias  # (B, 800): input, forget, block input, output
        i, f, z, o = np.split(gates, 4, axis=1)
        cell = _sigmoid(f) * cell + _sigmoid(i) * np.tanh(z)
        hidden = _sigmoid(o) * np.tanh(cell)
        normalised = (hidden @ self._dense0 + self._dense0_bias) * self._bn_scale + self._bn_shift
        logits = np.maximum(normalised, 0.0) @ self._dense1  # (B, C)
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True), np.concatenate([hidden, cell], axis=1)
